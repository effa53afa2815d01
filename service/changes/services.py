"""Recording every write as a ChangeEvent, in the transaction of the write itself."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, Protocol

import psycopg
from sqlalchemy import Connection, Engine, Select, Table, func, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from service.auth.permissions import readable_by
from service.changes.models import ChangeEvent
from service.dates import PartialDate
from service.db import pipelined, utcnow
from service.pagination import Page, PageRequest, keyset_page
from service.vocabularies import ChangeOperation, EntityType, Role

LOG = logging.getLogger(__name__)
_PENDING = "pending_change_events"
# Held from the insert of a transaction's change events to its commit, so that `seq` order
# is commit order and a client following /changes never skips a late-committing writer.
_CHANGE_FEED_LOCK = 7_201_011
_TAKE_CHANGE_FEED_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
CHANGE_EVENTS: Table = ChangeEvent.__table__  # type: ignore[assignment]
# A write queuing at least this many change events (a bulk import) stages them with COPY
# before it takes the lock; below it, the lock and one INSERT go in a single round trip.
BULK_CHANGES = 1_000
_STAGED_COLUMNS = [column.name for column in CHANGE_EVENTS.c if column.name != "seq"]
_CREATE_STAGING = text(
    "CREATE TEMPORARY TABLE staged_change_events (LIKE change_events) ON COMMIT DROP"
)
_COPY_TO_STAGING = f"COPY staged_change_events (seq, {', '.join(_STAGED_COLUMNS)}) FROM STDIN"
# Reserve a block of `count` seqs and answer its last (nextval is evaluated first).
_TAKE_SEQ_BLOCK = text(
    "SELECT setval(pg_get_serial_sequence('change_events', 'seq'),"
    " nextval(pg_get_serial_sequence('change_events', 'seq')) + :count - 1)"
)
_MOVE_STAGED = text(
    f"INSERT INTO change_events (seq, {', '.join(_STAGED_COLUMNS)})"
    f" SELECT seq + :first, {', '.join(_STAGED_COLUMNS)}"
    " FROM staged_change_events ORDER BY seq"
)
_DROP_STAGING = text("DROP TABLE staged_change_events")
_COPY_CHUNK = 50_000


@dataclass(frozen=True)
class RecordRef:
    """A record written without an ORM object (a bulk insert): its id is all a ChangeEvent needs."""

    id: int


@dataclass
class _PendingChange:
    record: Any
    entity: EntityType
    op: ChangeOperation
    changes: dict[str, Any]


def json_value(value: Any) -> Any:
    """A value as the change feed stores it: plain JSON."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, PartialDate):
        return value.isoformat()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    if isinstance(value, dict):
        return {key: json_value(item) for key, item in value.items()}
    return value


def record_change(
    session: Session,
    record: Any,
    entity: EntityType,
    op: ChangeOperation,
    changes: dict[str, Any] | None = None,
) -> None:
    """Queue a ChangeEvent; it is written when the session commits, with the record's id."""
    session.info.setdefault(_PENDING, []).append(
        _PendingChange(record, entity, op, {k: json_value(v) for k, v in (changes or {}).items()})
    )


def write_pending_changes(session: Session) -> None:
    """Session `before_commit` hook: insert the queued ChangeEvents, in order."""
    pending: list[_PendingChange] = session.info.pop(_PENDING, [])
    if not pending:
        return
    session.flush()
    now = utcnow()
    rows = [
        {
            "occurred_at": now,
            "actor": session.info.get("actor"),
            "actor_key_id": session.info.get("actor_key_id"),
            "entity": change.entity,
            "entity_id": change.record.id,
            "op": change.op,
            "changes": change.changes,
            "request_id": session.info.get("request_id"),
            "service_request_id": session.info.get("service_request_id"),
        }
        for change in pending
    ]
    connection = session.connection()
    if connection.dialect.name == "postgresql" and len(rows) >= BULK_CHANGES:
        _stage_then_insert(connection, rows)
        return
    # The lock and the insert in one round trip: neither answer is read.
    with pipelined(connection):
        if connection.dialect.name == "postgresql":
            connection.execute(_TAKE_CHANGE_FEED_LOCK, {"key": _CHANGE_FEED_LOCK})
        # One multi-row INSERT, in queue order (inline: no RETURNING of the new seq, which
        # would be a result to read).
        connection.execute(insert(CHANGE_EVENTS).inline(), rows)


