from __future__ import annotations

import marshmallow as ma

from service.core.vocabularies import EntityType
from service.schemas import (
    Id,
    InputSchema,
    OutputSchema,
    PageQuerySchema,
    PartialSchema,
    RecordColumnsSchema,
    RecordRef,
    Slug,
    Text,
    shows,
)


class ThemeCreateSchema(InputSchema):
    slug = Slug(required=True)
    name = Text(min_length=1, max_length=200, required=True)
    description = Text(max_length=5000, allow_none=True)
    parent_id = Id(allow_none=True, metadata={"description": "The broader theme."})


class ThemeUpdateSchema(PartialSchema, ThemeCreateSchema):
    """The fields to change; those left out keep their values."""


@shows(EntityType.THEME)
class ThemeSchema(RecordColumnsSchema):
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True, allow_none=True)
    parent_id = ma.fields.Integer(required=True, allow_none=True)


class ThemeSummarySchema(OutputSchema):
    """A theme as a record filed under it shows it: enough to name it without another
    request."""

    id = ma.fields.Integer(required=True)
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class ThemeQuerySchema(PageQuerySchema):
    parent = RecordRef(
        metadata={"description": "Only the children of this theme (id or slug)."},
    )
    q = Text(min_length=1, max_length=200, metadata={"description": "Words in the name."})
