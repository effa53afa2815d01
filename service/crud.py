"""The steps every resource's services share: find a live record, add one, change one,
soft-delete one, each recorded as a ChangeEvent. Services compose these and commit once."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Insert,
    Select,
    Table,
    bindparam,
    insert,
    inspect,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from service.changes.services import json_value, record_change
from service.db import utcnow
from service.errors import Conflict, InvalidInput, NotFound
from service.vocabularies import ChangeOperation, EntityType

M = TypeVar("M")
Check = Callable[[Any], None]

MAX_ID = 2**31 - 1
MAX_SLUG_LENGTH = 100

# Lower-case words joined by hyphens, one word at least holding a letter: never all digits,
# so a slug is never mistaken for an id. (No look-ahead: SDK generators and fuzzers read it.)
# Always matched whole (fullmatch): with `match`, "$" also accepts a trailing newline.
SLUG_PATTERN = r"^(?:[a-z0-9]+-)*[0-9]*[a-z][a-z0-9]*(?:-[a-z0-9]+)*$"
_SLUG = re.compile(SLUG_PATTERN)


def is_slug(text: str) -> bool:
    """Whether the text is a slug: what a record may be given, and all a ref is looked up by."""
    return len(text) <= MAX_SLUG_LENGTH and _SLUG.fullmatch(text) is not None


def is_id(ref: str) -> bool:
    """Whether a path or filter value is an id rather than a slug ("¹" is a digit to
    Python, but not an id)."""
    return ref.isascii() and ref.isdigit()


def parse_id(text: str) -> int | None:
    """The record id that the text states, or None when it states none: ASCII digits of a
    number within the id column's range. Converted only when short enough to be one, so a
    number of thousands of digits never reaches int() (which refuses over 4,300)."""
    digits = text.lstrip("0")
    if not is_id(text) or len(digits) > len(str(MAX_ID)):
        return None
    value = int(digits or "0")
    return value if 1 <= value <= MAX_ID else None


def entity_label(entity: EntityType) -> str:
    return entity.value.replace("_", " ")


def live(model: Any) -> Select[Any]:
    """SELECT the records of `model` that are not soft-deleted, nor gone with the record
    they belong to (a model that has no deletion of its own says how: `live_condition`)."""
    statement = select(model)
    if hasattr(model, "deleted_at"):
        statement = statement.where(model.deleted_at.is_(None))
    if hasattr(model, "live_condition"):
        statement = statement.where(model.live_condition())
    return statement


def find(
    session: Session,
    model: type[M],
    entity: EntityType,
    record_id: int,
    *,
    for_update: bool = False,
) -> M:
    """The live record with this id, or NotFound. `for_update` locks its row until commit."""
    if not 1 <= record_id <= MAX_ID:
        raise not_found(entity, record_id)
    statement = live(model).where(model.id == record_id)  # type: ignore[attr-defined]
    if not for_update:
        # One record: its collections in the same statement, not one more query each.
        # (A locking read keeps them apart: FOR UPDATE cannot lock an outer join's side.)
        statement = statement.options(*_joined_collections(model))
    if for_update:
        statement = statement.with_for_update()
    record = session.scalars(statement).unique().first()
    if record is None:
        raise not_found(entity, record_id)
    return record  # type: ignore[no-any-return]


def not_found(entity: EntityType, record_id: int) -> NotFound:
    """The error for an id that names no live record of `entity`."""
    return NotFound(f"No {entity_label(entity)} with id {record_id}.")


def lock_parent(
    session: Session,
    model: Any,
    entity: EntityType,
    record_id: int,
    parent_column: Any,
    parent_model: Any,
) -> int:
    """Lock the row of the live record's parent (a commitment's agreement) until commit, and
    return its id, in one statement; NotFound when there is no such live record."""
    if not 1 <= record_id <= MAX_ID:
        raise NotFound(f"No {entity_label(entity)} with id {record_id}.")
    statement = _lock_parent_statement(model, parent_column, parent_model)
    found = session.connection().execute(statement, {"record_id": record_id}).first()
    if found is None:
        raise NotFound(f"No {entity_label(entity)} with id {record_id}.")
    return int(found[0])


# Built once per kind of record: building a statement costs about as much as running it.
@functools.cache
def _lock_parent_statement(model: Any, parent_column: Any, parent_model: Any) -> Select[Any]:
    parent_id = (
        live(model).with_only_columns(parent_column).where(model.id == bindparam("record_id"))
    ).scalar_subquery()
    return (
        live(parent_model)
        .with_only_columns(parent_model.id)
        .where(parent_model.id == parent_id)
        .with_for_update()
    )


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


def _joined_collections(model: type[Any]) -> list[Any]:
    """Joined loading for the relationships `model` loads eagerly, one level deep."""
    return [
        joinedload(relationship.class_attribute)
        for relationship in inspect(model).relationships
        if relationship.lazy == "selectin"
    ]


def find_by_ref(
    session: Session, model: type[M], entity: EntityType, ref: str, *, for_update: bool = False
) -> M:
    """The live record addressed by id ("12") or by slug ("letter-of-intent")."""
    if is_id(ref):
        record_id = parse_id(ref)
        if record_id is None:
            raise NotFound(f"No {entity_label(entity)} with id {ref[:20]}.")
        return find(session, model, entity, record_id, for_update=for_update)
    if not is_slug(ref):
        raise NotFound(f"No {entity_label(entity)} with slug {ref[:100]!r}.")
    statement = live(model).where(model.slug == ref)  # type: ignore[attr-defined]
    if for_update:
        statement = statement.with_for_update()
    else:
        statement = statement.options(*_joined_collections(model))
    record = session.scalars(statement).unique().first()
    if record is None:
        raise NotFound(f"No {entity_label(entity)} with slug {ref!r}.")
    return record  # type: ignore[no-any-return]


def referenced(
    session: Session, model: type[M], entity: EntityType, record_id: int, field: str
) -> M:
    """A record the input refers to in `field`: a missing one is the client's error (422)."""
    try:
        return find(session, model, entity, record_id)
    except NotFound as error:
        raise InvalidInput(error.detail, errors={field: [error.detail]}) from error


