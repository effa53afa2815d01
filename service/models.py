"""Every model, imported once so that the metadata (and Alembic) sees all the tables."""

from service.agreements.models import (
    Agreement,
    AgreementEvent,
    AgreementParticipant,
    AgreementRelation,
)
from service.assessments.models import StatusAssessment
from service.auth.models import ApiKey
from service.changes.models import ChangeEvent
from service.commitments.models import Commitment, CommitmentActor
from service.core.db import Base
from service.idempotency.models import IdempotencyKey
from service.indicators.models import Indicator, IndicatorPeriod
from service.jobs.models import Job
from service.meetings.models import (
    Meeting,
    MeetingAgendaItem,
    MeetingAgreement,
    MeetingParticipant,
    MeetingSeries,
)
from service.organizations.models import Organization, Post
from service.people.models import Membership, Person
from service.progress.models import ProgressTally
from service.seeding.models import SeedRecord
from service.sources.models import Citation, Source
from service.themes.models import Theme
from service.webhooks.models import WebhookDelivery, WebhookSubscription

__all__ = [
    "Agreement",
    "AgreementEvent",
    "AgreementParticipant",
    "AgreementRelation",
    "ApiKey",
    "Base",
    "ChangeEvent",
    "Citation",
    "Commitment",
    "CommitmentActor",
    "IdempotencyKey",
    "Indicator",
    "IndicatorPeriod",
    "Job",
    "Meeting",
    "MeetingAgendaItem",
    "MeetingAgreement",
    "MeetingParticipant",
    "MeetingSeries",
    "Membership",
    "Organization",
    "Person",
    "Post",
    "ProgressTally",
    "SeedRecord",
    "Source",
    "StatusAssessment",
    "Theme",
    "WebhookDelivery",
    "WebhookSubscription",
]

from service.core.vocabularies import EntityType

MODEL_BY_ENTITY: dict[EntityType, type[Base]] = {
    EntityType.AGREEMENT: Agreement,
    EntityType.AGREEMENT_EVENT: AgreementEvent,
    EntityType.AGREEMENT_PARTICIPANT: AgreementParticipant,
    EntityType.AGREEMENT_RELATION: AgreementRelation,
    EntityType.API_KEY: ApiKey,
    EntityType.ASSESSMENT: StatusAssessment,
    EntityType.CITATION: Citation,
    EntityType.COMMITMENT: Commitment,
    EntityType.COMMITMENT_ACTOR: CommitmentActor,
    EntityType.INDICATOR: Indicator,
    EntityType.MEETING: Meeting,
    EntityType.MEETING_PARTICIPANT: MeetingParticipant,
    EntityType.MEETING_SERIES: MeetingSeries,
    EntityType.MEMBERSHIP: Membership,
    EntityType.ORGANIZATION: Organization,
    EntityType.PERSON: Person,
    EntityType.POST: Post,
    EntityType.SOURCE: Source,
    EntityType.THEME: Theme,
    EntityType.WEBHOOK: WebhookSubscription,
}
