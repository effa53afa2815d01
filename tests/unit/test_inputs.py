"""Each service's input type states what its schemas load: the same field names, and None
allowed exactly where a schema allows null; a list's filters, what its query schemas load
besides the page asked for. The schemas are the contract (STYLE 5); the
types are what the service functions take (STYLE 2)."""

from __future__ import annotations

import types
import typing
from typing import Any, Union

import marshmallow as ma
import pytest

from service.agreements import inputs as agreement_inputs
from service.agreements import schemas as agreement_schemas
from service.assessments import inputs as assessment_inputs
from service.assessments import schemas as assessment_schemas
from service.auth import inputs as auth_inputs
from service.auth import schemas as auth_schemas
from service.changes import inputs as change_inputs
from service.changes import schemas as change_schemas
from service.commitments import inputs as commitment_inputs
from service.commitments import schemas as commitment_schemas
from service.exchange import schemas as exchange_schemas
from service.indicators import inputs as indicator_inputs
from service.indicators import schemas as indicator_schemas
from service.jobs import inputs as job_inputs
from service.jobs import schemas as job_schemas
from service.meetings import inputs as meeting_inputs
from service.meetings import schemas as meeting_schemas
from service.organizations import inputs as organization_inputs
from service.organizations import schemas as organization_schemas
from service.people import inputs as people_inputs
from service.people import schemas as people_schemas
from service.sources import inputs as source_inputs
from service.sources import schemas as source_schemas
from service.stats import inputs as stats_inputs
from service.stats import schemas as stats_schemas
from service.themes import inputs as theme_inputs
from service.themes import schemas as theme_schemas
from service.webhooks import inputs as webhook_inputs
from service.webhooks import schemas as webhook_schemas

# (the input type, the schemas that load it): a create's and an update's; a list's query
# schemas (an export's too, which takes the same filters).
LOADED_BY: list[tuple[Any, tuple[type[ma.Schema], ...]]] = [
    (
        agreement_inputs.AgreementIn,
        (agreement_schemas.AgreementCreateSchema, agreement_schemas.AgreementUpdateSchema),
    ),
    (
        agreement_inputs.AgreementEventIn,
        (
            agreement_schemas.AgreementEventCreateSchema,
            agreement_schemas.AgreementEventUpdateSchema,
        ),
    ),
    (
        agreement_inputs.AgreementParticipantIn,
        (
            agreement_schemas.AgreementParticipantCreateSchema,
            agreement_schemas.AgreementParticipantUpdateSchema,
        ),
    ),
    (
        agreement_inputs.AgreementRelationIn,
        (
            agreement_schemas.AgreementRelationCreateSchema,
            agreement_schemas.AgreementRelationUpdateSchema,
        ),
    ),
    (assessment_inputs.AssessmentIn, (assessment_schemas.AssessmentCreateSchema,)),
    (auth_inputs.ApiKeyIn, (auth_schemas.ApiKeyCreateSchema, auth_schemas.ApiKeyUpdateSchema)),
    (
        commitment_inputs.CommitmentIn,
        (commitment_schemas.CommitmentCreateSchema, commitment_schemas.CommitmentUpdateSchema),
    ),
    (
        commitment_inputs.CommitmentActorIn,
        (
            commitment_schemas.CommitmentActorCreateSchema,
            commitment_schemas.CommitmentActorUpdateSchema,
        ),
    ),
    (
        meeting_inputs.MeetingSeriesIn,
        (meeting_schemas.MeetingSeriesCreateSchema, meeting_schemas.MeetingSeriesUpdateSchema),
    ),
    (meeting_inputs.MeetingAgreementIn, (meeting_schemas.MeetingAgreementCreateSchema,)),
    (
        indicator_inputs.IndicatorIn,
        (indicator_schemas.IndicatorCreateSchema, indicator_schemas.IndicatorUpdateSchema),
    ),
    (indicator_inputs.IndicatorPeriodIn, (indicator_schemas.IndicatorPeriodCreateSchema,)),
    (
        indicator_inputs.IndicatorFilters,
        (indicator_schemas.IndicatorQuerySchema, indicator_schemas.IndicatorSearchSchema),
    ),
    (
        meeting_inputs.MeetingIn,
        (meeting_schemas.MeetingCreateSchema, meeting_schemas.MeetingUpdateSchema),
    ),
    (
        meeting_inputs.MeetingParticipantIn,
        (
            meeting_schemas.MeetingParticipantCreateSchema,
            meeting_schemas.MeetingParticipantUpdateSchema,
        ),
    ),
    (
        organization_inputs.OrganizationIn,
        (
            organization_schemas.OrganizationCreateSchema,
            organization_schemas.OrganizationUpdateSchema,
        ),
    ),
    (
        organization_inputs.PostIn,
        (organization_schemas.PostCreateSchema, organization_schemas.PostUpdateSchema),
    ),
    (
        people_inputs.PersonIn,
        (people_schemas.PersonCreateSchema, people_schemas.PersonUpdateSchema),
    ),
    (
        people_inputs.MembershipIn,
        (people_schemas.MembershipCreateSchema, people_schemas.MembershipUpdateSchema),
    ),
    (
        source_inputs.SourceIn,
        (source_schemas.SourceCreateSchema, source_schemas.SourceUpdateSchema),
    ),
    (
        source_inputs.CitationIn,
        (source_schemas.CitationCreateSchema, source_schemas.CitationUpdateSchema),
    ),
    (theme_inputs.ThemeIn, (theme_schemas.ThemeCreateSchema, theme_schemas.ThemeUpdateSchema)),
    (
        webhook_inputs.WebhookIn,
        (webhook_schemas.WebhookCreateSchema, webhook_schemas.WebhookUpdateSchema),
    ),
    (
        agreement_inputs.AgreementFilters,
        (agreement_schemas.AgreementQuerySchema, exchange_schemas.AgreementExportQuerySchema),
    ),
    (agreement_inputs.AgreementEventFilters, (agreement_schemas.AgreementEventQuerySchema,)),
    (
        agreement_inputs.AgreementParticipantFilters,
        (agreement_schemas.AgreementParticipantQuerySchema,),
    ),
    (agreement_inputs.AgreementRelationFilters, (agreement_schemas.AgreementRelationQuerySchema,)),
    (
        assessment_inputs.AssessmentFilters,
        (assessment_schemas.AssessmentQuerySchema, assessment_schemas.AssessmentSearchSchema),
    ),
    (auth_inputs.ApiKeyFilters, (auth_schemas.ApiKeyQuerySchema,)),
    (change_inputs.ChangeFilters, (change_schemas.ChangeEventQuerySchema,)),
    (
        commitment_inputs.CommitmentFilters,
        (
            commitment_schemas.CommitmentQuerySchema,
            commitment_schemas.AllCommitmentsQuerySchema,
            exchange_schemas.CommitmentExportQuerySchema,
        ),
    ),
    (commitment_inputs.CommitmentActorFilters, (commitment_schemas.CommitmentActorQuerySchema,)),
    (job_inputs.JobFilters, (job_schemas.JobQuerySchema,)),
    (meeting_inputs.MeetingSeriesFilters, (meeting_schemas.MeetingSeriesQuerySchema,)),
    (meeting_inputs.MeetingFilters, (meeting_schemas.MeetingQuerySchema,)),
    (meeting_inputs.MeetingParticipantFilters, (meeting_schemas.MeetingParticipantQuerySchema,)),
    (organization_inputs.OrganizationFilters, (organization_schemas.OrganizationQuerySchema,)),
    (organization_inputs.PostFilters, (organization_schemas.PostQuerySchema,)),
    (people_inputs.PersonFilters, (people_schemas.PersonQuerySchema,)),
    (people_inputs.MembershipFilters, (people_schemas.MembershipQuerySchema,)),
    (source_inputs.SourceFilters, (source_schemas.SourceQuerySchema,)),
    (source_inputs.CitationFilters, (source_schemas.CitationQuerySchema,)),
    (theme_inputs.ThemeFilters, (theme_schemas.ThemeQuerySchema,)),
    (webhook_inputs.WebhookFilters, (webhook_schemas.WebhookQuerySchema,)),
    (webhook_inputs.WebhookDeliveryFilters, (webhook_schemas.WebhookDeliveryQuerySchema,)),
    (stats_inputs.StatsScopeQuery, (stats_schemas.StatsScopeSchema,)),
    (stats_inputs.StatsSummaryQuery, (stats_schemas.StatsSummaryQuerySchema,)),
    (
        stats_inputs.AgreementStatsFilters,
        (stats_schemas.AgreementStatsQuerySchema,),
    ),
    (stats_inputs.StatsSeriesQuery, (stats_schemas.StatsSeriesQuerySchema,)),
]
# What a list's query loads that is the page asked for, not a filter (api.page_request).
PAGING = {"page_size", "page_token"}


