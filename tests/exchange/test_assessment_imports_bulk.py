"""The assessment import's bulk path (PostgreSQL: COPY, the derived values recomputed for
all the agreements at once by progress.bulk) ends exactly where its plain path ends
(INSERTs, upkeep.refresh_progress an agreement at a time): on random trees with random
histories (corrections among them), a commitment of each driven by its indicators or not,
and random files, the same assessments with the same effective progress, the same derived
values, and the same change events in the same order."""

from __future__ import annotations

import csv
import io
from typing import Any, cast

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from service.agreements.models import Agreement
from service.assessments.models import StatusAssessment, assessment_sources
from service.changes.models import ChangeEvent
from service.commitments import services as commitments
from service.commitments.models import Commitment
from service.core.dates import PartialDate
from service.core.vocabularies import EntityType, IndicatorMeasure
from service.core.vocabularies import ImplementationStatus as Status
from service.exchange import assessment_imports, assessment_writes
from service.indicators import services as indicators
from service.indicators.inputs import IndicatorIn
from service.progress.models import ProgressDue, ProgressTally
from tests.builders import make_source
from tests.progress.test_sql_equals_python import (
    AS_OF_TEXTS,
    ASSESSED_AT,
    stated_progress,
    trees,
    write,
)

pytestmark = pytest.mark.postgres_only

COLUMNS = ["commitment_id", "status", "progress_pct", "as_of", "assessed_at", "assessor_kind"]
COLUMNS += ["source_ids"]


