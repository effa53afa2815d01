"""What the agreements' service functions take, typed: the fields their create and update
schemas load (one type serves both: an update names only the fields it changes, and a
create's schema has already required its own), and the filters their lists' query schemas
load. tests/unit/test_inputs.py holds each type to its schemas."""

from __future__ import annotations

from typing import TypedDict

from service.core.dates import PartialDate
from service.core.vocabularies import (
    AgreementEventType,
    Binding,
    DocType,
    LifecycleStatus,
    ParticipantRole,
    RelationKind,
    TextAvailability,
)


class AgreementIn(TypedDict, total=False):
    slug: str
    title: str
    short_title: str | None
    aliases: list[str]
    doc_type: DocType
    binding: Binding
    text_availability: TextAvailability
    summary: str | None
    text_url: str | None
    language: str | None
    themes: list[str]
    external_id: str | None


class AgreementEventIn(TypedDict, total=False):
    type: AgreementEventType
    date: PartialDate | None
    organization_id: int | None
    location: str | None
    description: str | None
    signer_ids: list[int]


class AgreementParticipantIn(TypedDict, total=False):
    organization_id: int
    role: ParticipantRole


class AgreementRelationIn(TypedDict, total=False):
    related_agreement_id: int
    kind: RelationKind
    note: str | None


class AgreementFilters(TypedDict, total=False):
    q: str
    doc_type: DocType
    binding: Binding
    text_availability: TextAvailability
    lifecycle_status: LifecycleStatus
    theme: str
    party: str


class AgreementEventFilters(TypedDict, total=False):
    type: AgreementEventType


class AgreementParticipantFilters(TypedDict, total=False):
    role: ParticipantRole


class AgreementRelationFilters(TypedDict, total=False):
    kind: RelationKind
