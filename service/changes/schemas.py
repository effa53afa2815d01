from __future__ import annotations

import marshmallow as ma

from service.core.vocabularies import ChangeOperation, EntityType
from service.schemas import EnumField, OutputSchema, PageQuerySchema, Text


class ChangeEventSchema(OutputSchema):
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
