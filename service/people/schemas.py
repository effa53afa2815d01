from __future__ import annotations

import marshmallow as ma

from service.core.vocabularies import DatePrecision, EntityType
from service.schemas import (
    EnumField,
    Id,
    InputSchema,
    OutputSchema,
    PageQuerySchema,
    PartialDateField,
    PartialSchema,
    RecordColumnsSchema,
    RecordRef,
    Slug,
    Text,
    shows,
)


class PersonCreateSchema(InputSchema):
    slug = Slug(required=True)
    name = Text(min_length=1, max_length=200, required=True)
    sort_name = Text(
        max_length=200,
        allow_none=True,
        metadata={"description": 'Name as sorted: "Kwatra, Vinay Mohan".'},
    )


class PersonUpdateSchema(PartialSchema, PersonCreateSchema):
    """The fields to change; those left out keep their values."""


@shows(EntityType.PERSON)
class PersonSchema(RecordColumnsSchema):
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    sort_name = ma.fields.String(required=True, allow_none=True)


class PersonSummarySchema(OutputSchema):
    """A person as a record that refers to them shows them: enough to name them without
    another request."""

    id = ma.fields.Integer(required=True)
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class PersonQuerySchema(PageQuerySchema):
    q = Text(min_length=1, max_length=200, metadata={"description": "Words in the name."})


class MembershipCreateSchema(InputSchema):
    person_id = Id(required=True)
    post_id = Id(
        allow_none=True, metadata={"description": "The post held, if the membership is of a post."}
    )
    organization_id = Id(allow_none=True)
    role = Text(max_length=200, allow_none=True)
    start_date = PartialDateField(allow_none=True)
    end_date = PartialDateField(allow_none=True)


class MembershipUpdateSchema(PartialSchema, MembershipCreateSchema):
    """The fields to change; those left out keep their values."""


@shows(EntityType.MEMBERSHIP)
class MembershipSchema(RecordColumnsSchema):
    person_id = ma.fields.Integer(required=True)
    post_id = ma.fields.Integer(required=True, allow_none=True)
    organization_id = ma.fields.Integer(required=True, allow_none=True)
    role = ma.fields.String(required=True, allow_none=True)
    start_date = PartialDateField(required=True, allow_none=True)
    start_date_precision = EnumField(DatePrecision, required=True)
    end_date = PartialDateField(required=True, allow_none=True)
    end_date_precision = EnumField(DatePrecision, required=True)


class MembershipQuerySchema(PageQuerySchema):
    person = RecordRef(
        metadata={"description": "Memberships of this person (id or slug)."},
    )
    organization = RecordRef(
        metadata={"description": "Memberships in this organization (id or slug)."},
    )
    post = Id(strict=False, metadata={"description": "Holders of this post."})
    as_of = ma.fields.Date(
        metadata={
            "description": "Only those in effect on this date (YYYY-MM-DD): begun in or before "
            "the period holding it and not ended before it (a year or a month counts whole; "
            "no start date counts as begun, no end date as not ended)."
        }
    )
