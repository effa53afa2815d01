from __future__ import annotations

import marshmallow as ma

from service.core.vocabularies import Confidence, DatePrecision, EntityType, Reliability, SourceKind
from service.schemas import (
    EnumField,
    HttpUrl,
    Id,
    InputSchema,
    OutputSchema,
    PageQuerySchema,
    PartialDateField,
    PartialSchema,
    RecordColumnsSchema,
    ShownField,
    Text,
    shows,
)


class SourceCreateSchema(InputSchema):
    url = HttpUrl(required=True)
    archived_url = HttpUrl(allow_none=True)
    title = Text(min_length=1, max_length=500, required=True)
    publisher = Text(max_length=200, allow_none=True)
    kind = EnumField(SourceKind, load_default=SourceKind.OTHER)
    published_on = PartialDateField(allow_none=True)
    language = Text(
        max_length=35, allow_none=True, metadata={"description": "BCP 47 tag: en, fr, hi."}
    )
    reliability = EnumField(
        Reliability,
        load_default=Reliability.UNKNOWN,
        metadata={
            "description": "How far the outlet can be trusted in general (its record); "
            "a citation's confidence is about one fact."
        },
    )
    note = Text(max_length=5000, allow_none=True)


class SourceUpdateSchema(PartialSchema, SourceCreateSchema):
    """The fields to change; those left out keep their values."""


@shows(EntityType.SOURCE)
class SourceSchema(RecordColumnsSchema):
    url = ma.fields.String(required=True)
    archived_url = ma.fields.String(required=True, allow_none=True)
    title = ma.fields.String(required=True)
    publisher = ma.fields.String(required=True, allow_none=True)
    kind = EnumField(SourceKind, required=True)
    published_on = PartialDateField(required=True, allow_none=True)
    published_on_precision = EnumField(DatePrecision, required=True)
    language = ma.fields.String(required=True, allow_none=True)
    reliability = EnumField(Reliability, required=True)
    note = ma.fields.String(required=True, allow_none=True)


class SourceSummarySchema(OutputSchema):
    """A source as an assessment that cites it shows it: what it is and how far to trust it,
    without another request."""

    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    url = ma.fields.String(required=True)
    publisher = ma.fields.String(required=True, allow_none=True)
    reliability = EnumField(Reliability, required=True)


class SourceQuerySchema(PageQuerySchema):
    kind = EnumField(SourceKind)
    reliability = EnumField(Reliability)
    publisher = Text(min_length=1, max_length=200)
    q = Text(
        min_length=1, max_length=200, metadata={"description": "Words in the title or publisher."}
    )


class CitationCreateSchema(InputSchema):
    source_id = Id(required=True)
    entity_type = EnumField(
        EntityType, required=True, metadata={"description": "The kind of record supported."}
    )
    entity_id = Id(required=True)
    field = ma.fields.String(
        allow_none=True,
        validate=ShownField(),
        metadata={
            "description": "The field supported, if only one, as the record shows it; it must "
            "be one of the fields of records of `entity_type`."
        },
    )
    quote = Text(max_length=10000, allow_none=True)
    locator = Text(
        max_length=200,
        allow_none=True,
        metadata={"description": "Where in the source: paragraph, page."},
    )
    claimed_value = Text(
        max_length=10000,
        allow_none=True,
        metadata={
            "description": "What this source says the value is, where it differs or matters."
        },
    )
    confidence = EnumField(Confidence, allow_none=True)
    note = Text(max_length=5000, allow_none=True)


class CitationUpdateSchema(PartialSchema, CitationCreateSchema):
    """The fields to change; those left out keep their values."""


@shows(EntityType.CITATION)
class CitationSchema(RecordColumnsSchema):
    source_id = ma.fields.Integer(required=True)
    entity_type = EnumField(EntityType, required=True)
    entity_id = ma.fields.Integer(required=True)
    field = ma.fields.String(required=True, allow_none=True)
    quote = ma.fields.String(required=True, allow_none=True)
    locator = ma.fields.String(required=True, allow_none=True)
    claimed_value = ma.fields.String(required=True, allow_none=True)
    confidence = EnumField(Confidence, required=True, allow_none=True)
    note = ma.fields.String(required=True, allow_none=True)


class CitationQuerySchema(PageQuerySchema):
    source = Id(strict=False)
    entity_type = EnumField(EntityType)
    entity_id = Id(strict=False)
