"""Finding records for the services: a live record by id, slug or reference, the parent a
write locks, the records an input refers to; and the refusals (404, 422, 409) a service
raises when one is not there, not unique, or would make a cycle."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    inspect,
    select,
)
from sqlalchemy.orm import Session, joinedload

from service.core.errors import Conflict, InvalidInput, NotFound
from service.core.identifiers import MAX_ID, is_id, is_slug, parse_id
from service.core.vocabularies import EntityType

M = TypeVar("M")


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
    message = f"Another {entity_label(entity)} already has {field} {value!r}."
    ensure_unique_together(session, model, {field: value}, field, message, exclude_id=exclude_id)


def ensure_unique_together(
    session: Session,
    model: Any,
    values: Mapping[str, Any],
    field: str,
    message: str,
    *,
    exclude_id: int | None = None,
) -> None:
    """Refuse a second live record with these `values` (409, with `message` on `field`)."""
    statement = live(model).where(
        *(getattr(model, name) == value for name, value in values.items())
    )
    if exclude_id is not None:
        statement = statement.where(model.id != exclude_id)
    if session.scalars(statement.limit(1)).first() is not None:
        raise Conflict(message, errors={field: [message]})


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
