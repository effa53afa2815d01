"""Finished answers to public reads, kept per worker process, and never stale.

Every committed write records its ChangeEvents in its own transaction, and `seq` is given
in commit order (service/changes takes a lock for it). So the change feed's head, the
highest committed `seq`, names a state of the data: two reads that find the same head read
the same data. An answer is kept with the head read *before* it was computed, and given
again only while a fresh read of the head (one index lookup) finds that same value. A write
from any worker or any host moves the head and so retires every entry at once: the cache
gives up no correctness for its speed. It pays where reads repeat between writes: a
dashboard refreshing every few seconds, SDKs paging through the same lists.

The key holds all an answer depends on besides the data: the whole URL (the path appears
in `Link` headers; the query string as sent), today's date (overdue commitments, the
statistics' `as_of`), and what its headers depend on (whether a key was sent, the allowed
Origin). Bodies do not depend on who asks: the caller is let through (or not) by the
before-request hook before the cache is consulted. (The change feed, whose answer does
depend on the caller's role, is never kept.) Only 200 answers are kept, finished:
with their ETag and safety headers, so that a hit costs the request cycle and one head
read, no view, no serialization, no header work. Entries leave the least recently used
first once the worker's budget (READ_CACHE_MB) is spent.

One exception on PostgreSQL: a bulk write (an import) takes its block of `seq`s up front,
behind a fence, and commits it later, while smaller writes take the `seq`s after the block
and commit meanwhile (service/changes). The head then names no state of the data: an
answer kept under head H during the fence would be given again after the import lands,
for the import's `seq`s are lower than H and the head stays H. So the head's statement
also tells whether a live fence exists, under the same snapshot, and while one does,
answers are given but not kept. (An answer kept before the fence is still good during
it: the block comes after every `seq` reserved before, so its commit moves the head.)

A request with `Cache-Control: no-cache` is computed afresh (and its answer kept), which is
also how the benchmark measures the work a miss costs.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date

from flask import Response, current_app, g, request
from prometheus_client import Counter
from sqlalchemy.orm import Session

from service.changes.models import LIVE_FENCE
from service.http.api import answer_is_finished, get_session, is_cacheable, mark_answer_finished
from service.http.browser import allowed_origin
from service.speedups.lookups import Lookups

READS = Counter(
    "policy_tracker_read_cache_total",
    "Public reads answered from the read cache (hit) or computed (miss, or bypass when the "
    "client sent Cache-Control: no-cache).",
    ["result"],
)

HITS, MISSES, BYPASSES = (READS.labels(result) for result in ("hit", "miss", "bypass"))

# The head, and whether a live fence exists, in one statement (one snapshot). SQLite has no
# fences: one writer at a time keeps `seq` order commit order there.
HEAD_QUERY = (
    "SELECT max(seq),"
    f" EXISTS (SELECT FROM change_feed_fences WHERE {LIVE_FENCE})"
    " FROM change_events"
)
_SQLITE_HEAD_QUERY = "SELECT max(seq), 0 FROM change_events"


@dataclass(frozen=True)
class Head:
    """The highest committed change `seq` (None before the first change), and whether a
    bulk write's fence is live, when answers must not be kept."""

    seq: int | None
    fenced: bool


@dataclass(frozen=True)
class Entry:
    head: int | None
    body: bytes
    headers: tuple[tuple[str, str], ...]


# What an entry costs besides its body and headers: the Entry, its place in the map.
_ENTRY_OVERHEAD = 200


def footprint(key: tuple[str, str], entry: Entry) -> int:
    """The bytes an entry holds in memory, Python's objects included: for an answer of one
    record that is about twice its body and header text, which the budget once counted
    alone (and so let the cache grow to twice READ_CACHE_MB)."""
    return (
        _ENTRY_OVERHEAD
        + sum(sys.getsizeof(part) for part in key)
        + sys.getsizeof(entry.body)
        + sys.getsizeof(entry.headers)
        + sum(sys.getsizeof(pair) + sum(map(sys.getsizeof, pair)) for pair in entry.headers)
    )


