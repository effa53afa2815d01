"""Small builders of test data, through the services so derived values stay right.
Each takes the session and overrides: `make_agreement(session, title="...")`."""

from __future__ import annotations

import itertools
from typing import Any, cast

from sqlalchemy.orm import Session

from service.agreements import participants as agreement_participants
from service.agreements import services as agreements
from service.agreements.inputs import AgreementEventIn, AgreementIn, AgreementParticipantIn
from service.assessments import services as assessments
from service.assessments.inputs import AssessmentIn
from service.commitments import services as commitments
from service.commitments.inputs import CommitmentIn
from service.commitments.models import Commitment
from service.core.dates import PartialDate
from service.core.vocabularies import (
    AgreementEventType,
    AssessorKind,
    DocType,
    ImplementationStatus,
    MeetingParticipantRole,
    OrganizationClassification,
    ParticipantRole,
)
from service.meetings import services as meetings
from service.meetings.inputs import MeetingIn, MeetingParticipantIn, MeetingSeriesIn
from service.organizations import services as organizations
from service.organizations.inputs import OrganizationIn, PostIn
from service.people import services as people
from service.people.inputs import MembershipIn, PersonIn
from service.sources import services as sources
from service.sources.inputs import SourceIn
from service.themes import services as themes
from service.themes.inputs import ThemeIn

_serial = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_serial)}"


def make_theme(session: Session, **overrides: Any) -> Any:
    data = {"slug": unique("theme"), "name": "A theme"} | overrides
    return themes.create_theme(session, data=cast(ThemeIn, data))


def make_organization(session: Session, **overrides: Any) -> Any:
    data = {
        "slug": unique("org"),
        "name": "An organization",
        "classification": OrganizationClassification.STATE,
    } | overrides
    return organizations.create_organization(session, data=cast(OrganizationIn, data))


def make_post(session: Session, **overrides: Any) -> Any:
    if "organization_id" not in overrides:
        overrides["organization_id"] = make_organization(session).id
    return organizations.create_post(
        session, data=cast(PostIn, {"label": "Foreign Secretary"} | overrides)
    )


def make_person(session: Session, **overrides: Any) -> Any:
    return people.create_person(
        session, data=cast(PersonIn, {"slug": unique("person"), "name": "A Person"} | overrides)
    )


def make_membership(session: Session, **overrides: Any) -> Any:
    data = dict(overrides)
    data.setdefault("person_id", make_person(session).id)
    if "post_id" not in data and "organization_id" not in data:
        data["organization_id"] = make_organization(session).id
    return people.create_membership(session, data=cast(MembershipIn, data))


def make_source(session: Session, **overrides: Any) -> Any:
    data = {"url": f"https://news.example/{unique('story')}", "title": "A report"} | overrides
    return sources.create_source(session, data=cast(SourceIn, data))


def make_agreement(session: Session, **overrides: Any) -> Any:
    data = {
        "slug": unique("agreement"),
        "title": "An agreement",
        "doc_type": DocType.LETTER_OF_INTENT,
    } | overrides
    return agreements.create_agreement(session, data=cast(AgreementIn, data))


def make_commitment(session: Session, agreement: Any = None, **overrides: Any) -> Any:
    agreement = agreement or make_agreement(session)
    data = {"title": "A commitment"} | overrides
    shown = commitments.create_agreement_commitment(
        session, agreement_ref=str(agreement.id), data=cast(CommitmentIn, data)
    )
    # The record, not the row the API shows: tests change and refresh what they build.
    return session.get(Commitment, shown.id)


def make_assessment(session: Session, commitment: Any, **overrides: Any) -> Any:
    data = {
        "status": ImplementationStatus.INITIATED,
        "as_of": PartialDate.parse("2024-03-04"),
        "assessor_kind": AssessorKind.OFFICIAL,
    } | overrides
    if isinstance(data["as_of"], str):
        data["as_of"] = PartialDate.parse(data["as_of"])
    if data["status"] is not ImplementationStatus.NOT_ASSESSED:
        # Evidence before status: a judgement cites a source.
        data.setdefault("source_ids", [make_source(session).id])
    return assessments.create_commitment_assessment(
        session, commitment_id=commitment.id, data=cast(AssessmentIn, data)
    )


def make_event(session: Session, agreement: Any, **overrides: Any) -> Any:
    data = {"type": AgreementEventType.SIGNED} | overrides
    if isinstance(data.get("date"), str):
        data["date"] = PartialDate.parse(data["date"])
    return agreements.create_agreement_event(
        session, agreement_ref=str(agreement.id), data=cast(AgreementEventIn, data)
    )


def make_participant(session: Session, agreement: Any, **overrides: Any) -> Any:
    data = dict(overrides)
    data.setdefault("organization_id", make_organization(session).id)
    data.setdefault("role", ParticipantRole.PARTY)
    return agreement_participants.create_agreement_participant(
        session, agreement_ref=str(agreement.id), data=cast(AgreementParticipantIn, data)
    )


def make_meeting_series(session: Session, **overrides: Any) -> Any:
    data = {"slug": unique("series"), "name": "A dialogue"} | overrides
    return meetings.create_meeting_series(session, data=cast(MeetingSeriesIn, data))


def make_meeting(session: Session, **overrides: Any) -> Any:
    return meetings.create_meeting(
        session, data=cast(MeetingIn, {"title": "A meeting"} | overrides)
    )


def make_meeting_participant(session: Session, meeting: Any, **overrides: Any) -> Any:
    data = dict(overrides)
    data.setdefault("person_id", make_person(session).id)
    data.setdefault("role", MeetingParticipantRole.CO_CHAIR)
    return meetings.create_meeting_participant(
        session, meeting_id=meeting.id, data=cast(MeetingParticipantIn, data)
    )
