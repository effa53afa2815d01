"""Recording every write as a ChangeEvent, in the transaction of the write itself: queued
as the write goes, written in `seq` order under the feed's lock at its commit (a bulk write's
behind a fence, by COPY)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from itertools import islice
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    insert,
    inspect,
    text,
)
from sqlalchemy.orm import Session, sessionmaker

from service.changes.models import ChangeEvent
from service.core.dates import PartialDate
from service.core.db import copy_rows, pipelined, utcnow
from service.core.vocabularies import ChangeOperation, EntityType

LOG = logging.getLogger(__name__)
_PENDING = "pending_change_events"
# Held from the insert of a transaction's change events to its commit, so that `seq` order
# is commit order and a client following /changes never skips a late-committing writer.
_CHANGE_FEED_LOCK = 7_201_011
_TAKE_CHANGE_FEED_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
CHANGE_EVENTS: Table = ChangeEvent.__table__  # type: ignore[assignment]
# A write queuing at least this many change events (a bulk import) takes its block of
# `seq`s behind a fence and inserts them without the lock; below it, the lock and one INSERT
# go in a single round trip.
BULK_CHANGES = 1_000
_EVENT_COLUMNS = [column.name for column in CHANGE_EVENTS.c if column.name != "seq"]
_COPY_CHUNK = 50_000
# The transaction's id, and whether it holds the feed's lock already (a small write earlier
# in the same transaction: a test's, or a caller's savepoints).
_XID_AND_LOCK = text(
    "SELECT pg_current_xact_id()::text, EXISTS (SELECT FROM pg_locks"
    " WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted"
    " AND classid = 0 AND objid = :key AND objsubid = 1)"
)
# A fence is dead once its writer aborted (or is too old for its status to be known); a
# committed writer deleted its own fence. Live fences are never touched.
_CLEAR_DEAD_FENCES = text(
    "DELETE FROM change_feed_fences WHERE pg_xact_status(xid) IS NULL"
    " OR pg_xact_status(xid) = 'aborted'"
)
# Reserve a block of `count` seqs and answer its last (nextval is evaluated first).
_TAKE_SEQ_BLOCK = text(
    "SELECT setval(pg_get_serial_sequence('change_events', 'seq'),"
    " nextval(pg_get_serial_sequence('change_events', 'seq')) + :count - 1)"
)
_PUT_FENCE = text(
    "INSERT INTO change_feed_fences (first_seq, last_seq, xid)"
    " VALUES (:first, :last, CAST(:xid AS xid8))"
)
_LIFT_FENCE = text("DELETE FROM change_feed_fences WHERE first_seq = :first")


# Timestamps, internal bookkeeping, and secrets (an API key's hash) stay out of the feed.
NOT_IN_FEED = frozenset(
    {
        "created_at",
        "updated_at",
        "deleted_at",
        "status_progress",
        "key_hash",
        "depth",
        "due_by",
        "effective_progress",
    }
)


_FEED_COLUMNS: dict[type[Any], tuple[str, ...]] = {}


def feed_columns(model: type[Any]) -> tuple[str, ...]:
    """The fields of a record a `create` ChangeEvent holds from its columns, as the API
    names them: a composite (a partial date) by its own name, not its columns; the rest
    but NOT_IN_FEED. A write may add fields that are no column (a commitment's themes)."""
    if model not in _FEED_COLUMNS:
        mapper = inspect(model)
        in_composites = {prop.key for composite in mapper.composites for prop in composite.props}
        columns = (
            attribute.key
            for attribute in mapper.column_attrs
            if attribute.key not in NOT_IN_FEED and attribute.key not in in_composites
        )
        _FEED_COLUMNS[model] = (*(composite.key for composite in mapper.composites), *columns)
    return _FEED_COLUMNS[model]


# What a kind of record's change events hold beside its columns: lists kept in tables of
# their own, recorded by the writes that change them (a create's `extra`, `list_change`).
LISTS_IN_FEED: dict[EntityType, tuple[str, ...]] = {
    EntityType.AGREEMENT: ("themes",),
    EntityType.AGREEMENT_EVENT: ("signer_ids",),
    EntityType.ASSESSMENT: ("source_ids",),
    EntityType.COMMITMENT: ("themes",),
    EntityType.INDICATOR: ("periods",),
    EntityType.MEETING: ("agreements", "agenda_commitment_ids"),
    EntityType.MEETING_SERIES: ("organization_ids",),
}


@dataclass(frozen=True)
class RecordId:
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


@dataclass
class _SharedChanges:
    """ChangeEvents of a bulk write whose `changes` are each one of a few `shared` dicts
    with the integer fields `varying` set event by event (a new record's id, its parent's):
    each event is (record id, index of its dict in `shared`, its values of `varying`).
    Held so, a million events are a million small tuples, and each shared dict is encoded
    once (`_encodings`)."""

    entity: EntityType
    op: ChangeOperation
    shared: list[dict[str, Any]]
    varying: tuple[str, ...]
    events: list[tuple[int, int, tuple[int, ...]]]

    def __len__(self) -> int:
        return len(self.events)

    def changes(self, index: int, values: tuple[int, ...]) -> dict[str, Any]:
        return {**self.shared[index], **dict(zip(self.varying, values, strict=True))}


def record_shared_changes(
    session: Session,
    entity: EntityType,
    op: ChangeOperation,
    *,
    shared: list[dict[str, Any]],
    varying: tuple[str, ...],
    events: list[tuple[int, int, tuple[int, ...]]],
) -> None:
    """Queue a ChangeEvent for each of `events`, in order: (record id, index in `shared`,
    values of `varying`). Its changes are that shared dict with the `varying` fields set to
    those integers, the dict plain JSON already (json_value's answer). For the records of a
    bulk write, which share all their fields but a few."""
    session.info.setdefault(_PENDING, []).append(
        _SharedChanges(entity, op, shared, varying, events)
    )


def _expanded(pending: list[Any]) -> Iterator[tuple[EntityType, int, ChangeOperation, Any]]:
    """Each queued event as (entity, record id, op, changes)."""
    for item in pending:
        if isinstance(item, _SharedChanges):
            for record_id, index, values in item.events:
                yield item.entity, record_id, item.op, item.changes(index, values)
        else:
            yield item.entity, item.record.id, item.op, item.changes


def write_pending_changes(session: Session) -> None:
    """Session `before_commit` hook: insert the queued ChangeEvents, in order."""
    pending: list[_PendingChange | _SharedChanges] = session.info.pop(_PENDING, [])
    if not pending:
        return
    session.flush()
    # What every event of one commit shares.
    common = {
        "occurred_at": utcnow(),
        "actor": session.info.get("actor"),
        "actor_key_id": session.info.get("actor_key_id"),
        "request_id": session.info.get("request_id"),
        "service_request_id": session.info.get("service_request_id"),
    }
    connection = session.connection()
    count = sum(len(item) if isinstance(item, _SharedChanges) else 1 for item in pending)
    if connection.dialect.name == "postgresql" and count >= BULK_CHANGES:
        _fence_then_copy(connection, common, pending, count)
        return
    rows = [
        {**common, "entity": entity, "entity_id": record_id, "op": op, "changes": changes}
        for entity, record_id, op, changes in _expanded(pending)
    ]
    # The lock and the insert in one round trip: neither answer is read.
    with pipelined(connection):
        if connection.dialect.name == "postgresql":
            connection.execute(_TAKE_CHANGE_FEED_LOCK, {"key": _CHANGE_FEED_LOCK})
        # One multi-row INSERT, in queue order (inline: no RETURNING of the new seq, which
        # would be a result to read).
        connection.execute(insert(CHANGE_EVENTS).inline(), rows)


def _fence_then_copy(
    connection: Connection, common: dict[str, Any], pending: list[Any], count: int
) -> None:
    """Write many change events while holding the feed's lock only for as long as a small
    write does: every other write in the service waits for that lock, and a bulk import's
    events take seconds to insert.

    Under the lock, in a short transaction of its own on a second connection, the write
    reserves its block of `seq`s and records a fence over it: a row naming this
    transaction. Then, without the lock, it copies its events into the block and deletes
    its fence, in its own transaction: the fence lifts when the events commit, at the same
    instant. Meanwhile, smaller writes take the `seq`s after the block and commit; readers
    of the feed stop below every live fence (`below_fences`), so none of them skips the
    block that commits later. A write that aborts leaves a dead fence behind, which
    readers ignore and the next fence clears.

    A transaction that holds the lock already keeps it to its commit whatever this does:
    it takes its block directly (the second connection would wait for it forever)."""
    xid, holds_lock = connection.execute(_XID_AND_LOCK, {"key": _CHANGE_FEED_LOCK}).one()
    if holds_lock:
        last = connection.execute(_TAKE_SEQ_BLOCK, {"count": count}).scalar_one()
        _copy_events(connection, common, pending, last - count + 1)
        return
    first = _reserve_block(connection.engine, xid, count)
    _copy_events(connection, common, pending, first)
    connection.execute(_LIFT_FENCE, {"first": first})


def _reserve_block(engine: Engine, xid: str, count: int) -> int:
    """Reserve `count` seqs behind a fence of the transaction `xid`; answer the first."""
    with engine.connect() as fencing, fencing.begin():
        fencing.execute(_TAKE_CHANGE_FEED_LOCK, {"key": _CHANGE_FEED_LOCK})
        fencing.execute(_CLEAR_DEAD_FENCES)
        last: int = fencing.execute(_TAKE_SEQ_BLOCK, {"count": count}).scalar_one()
        first = last - count + 1
        fencing.execute(_PUT_FENCE, {"first": first, "last": last, "xid": xid})
    return first


def _copy_events(
    connection: Connection, common: dict[str, Any], pending: list[Any], first: int
) -> None:
    """COPY the `pending` events into change_events, numbered in queue order from `first`,
    each with the `common` values."""
    dialect = connection.dialect

    def processor(name: str) -> Callable[[Any], Any]:
        process = CHANGE_EVENTS.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        return (lambda value: value) if process is None else process

    # The values as the INSERT of the small path would send them (the JSON encoding of
    # `changes` above all), so the two paths store the same rows. What all the events share
    # is processed once, and each entity and operation once.
    template = [
        processor(name)(common[name]) if name in common else None for name in _EVENT_COLUMNS
    ]
    position = {name: index + 1 for index, name in enumerate(_EVENT_COLUMNS)}  # after seq
    entity_at, entity_id_at, op_at, changes_at = (
        position[name] for name in ("entity", "entity_id", "op", "changes")
    )
    entity_value = processor("entity")
    op_value = processor("op")
    encoded = processor("changes")
    entities: dict[EntityType, Any] = {}
    ops: dict[ChangeOperation, Any] = {}

    def rows() -> Iterator[list[Any]]:
        seq = first
        for item in pending:
            if item.entity not in entities:
                entities[item.entity] = entity_value(item.entity)
            if item.op not in ops:
                ops[item.op] = op_value(item.op)
            row = [seq, *template]
            row[entity_at] = entities[item.entity]
            row[op_at] = ops[item.op]
            if not isinstance(item, _SharedChanges):
                row[entity_id_at] = item.record.id
                row[changes_at] = encoded(item.changes)
                yield row
                seq += 1
                continue
            encodings = [_encodings(encoded, shared, item.varying) for shared in item.shared]
            for record_id, index, values in item.events:
                pieces = encodings[index]
                row = row.copy()
                row[0] = seq
                row[entity_id_at] = record_id
                row[changes_at] = (
                    encoded(item.changes(index, values))
                    if pieces is None
                    else pieces[0] + "".join(map(_joined, values, pieces[1:]))
                )
                yield row
                seq += 1

    queued = rows()
    # One COPY per chunk: each is a statement of its own, within the statement timeout.
    while chunk := list(islice(queued, _COPY_CHUNK)):
        copy_rows(connection, "change_events", ["seq", *_EVENT_COLUMNS], chunk)


def _joined(value: int, piece: str) -> str:
    return str(value) + piece


def _encodings(
    encode: Callable[[Any], Any], shared: dict[str, Any], varying: tuple[str, ...]
) -> list[str] | None:
    """The encoding of `shared` with its `varying` integer fields cut out: the pieces before,
    between and after them, so that an event's encoding is the pieces joined by its integers
    (an integer encodes as its digits). Found by encoding `shared` with marks in those fields,
    numbers found nowhere else in its encoding. None when the encoding is not text."""
    plain = encode({**shared, **dict.fromkeys(varying, 0)})
    if not isinstance(plain, str):
        return None
    marks: list[str] = []
    candidate = 7_340_987_655_123_456_789
    while len(marks) < len(varying):
        candidate += 1
        if str(candidate) not in plain:
            marks.append(str(candidate))
    text = encode({**shared, **dict(zip(varying, map(int, marks), strict=True))})
    pieces = []
    for mark in marks:
        before, found, text = text.partition(mark)
        if not found:
            return None
        pieces.append(before)
    pieces.append(text)
    return pieces


def discard_pending_changes(session: Session) -> None:
    """Session `after_rollback` hook: a rolled-back write leaves no event behind."""
    session.info.pop(_PENDING, None)


def install_change_recording(factory: sessionmaker[Session]) -> None:
    from sqlalchemy import event

    event.listen(factory, "before_commit", write_pending_changes)
    event.listen(
        factory, "after_soft_rollback", lambda session, _tx: discard_pending_changes(session)
    )
