from __future__ import annotations

import marshmallow as ma

from service.core.vocabularies import EntityType, OrganizationClassification
from service.people.schemas import PersonSummarySchema
from service.schemas import (
    EnumField,
    FullMatch,
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

COUNTRY_CODE = FullMatch(r"^[A-Z]{2}$", error="Must be an ISO 3166-1 alpha-2 code, like IN or FR.")


class OrganizationCreateSchema(InputSchema):
    slug = Slug(required=True)
    name = Text(min_length=1, max_length=300, required=True)
    short_name = Text(
        max_length=50, allow_none=True, metadata={"description": "An abbreviation: MEA, ISRO."}
    )
    classification = EnumField(OrganizationClassification, required=True)
    country_code = ma.fields.String(allow_none=True, validate=COUNTRY_CODE)
    parent_id = Id(
        allow_none=True, metadata={"description": "The body it belongs to (ISRO under India)."}
    )


class OrganizationUpdateSchema(PartialSchema, OrganizationCreateSchema):
    """The fields to change; those left out keep their values."""


@shows(EntityType.ORGANIZATION)
class OrganizationSchema(RecordColumnsSchema):
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    short_name = ma.fields.String(required=True, allow_none=True)
    classification = EnumField(OrganizationClassification, required=True)
    country_code = ma.fields.String(required=True, allow_none=True)
    parent_id = ma.fields.Integer(required=True, allow_none=True)


class OrganizationSummarySchema(OutputSchema):
    """An organization as a record that refers to it shows it: enough to name it without
    another request."""

    id = ma.fields.Integer(required=True)
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class OrganizationQuerySchema(PageQuerySchema):
    classification = EnumField(OrganizationClassification)
    country_code = ma.fields.String(validate=COUNTRY_CODE)
    parent = RecordRef(
        metadata={"description": "Only the bodies under this one (id or slug)."},
    )
    q = Text(
        min_length=1, max_length=200, metadata={"description": "Words in the name or short name."}
    )


class PostCreateSchema(InputSchema):
    organization_id = Id(required=True)
    label = Text(min_length=1, max_length=200, required=True)


class PostUpdateSchema(PartialSchema, PostCreateSchema):
    """The fields to change; those left out keep their values."""


@shows(EntityType.POST)
class PostHolderSchema(OutputSchema):
    """Who held a post: the membership, and its person named."""

    membership_id = ma.fields.Integer(attribute="id", required=True)
    person = ma.fields.Nested(PersonSummarySchema, required=True)
    role = ma.fields.String(required=True, allow_none=True)
    start_date = PartialDateField(required=True, allow_none=True)
    end_date = PartialDateField(required=True, allow_none=True)


class PostSchema(RecordColumnsSchema):
    organization_id = ma.fields.Integer(required=True)
    label = ma.fields.String(required=True)
    holders = ma.fields.List(
        ma.fields.Nested(PostHolderSchema),
        required=True,
        metadata={
            "description": "Who held it today, or on `as_of`: the memberships in effect then "
            "(as the memberships' `as_of` filter reads their dates), earliest start first."
        },
    )
    as_of = ma.fields.Date(
        required=True,
        allow_none=True,
        metadata={"description": "The date `holders` are of; null for today."},
    )


POST_AS_OF = {"description": "Give who held each post on this date (YYYY-MM-DD)."}


class PostAsOfSchema(InputSchema):
    as_of = ma.fields.Date(metadata=POST_AS_OF)


class PostQuerySchema(PageQuerySchema):
    organization = RecordRef(
        metadata={"description": "Posts of this organization (id or slug)."},
    )
    as_of = ma.fields.Date(metadata=POST_AS_OF)
