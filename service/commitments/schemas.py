from __future__ import annotations

import marshmallow as ma

from service.core.vocabularies import (
    ActorRole,
    CommitmentKind,
    DatePrecision,
    EntityType,
    ImplementationStatus,
)
from service.organizations.schemas import OrganizationSummarySchema
from service.schemas import (
    EnumField,
    Id,
    InputSchema,
    JSONBoolean,
    JSONNumber,
    PageQuerySchema,
    PartialDateField,
    PartialSchema,
    RecordColumnsSchema,
    RecordRef,
    Slug,
    Text,
    shows,
)
from service.themes.schemas import ThemeSummarySchema

AS_OF = {"description": "Give status and progress as they stood on this date (YYYY-MM-DD)."}


class CommitmentCreateSchema(InputSchema):
    parent_id = Id(
        allow_none=True,
        metadata={"description": "The commitment this one is part of, in the same agreement."},
    )
    kind = EnumField(CommitmentKind, load_default=CommitmentKind.COMMITMENT)
    ref = Text(
        max_length=50, allow_none=True, metadata={"description": 'Its number in the text: "2.1".'}
    )
    title = Text(min_length=1, max_length=500, required=True)
    text = Text(
        max_length=50000,
        allow_none=True,
        metadata={"description": "Verbatim, where the text is public."},
    )
    summary = Text(max_length=20000, allow_none=True)
    themes = ma.fields.List(
        Slug(),
        validate=ma.validate.Length(max=50),
        metadata={"description": "Theme slugs."},
    )
    due_date = PartialDateField(allow_none=True)
    verifiable = JSONBoolean(
        allow_none=True, metadata={"description": "Whether its completion can be checked."}
    )
    weight = JSONNumber(
        validate=ma.validate.Range(0, 1_000_000),
        load_default=1.0,
        metadata={"description": "Its weight in its parent's progress."},
    )
    progress_from_indicators = JSONBoolean(
        load_default=False,
        metadata={
            "description": "Whether its own progress is the mean of its indicators' progress "
            "(those known) instead of what its assessments' statuses give; its status stays "
            "its assessments'."
        },
    )
    external_id = Text(
        min_length=1,
        max_length=200,
        allow_none=True,
        metadata={"description": "A stable key for bulk import."},
    )


class CommitmentUpdateSchema(PartialSchema, CommitmentCreateSchema):
    """The fields to change; those left out keep their values."""


@shows(EntityType.COMMITMENT)
class CommitmentSchema(RecordColumnsSchema):
    agreement_id = ma.fields.Integer(required=True)
    parent_id = ma.fields.Integer(required=True, allow_none=True)
    kind = EnumField(CommitmentKind, required=True)
    ref = ma.fields.String(required=True, allow_none=True)
    title = ma.fields.String(required=True)
    text = ma.fields.String(required=True, allow_none=True)
    summary = ma.fields.String(required=True, allow_none=True)
    themes = ma.fields.List(
        ma.fields.String(),
        attribute="theme_slugs",
        required=True,
        metadata={"description": "Theme slugs."},
    )
    theme_summaries = ma.fields.List(
        ma.fields.Nested(ThemeSummarySchema),
        attribute="live_themes",
        required=True,
        metadata={"description": "The themes of `themes`, in that order, named."},
    )
    due_date = PartialDateField(required=True, allow_none=True)
    due_date_precision = EnumField(DatePrecision, required=True)
    verifiable = ma.fields.Boolean(required=True, allow_none=True)
    weight = ma.fields.Float(required=True)
    progress_from_indicators = ma.fields.Boolean(required=True)
    external_id = ma.fields.String(required=True, allow_none=True)
    current_status = EnumField(
        ImplementationStatus,
        required=True,
        metadata={
            "description": "From the latest standing assessment; not_assessed when there is none."
        },
    )
    current_progress = ma.fields.Float(
        required=True,
        allow_none=True,
        metadata={
            "description": "0-100: the weighted mean of the children's where there are any, "
            "else from its own assessments (or its indicators, when "
            "`progress_from_indicators`); null when unknown."
        },
    )
    current_assessment_id = ma.fields.Integer(required=True, allow_none=True)
    as_of = ma.fields.Date(
        required=True,
        allow_none=True,
        metadata={"description": "The date status and progress are given for; null for today."},
    )


class CommitmentQuerySchema(PageQuerySchema):
    status = ma.fields.List(
        EnumField(ImplementationStatus),
        metadata={
            "description": "Only these statuses (repeat the parameter for several); as of `as_of` if given."
        },
    )
    kind = EnumField(CommitmentKind)
    theme = RecordRef(
        metadata={"description": "Theme (id or slug), narrower themes included."},
    )
    party = RecordRef(
        metadata={
            "description": "Organization (id or slug) party to the commitment's agreement, bodies under it included."
        },
    )
    actor = RecordRef(
        metadata={
            "description": "Organization (id or slug) named as an actor of the commitment, bodies under it included."
        },
    )
    overdue = ma.fields.Boolean(
        metadata={
            "description": "true: only those past their due period and in no terminal status on "
            "`as_of` (default today), by their status of that day; false: all the others."
        }
    )
    due_before = ma.fields.Date(
        metadata={"description": "Due (by its known date) before this date."}
    )
    as_of = ma.fields.Date(metadata=AS_OF)
    top_level = ma.fields.Boolean(
        metadata={"description": "Only commitments without a parent (true), or only with one."}
    )
    q = Text(
        min_length=1,
        max_length=200,
        metadata={"description": "Full-text search of title, text and summary."},
    )


class AllCommitmentsQuerySchema(CommitmentQuerySchema):
    agreement = RecordRef(metadata={"description": "Agreement (id or slug)."})


class CommitmentAsOfSchema(InputSchema):
    as_of = ma.fields.Date(metadata=AS_OF)


class CommitmentActorCreateSchema(InputSchema):
    organization_id = Id(required=True)
    role = EnumField(ActorRole, required=True)


class CommitmentActorUpdateSchema(PartialSchema, CommitmentActorCreateSchema):
    """The fields to change; those left out keep their values."""


@shows(EntityType.COMMITMENT_ACTOR)
class CommitmentActorSchema(RecordColumnsSchema):
    commitment_id = ma.fields.Integer(required=True)
    organization_id = ma.fields.Integer(required=True)
    organization = ma.fields.Nested(
        OrganizationSummarySchema,
        required=True,
        metadata={"description": "The organization of `organization_id`, named."},
    )
    role = EnumField(ActorRole, required=True)


class CommitmentActorQuerySchema(PageQuerySchema):
    role = EnumField(ActorRole)
