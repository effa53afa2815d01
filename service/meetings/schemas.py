from __future__ import annotations

import marshmallow as ma

from service.core.vocabularies import (
    DatePrecision,
    EntityType,
    MeetingAgreementLink,
    MeetingParticipantRole,
    MeetingStatus,
)
from service.organizations.schemas import OrganizationSummarySchema
from service.people.schemas import PersonSummarySchema
from service.schemas import (
    EnumField,
    Id,
    InputSchema,
    JSONInteger,
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


class MeetingSeriesCreateSchema(InputSchema):
    slug = Slug(required=True)
    name = Text(min_length=1, max_length=300, required=True)
    description = Text(max_length=20000, allow_none=True)
    organization_ids = ma.fields.List(
        Id(),
        validate=ma.validate.Length(max=50),
        metadata={"description": "The organizations that hold the series."},
    )


class MeetingSeriesUpdateSchema(PartialSchema, MeetingSeriesCreateSchema):
    """The fields to change; those left out keep their values."""


@shows(EntityType.MEETING_SERIES)
class MeetingSeriesSchema(RecordColumnsSchema):
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True, allow_none=True)
    organization_ids = ma.fields.List(ma.fields.Integer(), required=True)


class MeetingSeriesQuerySchema(PageQuerySchema):
    q = Text(min_length=1, max_length=200, metadata={"description": "Words in the name."})


class MeetingAgreementCreateSchema(InputSchema):
    agreement_id = Id(required=True)
    link = EnumField(MeetingAgreementLink, required=True)


class MeetingAgreementSchema(OutputSchema):
    agreement_id = ma.fields.Integer(required=True)
    link = EnumField(MeetingAgreementLink, required=True)


class MeetingCreateSchema(InputSchema):
    series_id = Id(allow_none=True)
    sequence = JSONInteger(
        allow_none=True,
        validate=ma.validate.Range(1, 100_000),
        metadata={"description": "Its number in the series: 2 for the second."},
    )
    title = Text(min_length=1, max_length=500, required=True)
    start_date = PartialDateField(allow_none=True)
    end_date = PartialDateField(allow_none=True)
    location = Text(max_length=200, allow_none=True)
    status = EnumField(MeetingStatus, load_default=MeetingStatus.SCHEDULED)
    summary = Text(max_length=20000, allow_none=True)
    agreements = ma.fields.List(
        ma.fields.Nested(MeetingAgreementCreateSchema),
        validate=ma.validate.Length(max=100),
        metadata={"description": "Agreements it reviewed, announced or saw signed."},
    )
    agenda_commitment_ids = ma.fields.List(
        Id(),
        validate=ma.validate.Length(max=500),
        metadata={"description": "Commitments on its agenda."},
    )


class MeetingUpdateSchema(PartialSchema, MeetingCreateSchema):
    """The fields to change; those left out keep their values. Lists are replaced whole."""


@shows(EntityType.MEETING)
class MeetingSchema(RecordColumnsSchema):
    series_id = ma.fields.Integer(required=True, allow_none=True)
    sequence = ma.fields.Integer(required=True, allow_none=True)
    title = ma.fields.String(required=True)
    start_date = PartialDateField(required=True, allow_none=True)
    start_date_precision = EnumField(DatePrecision, required=True)
    end_date = PartialDateField(required=True, allow_none=True)
    end_date_precision = EnumField(DatePrecision, required=True)
    location = ma.fields.String(required=True, allow_none=True)
    status = EnumField(MeetingStatus, required=True)
    summary = ma.fields.String(required=True, allow_none=True)
    agreements = ma.fields.List(ma.fields.Nested(MeetingAgreementSchema), required=True)
    agenda_commitment_ids = ma.fields.List(ma.fields.Integer(), required=True)


class MeetingQuerySchema(PageQuerySchema):
    series = RecordRef(
        metadata={"description": "Meetings of this series (id or slug)."},
    )
    status = EnumField(MeetingStatus)
    agreement = RecordRef(
        metadata={"description": "Meetings linked to this agreement (id or slug)."},
    )
    start_from = ma.fields.Date(metadata={"description": "Starting on or after this date."})
    start_to = ma.fields.Date(metadata={"description": "Starting on or before this date."})


class MeetingParticipantCreateSchema(InputSchema):
    person_id = Id(allow_none=True)
    organization_id = Id(allow_none=True, metadata={"description": "The organization represented."})
    role = EnumField(MeetingParticipantRole, required=True)


class MeetingParticipantUpdateSchema(PartialSchema, MeetingParticipantCreateSchema):
    """The fields to change; those left out keep their values."""


@shows(EntityType.MEETING_PARTICIPANT)
class MeetingParticipantSchema(RecordColumnsSchema):
    meeting_id = ma.fields.Integer(required=True)
    person_id = ma.fields.Integer(required=True, allow_none=True)
    person = ma.fields.Nested(
        PersonSummarySchema,
        required=True,
        allow_none=True,
        metadata={"description": "The person of `person_id`, named."},
    )
    organization_id = ma.fields.Integer(required=True, allow_none=True)
    organization = ma.fields.Nested(
        OrganizationSummarySchema,
        required=True,
        allow_none=True,
        metadata={"description": "The organization of `organization_id`, named."},
    )
    role = EnumField(MeetingParticipantRole, required=True)


class MeetingParticipantQuerySchema(PageQuerySchema):
    role = EnumField(MeetingParticipantRole)