def _stage_then_insert(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Write many change events while holding the feed's lock as briefly as the database
    allows: every other write in the service waits for that lock. The rows go by COPY to a
    temporary table first, numbered in queue order, without the lock; under it, a block of
    `seq`s is taken at once and the rows move over in one INSERT … SELECT, which is much
    cheaper than a multi-row INSERT's parameters. Taking the block with `setval` is safe
    because every writer of change events takes its `seq`s under the same lock."""
    dialect = connection.dialect
    # The values as the INSERT of the small path would send them (the JSON encoding of
    # `changes` above all), so the two paths store the same rows.
    processors = [
        (name, CHANGE_EVENTS.c[name].type.dialect_impl(dialect).bind_processor(dialect))
        for name in _STAGED_COLUMNS
    ]
    connection.execute(_CREATE_STAGING)
    driver = connection.connection.driver_connection
    try:
        # One COPY per chunk: each is a statement of its own, within the statement timeout.
        for start in range(0, len(rows), _COPY_CHUNK):
            with driver.cursor() as cursor, cursor.copy(_COPY_TO_STAGING) as copy:  # type: ignore[union-attr]
                for ordinal, row in enumerate(rows[start : start + _COPY_CHUNK], start):
                    copy.write_row(
                        [ordinal]
                        + [
                            row[name] if process is None else process(row[name])
                            for name, process in processors
                        ]
                    )
    except psycopg.Error as error:
        # COPY goes around SQLAlchemy: its failure becomes SQLAlchemy's error, as any other
        # statement's would (an outage is then a 503, not a 500).
        raise DBAPIError.instance(None, None, error, psycopg.Error) from error
    connection.execute(_TAKE_CHANGE_FEED_LOCK, {"key": _CHANGE_FEED_LOCK})
    last = connection.execute(_TAKE_SEQ_BLOCK, {"count": len(rows)}).scalar_one()
    connection.execute(_MOVE_STAGED, {"first": last - len(rows) + 1})
    # Dropped now, not only at commit: a test's transaction (or a caller's savepoints) may
    # write in bulk twice before it ends.
    connection.execute(_DROP_STAGING)


def discard_pending_changes(session: Session) -> None:
    """Session `after_rollback` hook: a rolled-back write leaves no event behind."""
    session.info.pop(_PENDING, None)


def install_change_recording(factory: sessionmaker[Session]) -> None:
    from sqlalchemy import event

    event.listen(factory, "before_commit", write_pending_changes)
    event.listen(
        factory, "after_soft_rollback", lambda session, _tx: discard_pending_changes(session)
    )


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
    """The highest committed `seq`, on a connection of its own."""
    with engine.connect() as connection:
        head = connection.execute(select(func.max(ChangeEvent.seq))).scalar()
    return None if head is None else int(head)


def list_changes(
    session: Session,
    *,
    page: PageRequest,
    filters: dict[str, Any],
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
    filters = dict(filters)
    wait = filters.pop("wait", 0)
    statement: Select[Any] = select(ChangeEvent)
    hidden = set(EntityType) - readable_by(reader)
    if hidden:
        statement = statement.where(ChangeEvent.entity.not_in(sorted(hidden)))
    for field in ("entity", "entity_id", "actor", "actor_key_id"):
        if field in filters:
            statement = statement.where(getattr(ChangeEvent, field) == filters[field])
    if "after" in filters and page.after is None:
        page = PageRequest(after=filters["after"], size=page.size)
    deadline = clock() + wait
    while True:
        seen = waiter.seen()
        result = keyset_page(session, statement, ChangeEvent.seq, page)
        if result.items or clock() >= deadline:
            return result
        # End the read transaction (and give its connection back while this waits): the
        # next look must see what has committed since.
        session.rollback()
        waiter.wait(seen, max(0.0, deadline - clock()))
