from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from sqlalchemy import inspect

from service.changes.recording import LISTS_IN_FEED, feed_columns
from service.core.vocabularies import ChangeOperation, EntityType
from service.models import MODEL_BY_ENTITY
from service.schemas import (
    RECORD_SCHEMAS,
    EnumField,
    OneOfSchema,
    OutputSchema,
    PageQuerySchema,
    Text,
    ValueOrChange,
)


class ChangeEventFields(OutputSchema):
    """The fields of every change event; `changes` is typed per kind of record below."""

    seq = ma.fields.Integer(
        required=True, metadata={"description": "Position in the feed; increases in commit order."}
    )
    occurred_at = ma.fields.DateTime(required=True)
    actor = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The name of the API key that made the change."},
    )
    actor_key_id = ma.fields.Integer(required=True, allow_none=True)
    entity = EnumField(EntityType, required=True)
    entity_id = ma.fields.Integer(required=True)
    op = EnumField(ChangeOperation, required=True)
    changes = ma.fields.Dict(
        keys=ma.fields.String(),
        required=True,
        metadata={
            "description": "create: the new record's fields; update: {field: [old, new]}; delete: {}."
        },
    )
    request_id = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The id the request went by: its X-Request-ID when the client sent "
            "a well-formed one (1 to 100 of A-Z a-z 0-9 . _ -), else service_request_id."
        },
    )
    service_request_id = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The id the service gave the request; unique to it."},
    )


class ChangeEventSchema(OneOfSchema, ChangeEventFields):
    """A committed change. The spec states one schema per kind of record (`entity`), each
    with the fields its `changes` may hold, typed."""

    discriminator = "entity"

    @classmethod
    def variants(cls) -> Mapping[str, type[ma.Schema]]:
        return _event_schemas()


@functools.cache
def _event_schemas() -> dict[str, type[ma.Schema]]:
    """`<Entity>ChangeEvent` for each kind of record: a change event whose `entity` is that
    kind and whose `changes` are `<Entity>Changes`. Built when the spec is first written, by
    which time every record schema is registered (RECORD_SCHEMAS)."""
    schemas: dict[str, type[ma.Schema]] = {}
    for entity in EntityType:
        name = "".join(word.capitalize() for word in entity.value.split("_"))
        changes = type(f"{name}ChangesSchema", (OutputSchema,), _changes_fields(entity))
        changes.__doc__ = (
            f"What changed in a record of kind {entity.value}: a create holds each field's "
            "value, an update holds [old, new] for each field it changed, a delete holds none."
        )
        fields = {
            "entity": ma.fields.String(required=True, validate=ma.validate.OneOf([entity.value])),
            "changes": ma.fields.Nested(changes, required=True),
        }
        event = type(f"{name}ChangeEventSchema", (ChangeEventFields,), fields)
        event.__doc__ = f"A committed change to a record of kind {entity.value}."
        schemas[entity.value] = event
    return schemas


def _changes_fields(entity: EntityType) -> dict[str, Any]:
    """Each field a change event of `entity` may hold (`id`, its columns, the lists kept
    beside them), typed as its record's schema shows it."""
    model = MODEL_BY_ENTITY[entity]
    shown = RECORD_SCHEMAS[entity]().fields
    columns = inspect(model).columns
    names = ("id", *feed_columns(model), *LISTS_IN_FEED.get(entity, ()))
    return {name: ValueOrChange(shown.get(name) or _column_field(columns[name])) for name in names}


def _column_field(column: Any) -> ma.fields.Field[Any]:
    """A field for a column no schema shows (a webhook's secret, recorded as hidden)."""
    kinds: dict[type, type[ma.fields.Field[Any]]] = {
        int: ma.fields.Integer,
        float: ma.fields.Float,
        bool: ma.fields.Boolean,
    }
    kind = kinds.get(column.type.python_type, ma.fields.String)
    return kind(allow_none=column.nullable)


class ChangeEventQuerySchema(PageQuerySchema):
    after = ma.fields.Integer(
        validate=ma.validate.Range(0, 2**63 - 1),
        metadata={"description": "Only changes after this seq."},
    )
    entity = EnumField(EntityType)
    entity_id = ma.fields.Integer(validate=ma.validate.Range(1, 2**31 - 1))
    wait = ma.fields.Integer(
        validate=ma.validate.Range(0, 25),
        metadata={
            "description": "Seconds (at most 25) to hold an empty answer until a change "
            "commits: a long poll. The page token then stays bound to the same filters."
        },
    )
    actor = Text(min_length=1, max_length=200, metadata={"description": "An API key's name."})
    actor_key_id = ma.fields.Integer(validate=ma.validate.Range(1, 2**31 - 1))


class ChangeHeadSchema(OutputSchema):
    seq = ma.fields.Integer(
        required=True,
        metadata={
            "description": "The latest change the caller may read (0 when none): follow the "
            "feed from here with `after`."
        },
    )
