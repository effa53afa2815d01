"""What the assessments' service functions take, typed: the fields their create schema loads
(an assessment is never updated: a correction is a new one) and the filters of their list.
tests/unit/test_inputs.py holds each type to its schemas."""

from __future__ import annotations

from datetime import date, datetime
from typing import TypedDict

from service.core.dates import PartialDate
from service.core.vocabularies import AssessorKind, Confidence, ImplementationStatus


class AssessmentIn(TypedDict, total=False):
    status: ImplementationStatus
    progress_pct: float | None
    as_of: PartialDate
    assessed_at: datetime
    assessor_kind: AssessorKind
    assessor_organization_id: int | None
    confidence: Confidence
    rationale: str | None
    meeting_id: int | None
    supersedes_id: int | None
    source_ids: list[int]


class AssessmentFilters(TypedDict, total=False):
    status: ImplementationStatus
    as_of: date
    standing: bool
    meeting: int
    # Of the list of every assessment only.
    agreement: str
    commitment: int