def _allows_none(hint: Any) -> bool:
    return typing.get_origin(hint) in (Union, types.UnionType) and type(None) in typing.get_args(
        hint
    )


def _loaded_fields(schema: type[ma.Schema]) -> dict[str, bool]:
    """The keys a schema's load gives (but the page), each with whether it may be null."""
    return {
        field.attribute or name: field.allow_none
        for name, field in schema().load_fields.items()
        if name not in PAGING
    }


@pytest.mark.parametrize(
    ("input_type", "schemas"), LOADED_BY, ids=[input_type.__name__ for input_type, _ in LOADED_BY]
)
def test_an_input_type_names_what_its_schemas_load(
    input_type: Any, schemas: tuple[type[ma.Schema], ...]
) -> None:
    hints = typing.get_type_hints(input_type)
    nullable = {name for name, hint in hints.items() if _allows_none(hint)}
    named: set[str] = set()
    for schema in schemas:
        loaded = _loaded_fields(schema)
        assert set(loaded) <= set(hints), (schema.__name__, set(loaded) - set(hints))
        assert {name for name in loaded if name in nullable} == {
            name for name, allows_none in loaded.items() if allows_none
        }, schema.__name__
        named |= set(loaded)
    assert set(hints) == named, set(hints) - named


def test_every_input_type_is_held_to_a_schema() -> None:
    # A new input type must join LOADED_BY: the modules' TypedDicts, all listed.
    declared = {
        value
        for module in (
            agreement_inputs,
            assessment_inputs,
            auth_inputs,
            change_inputs,
            commitment_inputs,
            indicator_inputs,
            job_inputs,
            meeting_inputs,
            organization_inputs,
            people_inputs,
            source_inputs,
            stats_inputs,
            theme_inputs,
            webhook_inputs,
        )
        for value in vars(module).values()
        if typing.is_typeddict(value) and value.__module__ == module.__name__
    }
    assert declared == {input_type for input_type, _schemas in LOADED_BY}