def referenced_all(
    session: Session, model: type[M], entity: EntityType, record_ids: Iterable[int], field: str
) -> list[M]:
    """All the records the input lists in `field`, in the order given, or a 422."""
    wanted = list(dict.fromkeys(record_ids))
    if not wanted:
        return []
    found = {
        record.id: record
        for record in session.scalars(live(model).where(model.id.in_(wanted)))  # type: ignore[attr-defined]
    }
    missing = [record_id for record_id in wanted if record_id not in found]
    if missing:
        label = entity_label(entity)
        raise InvalidInput(
            f"No {label} with id {', '.join(map(str, missing))}.",
            errors={field: [f"No {label} with id {record_id}." for record_id in missing]},
        )
    return [found[record_id] for record_id in wanted]


def ensure_unique(
    session: Session,
    model: Any,
    entity: EntityType,
    field: str,
    value: Any,
    *,
    exclude_id: int | None = None,
) -> None:
    """Refuse a second live record with the same `field` value (409, naming the field)."""
    if value is None:
        return
    statement = live(model).where(getattr(model, field) == value)
    if exclude_id is not None:
        statement = statement.where(model.id != exclude_id)
    if session.scalars(statement.limit(1)).first() is not None:
        message = f"Another {entity_label(entity)} already has {field} {value!r}."
        raise Conflict(message, errors={field: [message]})


