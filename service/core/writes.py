"""The steps every write shares: add a record, change its fields, soft-delete it, each
recorded as a ChangeEvent; flush and commit, a uniqueness race the checks could not see
answered as a 409. Services compose these and commit once."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import (
    Insert,
    Table,
    insert,
    inspect,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from service.changes.recording import NOT_IN_FEED, feed_columns, json_value, record_change
from service.core.db import utcnow
from service.core.errors import Conflict
from service.core.vocabularies import ChangeOperation, EntityType

M = TypeVar("M")
Check = Callable[[Any], None]


@functools.cache
def _insert_returning_row(table: Table) -> Insert:
    return insert(table).returning(*table.c)


def insert_row(session: Session, record: Any) -> None:
    """Insert a new record with one Core INSERT, outside the unit of work, for a write whose
    unit of work would cost more than the write itself. The record then joins the session
    as what was written: every column as the database returned it, nothing left to flush."""
    mapper = inspect(type(record))
    table = mapper.local_table
    state = inspect(record).dict
    values = {
        attribute.columns[0].key: state[attribute.key]
        for attribute in mapper.column_attrs
        if attribute.key in state
    }
    with conflicts_as_409(session):
        inserted = session.connection().execute(_insert_returning_row(table), values)
    row = inserted.one()._mapping
    for attribute in mapper.column_attrs:
        set_committed_value(record, attribute.key, row[attribute.columns[0]])
    make_transient_to_detached(record)
    session.add(record)


# A secret's change is in the feed, its value never is.
_SECRET = frozenset({"secret"})
HIDDEN = "(hidden)"


def snapshot(record: Any) -> dict[str, Any]:
    """The record's fields as the API names them (a partial date as "2024-03"), for a
    `create` ChangeEvent (feed_columns)."""
    return _snapshot(type(record), lambda key: getattr(record, key))


def row_snapshot(model: type[Any], row: dict[str, Any]) -> dict[str, Any]:
    """The same for a row written without an ORM object (a bulk insert): `row` maps the
    model's attributes (composites by their own name) to values; a missing one is None."""
    return _snapshot(model, lambda key: row.get(key))


def _snapshot(model: type[Any], value_of: Callable[[str], Any]) -> dict[str, Any]:
    return {
        key: HIDDEN if key in _SECRET else json_value(value_of(key)) for key in feed_columns(model)
    }


def add(
    session: Session, record: M, entity: EntityType, *, extra: dict[str, Any] | None = None
) -> M:
    """Insert a record and queue its `create` ChangeEvent."""
    session.add(record)
    flush(session)
    record_change(
        session, record, entity, ChangeOperation.CREATE, {**snapshot(record), **(extra or {})}
    )
    return record


def assign(record: Any, values: Mapping[str, Any]) -> dict[str, Any]:
    """Set the given fields; return what really changed, as {field: [old, new]}."""
    changes: dict[str, Any] = {}
    for field, new in values.items():
        old = getattr(record, field)
        if json_value(old) != json_value(new):
            changes[field] = [json_value(old), json_value(new)]
            setattr(record, field, new)
    return changes


def list_change(field: str, old: list[Any], new: list[Any]) -> dict[str, Any]:
    """The change of a list-valued field (themes, signers), if it changed."""
    if json_value(old) == json_value(new):
        return {}
    return {field: [json_value(old), json_value(new)]}


def record_update(
    session: Session, record: Any, entity: EntityType, changes: dict[str, Any]
) -> None:
    """Queue one `update` ChangeEvent for a PATCH; a PATCH that changed nothing records nothing.
    Internal bookkeeping (a depth, a cached date) is left out of the feed."""
    changes = {
        field: [HIDDEN, HIDDEN] if field in _SECRET else change
        for field, change in changes.items()
        if field not in NOT_IN_FEED
    }
    if changes:
        flush(session)
        record_change(session, record, entity, ChangeOperation.UPDATE, changes)


def soft_delete(session: Session, record: Any, entity: EntityType) -> None:
    """Mark a record deleted; it disappears from reads, and the change feed says so."""
    record.deleted_at = utcnow()
    flush(session)
    record_change(session, record, entity, ChangeOperation.DELETE, {})


@contextmanager
def conflicts_as_409(session: Session) -> Iterator[None]:
    """Turn a uniqueness race the checks could not see into a 409, rolling the write back."""
    try:
        yield
    except IntegrityError as error:
        session.rollback()
        raise Conflict("The change conflicts with another record (a duplicate?).") from error


def flush(session: Session) -> None:
    with conflicts_as_409(session):
        session.flush()


def commit(session: Session) -> None:
    """Commit the one transaction of a write (its ChangeEvents are written first)."""
    with conflicts_as_409(session):
        session.commit()
