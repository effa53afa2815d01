"""Streaming exports: a page of rows at a time, so that a million rows never sit in memory."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.agreements.inputs import AgreementFilters
from service.agreements.models import Agreement, AgreementParticipant
from service.agreements.services import list_agreements
from service.assessments.inputs import AssessmentFilters
from service.assessments.services import list_assessments
from service.commitments.inputs import CommitmentFilters
from service.commitments.models import Commitment
from service.commitments.services import list_commitments
from service.core.pagination import Page, PageRequest
from service.exchange.columns import (
    AGREEMENT_COLUMNS,
    ASSESSMENT_EXPORT_COLUMNS,
    CITATION_COLUMNS,
    COMMITMENT_COLUMNS,
    INDICATOR_COLUMNS,
    INDICATOR_PERIOD_COLUMNS,
    SOURCE_COLUMNS,
    Column,
    as_csv_cells,
    as_json,
)
from service.indicators.inputs import IndicatorFilters
from service.indicators.services import list_all_indicators
from service.organizations.models import Organization
from service.sources.inputs import CitationFilters, SourceFilters
from service.sources.services import list_citations, list_sources

BATCH = 1000


def _commitment_lookups(session: Session, commitments: list[Commitment]) -> dict[str, Any]:
    agreement_ids = {c.agreement_id for c in commitments}
    parent_ids = {c.parent_id for c in commitments if c.parent_id is not None}
    return {
        "agreement_slugs": dict(
            session.execute(
                select(Agreement.id, Agreement.slug).where(Agreement.id.in_(agreement_ids))
            ).all()
        ),
        "external_ids": dict(
            session.execute(
                select(Commitment.id, Commitment.external_id).where(Commitment.id.in_(parent_ids))
            ).all()
        ),
    }


def _agreement_lookups(session: Session, agreements: list[Agreement]) -> dict[str, Any]:
    rows = session.execute(
        select(AgreementParticipant.agreement_id, AgreementParticipant.role, Organization.slug)
        .join(Organization, Organization.id == AgreementParticipant.organization_id)
        .where(
            AgreementParticipant.agreement_id.in_([a.id for a in agreements]),
            AgreementParticipant.deleted_at.is_(None),
        )
        .order_by(AgreementParticipant.id)
    ).all()
    participants: dict[int, list[str]] = {}
    for agreement_id, role, slug in rows:
        participants.setdefault(agreement_id, []).append(f"{role.value}:{slug}")
    return {"participants": participants}


def _commitment_lookups_of(session: Session, records: list[Any]) -> dict[str, Any]:
    """The commitment of each record kept under one (an assessment, an indicator) as an
    export names it: its external id, and its agreement's slug."""
    rows = session.execute(
        select(Commitment.id, Commitment.external_id, Agreement.slug)
        .join(Agreement, Agreement.id == Commitment.agreement_id)
        .where(Commitment.id.in_({record.commitment_id for record in records}))
    ).all()
    return {"commitments": {row.id: (row.external_id, row.slug) for row in rows}}


def _no_lookups(_session: Session, _records: list[Any]) -> dict[str, Any]:
    return {}


def _batches(
    list_page: Callable[..., Page[Any]], session: Session, filters: Mapping[str, Any]
) -> Iterator[list[Any]]:
    after = None
    while True:
        page = list_page(session, page=PageRequest(after=after, size=BATCH), filters=filters)
        if page.items:
            yield page.items
        if page.next_key is None:
            return
        after = page.next_key
        # Let the rows of the page go: memory stays one page deep however long the export.
        session.expunge_all()


def _lines(
    session: Session,
    filters: Mapping[str, Any],
    fmt: str,
    columns: list[Column],
    list_page: Callable[..., Page[Any]],
    lookups: Callable[[Session, list[Any]], dict[str, Any]],
    rows_of: Callable[[Any], list[Any]] = lambda record: [record],
) -> Iterator[str]:
    """The header (CSV), then the rows of each page the list gives: a record a row, or
    the rows `rows_of` makes of it (an indicator's periods)."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([column.name for column in columns])
        yield buffer.getvalue()
    for records in _batches(list_page, session, filters):
        found = lookups(session, records)
        batch = [row for record in records for row in rows_of(record)]
        if fmt == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\r\n")
            writer.writerows(as_csv_cells(record, columns, found) for record in batch)
            yield buffer.getvalue()
        else:
            yield "".join(
                json.dumps(as_json(record, columns, found), ensure_ascii=False) + "\n"
                for record in batch
            )


def _checked(
    list_page: Callable[..., Page[Any]], session: Session, filters: Mapping[str, Any]
) -> None:
    """Refuse filters that name no record now, with the list's own error (a 422), while the
    response can still be one: the lines are read only once the body is being sent."""
    list_page(session, page=PageRequest(after=None, size=1), filters=filters)


def commitment_lines(session: Session, filters: CommitmentFilters, fmt: str) -> Iterator[str]:
    """The commitments the filters select, with their current status and progress."""
    _checked(list_commitments, session, filters)
    return _lines(session, filters, fmt, COMMITMENT_COLUMNS, list_commitments, _commitment_lookups)


def agreement_lines(session: Session, filters: AgreementFilters, fmt: str) -> Iterator[str]:
    """The agreements the filters select, with their participants."""
    _checked(list_agreements, session, filters)
    return _lines(session, filters, fmt, AGREEMENT_COLUMNS, list_agreements, _agreement_lookups)


def assessment_lines(session: Session, filters: AssessmentFilters, fmt: str) -> Iterator[str]:
    """The assessments the filters select, with the sources each cites."""
    _checked(list_assessments, session, filters)
    return _lines(
        session, filters, fmt, ASSESSMENT_EXPORT_COLUMNS, list_assessments, _commitment_lookups_of
    )


def source_lines(session: Session, filters: SourceFilters, fmt: str) -> Iterator[str]:
    """The sources the filters select."""
    _checked(list_sources, session, filters)
    return _lines(session, filters, fmt, SOURCE_COLUMNS, list_sources, _no_lookups)


def citation_lines(session: Session, filters: CitationFilters, fmt: str) -> Iterator[str]:
    """The citations the filters select."""
    _checked(list_citations, session, filters)
    return _lines(session, filters, fmt, CITATION_COLUMNS, list_citations, _no_lookups)


def indicator_lines(session: Session, filters: IndicatorFilters, fmt: str) -> Iterator[str]:
    """The indicators the filters select, with their progress (as of `as_of`)."""
    _checked(list_all_indicators, session, filters)
    return _lines(
        session, filters, fmt, INDICATOR_COLUMNS, list_all_indicators, _commitment_lookups_of
    )


def indicator_period_lines(session: Session, filters: IndicatorFilters, fmt: str) -> Iterator[str]:
    """The periods of the indicators the filters select, one a row."""
    _checked(list_all_indicators, session, filters)
    return _lines(
        session,
        filters,
        fmt,
        INDICATOR_PERIOD_COLUMNS,
        list_all_indicators,
        _no_lookups,
        rows_of=lambda indicator: indicator.periods,
    )