# Timestamps, internal bookkeeping, and secrets (an API key's hash) stay out of the feed.
_NOT_IN_FEED = frozenset(
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


# A secret's change is in the feed, its value never is.
_SECRET = frozenset({"secret"})
HIDDEN = "(hidden)"


def snapshot(record: Any) -> dict[str, Any]:
    """The record's fields as the API names them (a partial date as "2024-03"), for a
    `create` ChangeEvent. Timestamps and internal bookkeeping are left out."""
    return _snapshot(type(record), lambda key: getattr(record, key))


def row_snapshot(model: type[Any], row: dict[str, Any]) -> dict[str, Any]:
    """The same for a row written without an ORM object (a bulk insert): `row` maps the
    model's attributes (composites by their own name) to values; a missing one is None."""
    return _snapshot(model, lambda key: row.get(key))


def _snapshot(model: type[Any], value_of: Callable[[str], Any]) -> dict[str, Any]:
    mapper = inspect(model)
    values: dict[str, Any] = {}
    in_composites: set[str] = set()
    for composite in mapper.composites:
        values[composite.key] = json_value(value_of(composite.key))
        in_composites.update(prop.key for prop in composite.props)
    for attribute in mapper.column_attrs:
        if attribute.key in _NOT_IN_FEED or attribute.key in in_composites:
            continue
        value = value_of(attribute.key)
        values[attribute.key] = HIDDEN if attribute.key in _SECRET else json_value(value)
    return values


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


def assign(record: Any, values: dict[str, Any]) -> dict[str, Any]:
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
        if field not in _NOT_IN_FEED
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


def ensure_no_cycle(
    session: Session,
    model: Any,
    entity: EntityType,
    record_id: int | None,
    parent_id: int | None,
    field: str = "parent_id",
) -> None:
    """Refuse a parent that is the record itself or one of its descendants (409)."""
    seen: set[int] = set()
    current = parent_id
    while current is not None and current not in seen:
        if current == record_id:
            message = f"The {entity_label(entity)} would become its own ancestor."
            raise Conflict(message, errors={field: [message]})
        seen.add(current)
        current = session.scalar(select(model.parent_id).where(model.id == current))


def refuse_if_children(session: Session, model: Any, entity: EntityType, record_id: int) -> None:
    """A record with live children cannot be deleted: they would point at nothing (409)."""
    child = session.scalar(live(model).where(model.parent_id == record_id).limit(1))
    if child is not None:
        label = entity_label(entity)
        raise Conflict(f"This {label} has child records; delete or move them first.")


def id_for_ref(session: Session, model: Any, ref: str) -> int | None:
    """The id of the live record with this id or slug, or None."""
    if is_id(ref):
        record_id = parse_id(ref)
        condition = model.id == record_id if record_id is not None else model.id.is_(None)
    elif is_slug(ref):
        condition = model.slug == ref
    else:
        return None
    return session.scalar(select(model.id).where(condition, model.deleted_at.is_(None)))


def referenced_ref(session: Session, model: Any, entity: EntityType, ref: str, field: str) -> int:
    """The id of the live record that a filter or a scope names in `field`, by id or slug.
    Naming no record is the client's error (422): an empty list or zero counts would be a
    wrong answer given as a right one."""
    record_id = id_for_ref(session, model, ref)
    if record_id is None:
        label = entity_label(entity)
        message = (
            f"No {label} with id {ref[:20]}."
            if is_id(ref)
            else f"No {label} with slug {ref[:100]!r}."
        )
        raise InvalidInput(message, errors={field: [message]})
    return record_id


def refers_to(
    column: Any, session: Session, model: Any, entity: EntityType, ref: str, field: str
) -> ColumnElement[bool]:
    """A filter condition: `column` holds the id of the record that `ref` (the query
    parameter `field`) addresses; a 422 when there is none."""
    return column == referenced_ref(session, model, entity, ref, field)  # type: ignore[no-any-return]


def subtree_ids(
    session: Session, model: Any, entity: EntityType, ref: str, field: str
) -> list[int]:
    """The record addressed by `ref` (the query parameter `field`) and every live record
    under it (by `parent_id`); a 422 when there is none.

    Filtering by "defence" also finds what is filed under "space security"; by "India",
    what belongs to its ministries.
    """
    root = referenced_ref(session, model, entity, ref, field)
    rows = session.execute(
        select(model.id, model.parent_id).where(model.deleted_at.is_(None))
    ).all()
    children: dict[int, list[int]] = {}
    for row in rows:
        if row.parent_id is not None:
            children.setdefault(row.parent_id, []).append(row.id)
    found, frontier = [root], [root]
    while frontier:
        frontier = [child for parent in frontier for child in children.get(parent, [])]
        found.extend(frontier)
    return found


def find_child(
    session: Session,
    model: type[M],
    entity: EntityType,
    parent_field: str,
    parent_id: int,
    record_id: int,
    *,
    for_update: bool = False,
) -> M:
    """A nested record (an agreement's event), which must belong to the given parent."""
    record = find(session, model, entity, record_id, for_update=for_update)
    if getattr(record, parent_field) != parent_id:
        raise NotFound(f"No {entity_label(entity)} with id {record_id} here.")
    return record
