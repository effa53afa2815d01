from __future__ import annotations

import marshmallow as ma

from service.core.vocabularies import EntityType, Role
from service.schemas import (
    EnumField,
    InputSchema,
    OutputSchema,
    PageQuerySchema,
    PartialSchema,
    Text,
    shows,
)


class ApiKeyCreateSchema(InputSchema):
    name = Text(
        min_length=1,
        max_length=100,
        required=True,
        metadata={"description": 'Who or what uses the key: "dashboard", "import job".'},
    )
    role = EnumField(Role, required=True)


class ApiKeyUpdateSchema(PartialSchema, ApiKeyCreateSchema):
    """The fields to change; those left out keep their values."""


@shows(EntityType.API_KEY, citable=False)
class ApiKeySchema(OutputSchema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    prefix = ma.fields.String(
        required=True, metadata={"description": "Tells keys apart; not secret."}
    )
    role = EnumField(Role, required=True)
    created_at = ma.fields.DateTime(required=True)
    last_used_at = ma.fields.DateTime(
        required=True,
        allow_none=True,
        metadata={"description": "To the minute; null if never used."},
    )
    revoked_at = ma.fields.DateTime(required=True, allow_none=True)


class ApiKeyCreatedSchema(ApiKeySchema):
    """A new key, with the secret itself: shown this once, never again."""

    key = ma.fields.String(
        required=True,
        metadata={"description": "Send as `Authorization: Bearer <key>`. Store it now."},
    )


class ApiKeyQuerySchema(PageQuerySchema):
    role = EnumField(Role)
    active = ma.fields.Boolean(
        metadata={"description": "true: only keys not revoked; false: only revoked."}
    )