@st.composite
def files(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Rows that pass every check, for commitments named by their index among those written
    (`commitment_id` is resolved once they are)."""
    rows = []
    for _ in range(draw(st.integers(1, 12))):
        status = draw(st.sampled_from(list(Status)))
        stated = draw(stated_progress(status))
        assessed_at = draw(st.sampled_from([None, *ASSESSED_AT]))
        rows.append(
            {
                "commitment": draw(st.integers(0, 20)),
                "status": status.value,
                "progress_pct": "" if stated is None else stated,
                "as_of": draw(st.sampled_from(AS_OF_TEXTS)),
                "assessed_at": "" if assessed_at is None else assessed_at.isoformat(),
                "assessor_kind": draw(st.sampled_from(["official", "independent", "media"])),
            }
        )
    return rows


def csv_of(rows: list[dict[str, Any]], commitment_ids: list[int], source_id: int) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for row in rows:
        cells = {key: value for key, value in row.items() if key != "commitment"}
        cells["commitment_id"] = commitment_ids[row["commitment"] % len(commitment_ids)]
        cells["source_ids"] = "" if row["status"] == Status.NOT_ASSESSED else source_id
        writer.writerow(cells)
    return buffer.getvalue().encode()


def outcome(
    connection: Connection, agreement_ids: list[int], last_id: int, last_seq: int
) -> dict[str, Any]:
    """What the import left, with the ids of the new assessments replaced by their rank
    (the two paths take them from the sequence at different times)."""
    new_ids = connection.scalars(
        select(StatusAssessment.id)
        .where(StatusAssessment.id > last_id)
        .order_by(StatusAssessment.id)
    ).all()
    rank = {new_id: f"new {number}" for number, new_id in enumerate(new_ids)}

    def named(value: Any) -> Any:
        return rank.get(value, value)

    commitment_ids = select(Commitment.id).where(Commitment.agreement_id.in_(agreement_ids))
    assessments = [
        (*row[:2], named(row.id), *row[3:])
        for row in connection.execute(
            select(
                StatusAssessment.commitment_id,
                StatusAssessment.status,
                StatusAssessment.id,
                StatusAssessment.progress_pct,
                StatusAssessment.as_of_value,
                StatusAssessment.effective_progress,
                StatusAssessment.supersedes_id,
            )
            .where(StatusAssessment.commitment_id.in_(commitment_ids))
            .order_by(StatusAssessment.id)
        )
    ]
    sources = sorted(
        (named(row.assessment_id), row.source_id)
        for row in connection.execute(
            select(assessment_sources).where(assessment_sources.c.assessment_id > last_id)
        )
    )
    commitments = [
        (*row[:3], named(row.current_assessment_id), *row[4:])
        for row in connection.execute(
            select(
                Commitment.id,
                Commitment.current_status,
                Commitment.status_progress,
                Commitment.current_assessment_id,
                Commitment.current_progress,
                Commitment.depth,
            )
            .where(Commitment.id.in_(commitment_ids))
            .order_by(Commitment.id)
        )
    ]
    agreements = connection.execute(
        select(Agreement.id, Agreement.progress)
        .where(Agreement.id.in_(agreement_ids))
        .order_by(Agreement.id)
    ).all()
    events = []
    for event in connection.execute(
        select(ChangeEvent.entity, ChangeEvent.entity_id, ChangeEvent.op, ChangeEvent.changes)
        .where(ChangeEvent.seq > last_seq)
        .order_by(ChangeEvent.seq)
    ):
        changes = dict(event.changes)
        if event.entity == EntityType.ASSESSMENT:
            changes["id"] = named(changes["id"])
            changes.pop("assessed_at")  # the time of the import when the file gives none
            entity_id = named(event.entity_id)
        else:
            entity_id = event.entity_id
        if "current_assessment_id" in changes:
            changes["current_assessment_id"] = [named(v) for v in changes["current_assessment_id"]]
        events.append((event.entity, entity_id, event.op, changes))
    tallies = [
        (*row[:4], round(row.top_known_weight, 9), round(row.top_weighted_progress, 9))
        for row in connection.execute(
            select(
                ProgressTally.agreement_id,
                ProgressTally.theme_id,
                ProgressTally.status,
                ProgressTally.commitments,
                ProgressTally.top_known_weight,
                ProgressTally.top_weighted_progress,
            )
            .where(ProgressTally.agreement_id.in_(agreement_ids))
            .order_by(ProgressTally.agreement_id, ProgressTally.theme_id, ProgressTally.status)
        )
    ]
    dues = connection.execute(
        select(ProgressDue.agreement_id, ProgressDue.due_by, ProgressDue.commitments)
        .where(ProgressDue.agreement_id.in_(agreement_ids), ProgressDue.commitments != 0)
        .order_by(ProgressDue.agreement_id, ProgressDue.due_by)
    ).all()
    return {
        "assessments": assessments,
        "sources": sources,
        "commitments": commitments,
        "agreements": agreements,
        "events": events,
        "tallies": tallies,
        "dues": dues,
    }


def drive(session: Session, commitment_id: int) -> None:
    """Let an indicator (half of the way to its target, measured in 2023) drive the
    commitment's progress."""
    source = [make_source(session).id]
    indicators.create_indicator(
        session,
        commitment_id=commitment_id,
        data=cast(
            IndicatorIn,
            {
                "title": "Officers trained",
                "measure": IndicatorMeasure.UNIT,
                "baseline_value": 0.0,
                "baseline_date": PartialDate.parse("2022"),
                "baseline_source_ids": source,
                "periods": [
                    {
                        "target_value": 40.0,
                        "target_as_of": PartialDate.parse("2022"),
                        "target_source_ids": source,
                        "actual_value": 20.0,
                        "actual_as_of": PartialDate.parse("2023-06"),
                        "actual_source_ids": source,
                    }
                ],
            },
        ),
    )
    commitments.update_commitment(
        session,
        commitment_id=commitment_id,
        data={"progress_from_indicators": True},
        check=lambda _shown: None,
    )


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(planned=st.lists(trees(), min_size=1, max_size=3), rows=files(), driven=st.booleans())
def test_the_bulk_path_ends_where_the_plain_path_ends(
    session: Session,
    connection: Connection,
    app: Flask,
    monkeypatch: pytest.MonkeyPatch,
    planned: list[Any],
    rows: list[dict[str, Any]],
    driven: bool,
) -> None:
    agreement_ids, commitment_ids = [], []
    for tree in planned:
        agreement, commitments, _facts = write(session, tree)
        agreement_ids.append(agreement.id)
        commitment_ids += [commitment.id for commitment in commitments]
        if driven:  # the first commitment's progress driven by an indicator
            drive(session, commitments[0].id)
    body = csv_of(rows, commitment_ids, make_source(session).id)
    # Small chunks: a file spans several (a commitment's rows all in one).
    monkeypatch.setattr(assessment_writes, "COPY_CHUNK_ROWS", 3)
    outcomes = []
    for bulk in (True, False):
        monkeypatch.setattr(assessment_writes, "COPY_ON_POSTGRESQL", bulk)
        last_id = connection.scalar(select(func.max(StatusAssessment.id))) or 0
        last_seq = connection.scalar(select(func.max(ChangeEvent.seq))) or 0
        attempt = connection.begin_nested()
        with app.extensions["database"].session_factory() as importing:
            report = assessment_imports.import_assessments(importing, body, dry_run=False)
        assert report.created == len(rows)
        outcomes.append(outcome(connection, agreement_ids, last_id, last_seq))
        attempt.rollback()
    assert outcomes[0] == outcomes[1]
