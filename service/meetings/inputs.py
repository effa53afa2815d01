"""What the meetings' service functions take, typed: the fields their create and update
schemas load (one type serves both: an update names only the fields it changes, and a
create's schema has already required its own), and the filters their lists' query schemas
load. tests/unit/test_inputs.py holds each type to its schemas."""

from __future__ import annotations

from datetime import date
from typing import TypedDict

from service.core.dates import PartialDate
from service.core.vocabularies import MeetingAgreementLink, MeetingParticipantRole, MeetingStatus


class MeetingSeriesIn(TypedDict, total=False):
    slug: str
    name: str
    description: str | None
    organization_ids: list[int]


class MeetingAgreementIn(TypedDict):
    agreement_id: int
    link: MeetingAgreementLink


class MeetingIn(TypedDict, total=False):
    series_id: int | None
    sequence: int | None
    title: str
    start_date: PartialDate | None
    end_date: PartialDate | None
    location: str | None
    status: MeetingStatus
    summary: str | None
    agreements: list[MeetingAgreementIn]
    agenda_commitment_ids: list[int]


class MeetingParticipantIn(TypedDict, total=False):
    person_id: int | None
    organization_id: int | None
    role: MeetingParticipantRole


class MeetingSeriesFilters(TypedDict, total=False):
    q: str


class MeetingFilters(TypedDict, total=False):
    series: str
    status: MeetingStatus
    agreement: str
    start_from: date
    start_to: date


class MeetingParticipantFilters(TypedDict, total=False):
    role: MeetingParticipantRole
