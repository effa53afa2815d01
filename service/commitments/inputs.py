"""What the commitments' service functions take, typed: the fields their create and update
schemas load (one type serves both: an update names only the fields it changes, and a
create's schema has already required its own), and the filters their lists' query schemas
load. tests/unit/test_inputs.py holds each type to its schemas."""

from __future__ import annotations

from datetime import date
from typing import TypedDict

from service.core.dates import PartialDate
from service.core.vocabularies import ActorRole, CommitmentKind, ImplementationStatus


class CommitmentIn(TypedDict, total=False):
    parent_id: int | None
    kind: CommitmentKind
    ref: str | None
    title: str
    text: str | None
    summary: str | None
    themes: list[str]
    due_date: PartialDate | None
    verifiable: bool | None
    weight: float
    progress_from_indicators: bool
    external_id: str | None


class CommitmentActorIn(TypedDict, total=False):
    organization_id: int
    role: ActorRole


class CommitmentFilters(TypedDict, total=False):
    """The filters of every list of commitments: all of them, an agreement's (without
    `agreement`), and the export (without `as_of`)."""

    status: list[ImplementationStatus]
    kind: CommitmentKind
    theme: str
    party: str
    actor: str
    overdue: bool
    due_before: date
    as_of: date
    top_level: bool
    q: str
    agreement: str


class CommitmentActorFilters(TypedDict, total=False):
    role: ActorRole
