"""Finished answers to public reads, kept per worker process, and never stale.

Every committed write records its ChangeEvents in its own transaction, and `seq` is given
in commit order (service/changes takes a lock for it). So the change feed's head, the
highest committed `seq`, names a state of the data: two reads that find the same head read
the same data. An answer is kept with the head read *before* it was computed, and given
again only while a fresh read of the head (one index lookup) finds that same value. A write
from any worker or any host moves the head and so retires every entry at once: the cache
gives up no correctness for its speed. It pays where reads repeat between writes: a
dashboard refreshing every few seconds, SDKs paging through the same lists.

The key holds all an answer depends on besides the data: the whole URL (the host and path
appear in `Link` headers; the query string as sent) and today's date (overdue commitments,
the statistics' `as_of`). Answers do not depend on who asks: the key's role is checked
before the view, and so before the cache. Only 200 answers are kept; entries leave the
least recently used first once the worker's budget (READ_CACHE_MB) is spent.

A request with `Cache-Control: no-cache` is computed afresh (and its answer kept), which is
also how the benchmark measures the work a miss costs.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from flask import Response, current_app, request
from prometheus_client import Counter
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from service.api import etag_of_body, get_session
from service.db import Database

READS = Counter(
    "policy_tracker_read_cache_total",
    "Public reads answered from the read cache (hit) or computed (miss, or bypass when the "
    "client sent Cache-Control: no-cache).",
    ["result"],
)

HEAD_QUERY = "SELECT max(seq) FROM change_events"
HEAD_CONNECTION_NAME = "policy-tracker read-cache head"


@dataclass(frozen=True)
class Entry:
    head: int | None
    body: bytes
    headers: tuple[tuple[str, str], ...]

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(name) + len(value) for name, value in self.headers)


class ReadCache:
    """A least-recently-used map from request keys to answers, bounded in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[str, str], Entry] = OrderedDict()
        self._bytes = 0
        # gthread workers serve several requests in one process.
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def get(self, key: tuple[str, str], head: int | None) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.head != head:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple[str, str], entry: Entry) -> None:
        # One answer may take at most an eighth of the budget, so that a few huge pages
        # cannot push out everything else.
        if entry.size > self.max_bytes // 8:
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = entry
            self._bytes += entry.size
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _drop(self, key: tuple[str, str]) -> None:
        self._bytes -= self._entries.pop(key).size

    def __len__(self) -> int:
        return len(self._entries)


def change_feed_head(session: Session) -> int | None:
    """The highest committed change `seq` (None before the first change): one index lookup."""
    head = session.connection().exec_driver_sql(HEAD_QUERY).scalar()
    return None if head is None else int(head)


class HeadReader:
    """Reads the head on PostgreSQL over a connection of the worker's own, in autocommit,
    as one prepared statement: a hit then costs one round trip and no ORM session, no pool
    checkout (together they were half of a hit's time in the app, bench/inprocess.py).

    The connection is opened on first use in each process (gunicorn forks the preloaded
    app) and each thread (gthread workers). When it fails (a database restart), it is
    dropped and the head is read through the request's session instead, which answers a
    database still down with the usual 503. A session bound to a connection (the tests'
    transaction) is always read through, since only it sees its own uncommitted writes.
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        self._local = threading.local()

    def _fast_path_applies(self) -> bool:
        bind = self.database.session_factory.kw.get("bind")
        return self.database.is_postgresql and isinstance(bind, Engine)

    def _own_connection(self) -> Any:
        held = getattr(self._local, "held", None)
        if held is not None and held[0] == os.getpid():
            return held[1]
        pooled = self.database.engine.raw_connection()
        connection = pooled.driver_connection
        assert connection is not None, "a connection just taken from the pool is open"
        # Out of the pool for good: this worker keeps it for its head checks alone.
        pooled.detach()
        connection.autocommit = True
        # Named, so that an operator sees in pg_stat_activity what this idle connection is.
        connection.execute(f"SET application_name = '{HEAD_CONNECTION_NAME}'")
        self._local.held = (os.getpid(), connection)
        return connection

    def _drop_own_connection(self) -> None:
        held = getattr(self._local, "held", None)
        self._local.held = None
        if held is not None and held[0] == os.getpid():
            with contextlib.suppress(Exception):
                held[1].close()

    def read(self) -> int | None:
        if not self._fast_path_applies():
            return change_feed_head(get_session())
        try:
            row = self._own_connection().execute(HEAD_QUERY, prepare=True).fetchone()
        except (psycopg.Error, SQLAlchemyError, OSError):
            self._drop_own_connection()
            return change_feed_head(get_session())
        head = row[0] if row is not None else None
        return None if head is None else int(head)


def read_cache() -> ReadCache:
    cache: ReadCache = current_app.extensions["read_cache"]
    return cache


def head_reader() -> HeadReader:
    reader: HeadReader = current_app.extensions["head_reader"]
    return reader


def request_key() -> tuple[str, str]:
    """The URL as sent (scheme, host, path, query) and today's date; taken from the WSGI
    environment rather than `request.url`, which re-encodes it as an IRI on every call."""
    environ = request.environ
    url = "{}://{}{}{}?{}".format(
        environ["wsgi.url_scheme"],
        environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}",
        environ.get("SCRIPT_NAME", ""),
        environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
    )
    return url, date.today().isoformat()


def cached_read(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve `view`'s 200 answers from the read cache while the data has not changed."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        cache = read_cache()
        if not cache.enabled:
            return view(*args, **kwargs)
        key = request_key()
        head = head_reader().read()
        bypass = "no-cache" in request.headers.get("Cache-Control", "").lower()
        entry = None if bypass else cache.get(key, head)
        if entry is not None:
            READS.labels("hit").inc()
            return Response(entry.body, status=200, headers=list(entry.headers))
        READS.labels("bypass" if bypass else "miss").inc()
        response = view(*args, **kwargs)
        if isinstance(response, Response) and response.status_code == 200:
            body = response.get_data()
            headers = tuple(
                (name, value)
                for name, value in response.headers.items()
                if name != "Content-Length"
            )
            # The ETag too, computed once here rather than on every hit (api.apply_etag).
            etag = ("ETag", f'"{etag_of_body(body)}"')
            cache.put(key, Entry(head, body, (*headers, etag)))
        return response

    return wrapper