class ReadCache:
    """A least-recently-used map from request keys to answers, bounded in bytes.

    Every entry holds the head it was computed under, and an entry of another head can
    never be given again (the head only moves on). So the first sight of a new head drops
    every entry at once: under steady writes the cache holds the answers of the current
    head only, not a budget's worth of dead ones waiting to be pushed out.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[str, str], tuple[Entry, int]] = OrderedDict()
        self._bytes = 0
        self._head: int | None = None
        # gthread workers serve several requests in one process.
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def see(self, head: int | None) -> None:
        """The head was read: if it moved, no entry kept can be given again."""
        with self._lock:
            self._see(head)

    def get(self, key: tuple[str, str], head: int | None) -> Entry | None:
        with self._lock:
            self._see(head)
            held = self._entries.get(key)
            if held is None:
                return None
            self._entries.move_to_end(key)
            return held[0]

    def put(self, key: tuple[str, str], entry: Entry) -> None:
        size = footprint(key, entry)
        # One answer may take at most an eighth of the budget, so that a few huge pages
        # cannot push out everything else.
        if size > self.max_bytes // 8:
            return
        with self._lock:
            if _order(entry.head) < _order(self._head):
                return  # computed before a write this cache has seen since: already stale
            self._see(entry.head)
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (entry, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        with self._lock:
            self._empty(head=None)

    def _see(self, head: int | None) -> None:
        if head != self._head:
            self._empty(head)

    def _empty(self, head: int | None) -> None:
        self._entries.clear()
        self._bytes = 0
        self._head = head

    def _drop(self, key: tuple[str, str]) -> None:
        self._bytes -= self._entries.pop(key)[1]

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes_held(self) -> int:
        return self._bytes


def _order(head: int | None) -> int:
    """Heads in the order they come: None (no change yet) before every seq."""
    return -1 if head is None else head


def change_feed_head(session: Session) -> Head:
    """The head through a session: one index lookup (and a look at the fences)."""
    connection = session.connection()
    query = HEAD_QUERY if connection.dialect.name == "postgresql" else _SQLITE_HEAD_QUERY
    seq, fenced = connection.exec_driver_sql(query).one()
    return Head(None if seq is None else int(seq), bool(fenced))


class HeadReader:
    """Reads the head on the worker's own connection (service/lookups.py): a hit then costs
    one round trip and no ORM session, which a hit through the request's session costs
    (bench/notes.md, the row of `08543e4`). Where that connection does not serve (not
    PostgreSQL, the tests' transaction) or has failed, through the request's session."""

    def __init__(self, lookups: Lookups) -> None:
        self.lookups = lookups

    def read(self) -> Head:
        rows = self.lookups.rows(HEAD_STATEMENT)
        if rows is None:
            return change_feed_head(get_session())
        [(seq, fenced)] = rows
        return Head(None if seq is None else int(seq), fenced == "t")


HEAD_STATEMENT = b"policy_tracker_head"
# For the worker's own connection: the statements it prepares.
LOOKUPS = {HEAD_STATEMENT: HEAD_QUERY}


def read_cache() -> ReadCache:
    cache: ReadCache = current_app.extensions["read_cache"]
    return cache


def head_reader() -> HeadReader:
    reader: HeadReader = current_app.extensions["head_reader"]
    return reader


def request_key() -> tuple[str, str]:
    """The URL as sent (scheme, host, path, query), today's date, and what shapes the
    answer's headers besides the data: whether a key was sent (Cache-Control: no-store and
    Vary: Authorization) and the Origin when CORS allows it. Built from the WSGI environment
    rather than `request.url`, which re-encodes it as an IRI on every call."""
    environ = request.environ
    url = "{}://{}{}{}?{}".format(
        environ["wsgi.url_scheme"],
        environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}",
        environ.get("SCRIPT_NAME", ""),
        environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
    )
    shape = f"key={'HTTP_AUTHORIZATION' in environ} origin={allowed_origin()}"
    return url, f"{date.today().isoformat()} {shape}"


def answer_from_cache() -> Response | None:
    """Before-request hook, once the caller is let through: for a read of a `cacheable` view,
    the kept answer if the data has not changed since, headers and all (the after-request
    hook then only adds the request id, or answers 304). Otherwise None, and the view's
    answer will be kept (`keep_answer`)."""
    if request.method != "GET":
        return None
    cache = read_cache()
    view = current_app.view_functions.get(request.endpoint or "")
    if not cache.enabled or not is_cacheable(view):
        return None
    key = request_key()
    reader_head = head_reader().read()
    head = reader_head.seq
    bypass = "no-cache" in request.headers.get("Cache-Control", "").lower()
    if bypass:
        cache.see(head)  # a new head retires the answers of the old, this one's included
    entry = None if bypass else cache.get(key, head)
    if entry is None:
        (BYPASSES if bypass else MISSES).inc()
        if not reader_head.fenced:
            g.read_cache_slot = (key, head)
        return None
    HITS.inc()
    mark_answer_finished()
    return Response(entry.body, status=200, headers=list(entry.headers))


def keep_answer(response: Response) -> None:
    """After-request hook, once the answer has its ETag and safety headers: keep a computed
    200 answer to a `cacheable` view, under the head read before it was computed. The request
    id is added afterwards: it is the request's own."""
    slot = g.pop("read_cache_slot", None)
    if slot is None or answer_is_finished() or response.status_code != 200:
        return
    key, head = slot
    headers = tuple(
        (name, value) for name, value in response.headers.items() if name != "Content-Length"
    )
    read_cache().put(key, Entry(head, response.get_data(), headers))
