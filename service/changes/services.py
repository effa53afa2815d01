"""The change feed as its followers read it: every committed ChangeEvent in `seq` order, below
every live fence, filtered by what the caller may see; a long poll's wait for the next one;
the feed's head, watched once per process."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import (
    BigInteger,
    Dialect,
    Engine,
    Select,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.orm import Session

from service.auth.permissions import readable_by
from service.changes.inputs import ChangeFilters
from service.changes.models import LIVE_FENCE, ChangeEvent
from service.core.pagination import Page, PageRequest, keyset_page
from service.core.vocabularies import EntityType, Role

LOG = logging.getLogger(__name__)

# Below every live fence, in the same statement as the events it bounds (the largest
# bigint when there is none).
_FEED_CAP = func.coalesce(
    literal_column(
        f"(SELECT min(first_seq) FROM change_feed_fences WHERE {LIVE_FENCE})", BigInteger
    ),
    literal(2**63 - 1, BigInteger),
)


def below_fences(statement: Select[Any], dialect: Dialect) -> Select[Any]:
    """`statement`, over change events, limited to those below every live fence on
    PostgreSQL: what a follower of the feed may see without ever skipping a block that a
    bulk write still in progress will commit later (`_fence_then_copy`)."""
    if dialect.name != "postgresql":
        return statement
    return statement.where(ChangeEvent.seq < _FEED_CAP)


# How often a waiting long poll (or the process's head watcher) looks at the feed again.
POLL_INTERVAL_SECONDS = 0.25


class ChangeWaiter(Protocol):
    """How a long poll waits between two looks at its page."""

    def seen(self) -> int:
        """A mark of what the waiter knows now, taken before the page is read."""
        ...

    def wait(self, seen: int, timeout: float) -> None:
        """Return once something may have committed since `seen`, or after `timeout`."""
        ...


@dataclass(frozen=True)
class Polling:
    """Each long poll looks again every POLL_INTERVAL_SECONDS (the tests drive `sleep`)."""

    sleep: Callable[[float], None] = time.sleep

    def seen(self) -> int:
        return 0

    def wait(self, seen: int, timeout: float) -> None:
        self.sleep(min(POLL_INTERVAL_SECONDS, max(0.0, timeout)))


class HeadWatcher:
    """The change feed's head, looked at once per POLL_INTERVAL_SECONDS for all the long
    polls of a process, while any waits: a poll reads its page again only when the head has
    moved, so idle polls cost one tiny query a quarter second between them, not one each.

    The look runs in a thread (a greenlet under gevent) started by the first waiter and
    ending when none is left. A waiter takes `seen()` before it reads its page, so a commit
    after that read moves the head past what the watcher had seen, and wakes it. A look
    that fails (the database restarting) counts as no change: the polls then end at their
    deadline, as they would with nothing to report."""

    def __init__(self, read_head: Callable[[], int | None]) -> None:
        self._read_head = read_head
        self._changed = threading.Condition()
        self._head: int | None = None
        # Rises each time the head is seen to move (from unknown, too).
        self._moves = 0
        self._waiting = 0
        self._looking = False

    def seen(self) -> int:
        with self._changed:
            return self._moves

    def wait(self, seen: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            self._waiting += 1
            try:
                if not self._looking:
                    self._looking = True
                    threading.Thread(
                        target=self._look, name="change-feed-head", daemon=True
                    ).start()
                while self._moves == seen:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return
                    self._changed.wait(remaining)
            finally:
                self._waiting -= 1

    def _look(self) -> None:
        while True:
            try:
                head = self._read_head()
            except Exception:
                LOG.warning("the change feed's head could not be read", exc_info=True)
            else:
                with self._changed:
                    if head != self._head:
                        self._head = head
                        self._moves += 1
                        self._changed.notify_all()
            with self._changed:
                if not self._waiting:
                    self._looking = False
                    return
            time.sleep(POLL_INTERVAL_SECONDS)


def read_head(engine: Engine) -> int | None:
    """The highest `seq` a follower may see now (below every live fence), on a connection
    of its own: it moves when a fence lifts, too."""
    with engine.connect() as connection:
        statement = below_fences(select(func.max(ChangeEvent.seq)), connection.dialect)
        head = connection.execute(statement).scalar()
    return None if head is None else int(head)


def _readable(statement: Select[Any], reader: Role | None) -> Select[Any]:
    """Only the changes of the kinds of record a `reader` of that role may read."""
    hidden = set(EntityType) - readable_by(reader)
    return statement.where(ChangeEvent.entity.not_in(sorted(hidden))) if hidden else statement


def change_head(session: Session, *, reader: Role | None = None) -> dict[str, int]:
    """The feed's head as `reader` sees it: the `seq` of the latest change it may read that
    a follower may see now (0 when none), to follow the feed from with `after`."""
    statement = below_fences(
        _readable(select(func.max(ChangeEvent.seq)), reader), session.get_bind().dialect
    )
    return {"seq": int(session.scalar(statement) or 0)}


def list_changes(
    session: Session,
    *,
    page: PageRequest,
    filters: ChangeFilters,
    reader: Role | None = None,
    waiter: ChangeWaiter = Polling(),
    clock: Callable[[], float] = time.monotonic,
) -> Page[ChangeEvent]:
    """ChangeEvents in `seq` order (commit order), after `after` when given, of the kinds
    of record a `reader` of that role (None: no key) may read: the others are not in the
    feed at all, whatever the filters, so neither a page nor a long poll ever shows them.

    With `wait`, an empty answer is held back for up to that many seconds until a change
    the reader may see commits (a long poll): a mirror follows the feed without hammering it.
    """
    filters = filters.copy()
    wait = filters.pop("wait", 0)
    statement = _readable(select(ChangeEvent), reader)
    for field in ("entity", "entity_id", "actor", "actor_key_id"):
        if field in filters:
            statement = statement.where(getattr(ChangeEvent, field) == filters[field])
    if "after" in filters and page.after is None:
        page = PageRequest(after=filters["after"], size=page.size)
    deadline = clock() + wait
    while True:
        seen = waiter.seen()
        result = keyset_page(
            session, below_fences(statement, session.get_bind().dialect), ChangeEvent.seq, page
        )
        if result.items or clock() >= deadline:
            return result
        # End the read transaction (and give its connection back while this waits): the
        # next look must see what has committed since.
        session.rollback()
        waiter.wait(seen, max(0.0, deadline - clock()))
