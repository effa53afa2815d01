from __future__ import annotations

import marshmallow as ma

from service.core.vocabularies import (
    AgreementEventType,
    Binding,
    DatePrecision,
    DocType,
    EntityType,
    LifecycleStatus,
    ParticipantRole,
    RelationKind,
    TextAvailability,
)
from service.organizations.schemas import OrganizationSummarySchema
from service.schemas import (
    EnumField,
    HttpUrl,
    Id,
    InputSchema,
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

THEME_SLUGS = {"description": "Theme slugs."}
THEMES_NAMED = {"description": "The themes of `themes`, in that order, named."}


class AgreementCreateSchema(InputSchema):
    slug = Slug(required=True)
    title = Text(min_length=1, max_length=500, required=True)
    short_title = Text(max_length=200, allow_none=True)
    aliases = ma.fields.List(
        Text(min_length=1, max_length=500),
        validate=ma.validate.Length(max=50),
        metadata={"description": "Other names the same instrument is known by."},
    )
    doc_type = EnumField(DocType, required=True)
    binding = EnumField(Binding, load_default=Binding.UNKNOWN)
    text_availability = EnumField(TextAvailability, load_default=TextAvailability.UNDISCLOSED)
    summary = Text(max_length=20000, allow_none=True)
    text_url = HttpUrl(allow_none=True)
    language = Text(
        max_length=35, allow_none=True, metadata={"description": "BCP 47 tag of the text: en, fr."}
    )
    themes = ma.fields.List(
        Slug(),
        validate=ma.validate.Length(max=50),
        metadata=THEME_SLUGS,
    )
    external_id = Text(
        min_length=1,
        max_length=200,
        allow_none=True,
        metadata={"description": "The agreement's id in another system (PA-X, UNTC)."},
    )


class AgreementUpdateSchema(PartialSchema, AgreementCreateSchema):
    """The fields to change; those left out keep their values."""


@shows(EntityType.AGREEMENT)
class AgreementSchema(RecordColumnsSchema):
    slug = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    short_title = ma.fields.String(required=True, allow_none=True)
    aliases = ma.fields.List(ma.fields.String(), required=True)
    doc_type = EnumField(DocType, required=True)
    binding = EnumField(Binding, required=True)
    text_availability = EnumField(TextAvailability, required=True)
    summary = ma.fields.String(required=True, allow_none=True)
    text_url = ma.fields.String(required=True, allow_none=True)
    language = ma.fields.String(required=True, allow_none=True)
    themes = ma.fields.List(
        ma.fields.String(), attribute="theme_slugs", required=True, metadata=THEME_SLUGS
    )
    theme_summaries = ma.fields.List(
        ma.fields.Nested(ThemeSummarySchema),
        attribute="live_themes",
        required=True,
        metadata=THEMES_NAMED,
    )
    external_id = ma.fields.String(required=True, allow_none=True)
    lifecycle_status = EnumField(
        LifecycleStatus,
        required=True,
        metadata={"description": "Derived from the agreement's events."},
    )
    progress = ma.fields.Float(
        required=True,
        allow_none=True,
        metadata={
            "description": "Weighted mean progress (0-100) of the top-level commitments; "
            "null when none has a known progress."
        },
    )


class AgreementQuerySchema(PageQuerySchema):
    q = Text(
        min_length=1,
        max_length=200,
        metadata={"description": "Full-text search of titles, aliases and summary."},
    )
    doc_type = EnumField(DocType)
    binding = EnumField(Binding)
    text_availability = EnumField(TextAvailability)
    lifecycle_status = EnumField(LifecycleStatus)
    theme = RecordRef(
        metadata={"description": "Theme (id or slug), narrower themes included."},
    )
    party = RecordRef(
        metadata={
            "description": "Organization (id or slug) that is a party or signatory, bodies under it included."
        },
    )


class AgreementEventCreateSchema(InputSchema):
    type = EnumField(AgreementEventType, required=True)
    date = PartialDateField(allow_none=True)
    organization_id = Id(allow_none=True, metadata={"description": "The organization that acted."})
    location = Text(max_length=200, allow_none=True)
    description = Text(max_length=5000, allow_none=True)
    signer_ids = ma.fields.List(
        Id(),
        validate=ma.validate.Length(max=100),
        metadata={"description": "People who signed, for a signing."},
    )


class AgreementEventUpdateSchema(PartialSchema, AgreementEventCreateSchema):
    """The fields to change; those left out keep their values."""


@shows(EntityType.AGREEMENT_EVENT)
class AgreementEventSchema(RecordColumnsSchema):
    agreement_id = ma.fields.Integer(required=True)
    type = EnumField(AgreementEventType, required=True)
    date = PartialDateField(required=True, allow_none=True)
    date_precision = EnumField(DatePrecision, required=True)
    organization_id = ma.fields.Integer(required=True, allow_none=True)
    location = ma.fields.String(required=True, allow_none=True)
    description = ma.fields.String(required=True, allow_none=True)
    signer_ids = ma.fields.List(ma.fields.Integer(), required=True)


class AgreementEventQuerySchema(PageQuerySchema):
    type = EnumField(AgreementEventType)


class AgreementParticipantCreateSchema(InputSchema):
    organization_id = Id(required=True)
    role = EnumField(ParticipantRole, required=True)


class AgreementParticipantUpdateSchema(PartialSchema, AgreementParticipantCreateSchema):
    """The fields to change; those left out keep their values."""


@shows(EntityType.AGREEMENT_PARTICIPANT)
class AgreementParticipantSchema(RecordColumnsSchema):
    agreement_id = ma.fields.Integer(required=True)
    organization_id = ma.fields.Integer(required=True)
    organization = ma.fields.Nested(
        OrganizationSummarySchema,
        required=True,
        metadata={"description": "The organization of `organization_id`, named."},
    )
    role = EnumField(ParticipantRole, required=True)


class AgreementParticipantQuerySchema(PageQuerySchema):
    role = EnumField(ParticipantRole)


class AgreementRelationCreateSchema(InputSchema):
    related_agreement_id = Id(required=True)
    kind = EnumField(
        RelationKind,
        required=True,
        metadata={"description": "This agreement <kind> the related one."},
    )
    note = Text(max_length=5000, allow_none=True)


class AgreementRelationUpdateSchema(PartialSchema, AgreementRelationCreateSchema):
    """The fields to change; those left out keep their values."""


@shows(EntityType.AGREEMENT_RELATION)
class AgreementRelationSchema(RecordColumnsSchema):
    agreement_id = ma.fields.Integer(required=True)
    related_agreement_id = ma.fields.Integer(required=True)
    kind = EnumField(RelationKind, required=True)
    note = ma.fields.String(required=True, allow_none=True)


class AgreementRelationQuerySchema(PageQuerySchema):
    kind = EnumField(RelationKind)
