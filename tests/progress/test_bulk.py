"""progress.bulk's SQL statement of the rules answers as progress.rules does: on random
histories of several commitments (every status, stated progress where the rules ignore it
too, ties on `as_of` and on `assessed_at`, corrections and chains of them), each
assessment's effective progress (the last known progress carried) and each commitment's
current status, progress and assessment."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Date, DateTime, Float, Integer, String, cast, literal, select, union_all
from sqlalchemy.orm import Session

from service.core.vocabularies import ImplementationStatus as Status
from service.progress.bulk import effective_progress
from service.progress.rules import (
    NOT_ASSESSED,
    AssessmentFact,
    CommitmentState,
    state_from_assessments,
)
from service.progress.rules import effective_progress as python_effective_progress

# Few dates and few times, so that ties on both are common.
AS_OF = [date(2022, 1, 1), date(2022, 6, 30), date(2023, 1, 1), date(2023, 7, 15)]
ASSESSED_AT = [datetime(2024, 6, 1, 9, tzinfo=UTC) + timedelta(hours=hour) for hour in range(3)]
STATED = [None, None, 0.0, 12.5, 50.0, 99.9, 100.0]


def _commitments(facts: list[AssessmentFact], ends: list[int]) -> dict[int, int]:
    owner: dict[int, int] = {}
    start = 0
    for commitment, end in enumerate(ends):
        for fact in facts[start:end]:
            owner[fact.id] = commitment
        start = end
    return owner


def _as_rows(facts: list[AssessmentFact], owner: dict[int, int]) -> Any:
    """The facts as a selectable of literal rows (a CTE), as bulk.effective_progress reads
    the history."""
    rows = [
        select(
            literal(fact.id, Integer).label("id"),
            literal(owner[fact.id], Integer).label("commitment_id"),
            literal(fact.status.value, String).label("status"),
            cast(literal(fact.progress_pct, Float), Float).label("progress_pct"),
            literal(fact.as_of, Date).label("as_of_value"),
            literal(fact.assessed_at, DateTime(timezone=True)).label("assessed_at"),
            cast(literal(fact.supersedes_id, Integer), Integer).label("supersedes_id"),
        )
        for fact in facts
    ]
    return union_all(*rows).cte("facts")


@st.composite
def owned_histories(draw: st.DrawFn) -> tuple[list[AssessmentFact], dict[int, int]]:
    """Random facts and the commitment each belongs to."""
    facts: list[AssessmentFact] = []
    ends: list[int] = []
    for _ in range(draw(st.integers(1, 4))):
        own: list[AssessmentFact] = []
        for _ in range(draw(st.integers(0, 7))):
            corrected = {fact.supersedes_id for fact in own}
            open_ones = [fact.id for fact in own if fact.id not in corrected]
            fact = AssessmentFact(
                id=len(facts) + len(own) + 1,
                status=draw(st.sampled_from(list(Status))),
                progress_pct=draw(st.sampled_from(STATED)),
                as_of=draw(st.sampled_from(AS_OF)),
                assessed_at=draw(st.sampled_from(ASSESSED_AT)),
                supersedes_id=draw(st.sampled_from([None, None, *open_ones])),
            )
            own.append(fact)
        facts += own
        ends.append(len(facts))
    return facts, _commitments(facts, ends)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=owned_histories())
def test_the_bulk_sql_answers_as_the_python_rules(
    session: Session, history: tuple[list[AssessmentFact], dict[int, int]]
) -> None:
    facts, owner = history
    by_commitment: dict[int, list[AssessmentFact]] = {c: [] for c in set(owner.values())}
    for fact in facts:
        by_commitment[owner[fact.id]].append(fact)
    expected_progress: dict[int, float | None] = {}
    expected_states: dict[int, CommitmentState] = {}
    for commitment, own in by_commitment.items():
        expected_progress |= python_effective_progress(own)
        expected_states[commitment] = state_from_assessments(own)
    if not facts:
        return

    rows = session.execute(select(effective_progress(_as_rows(facts, owner)).subquery())).all()

    assert {row.id: row.effective_progress for row in rows} == expected_progress
    assert len(rows) == len(facts)
    current = [row for row in rows if row.is_current]
    found_states = {
        row.commitment_id: CommitmentState(Status(row.status), row.effective_progress, row.id)
        for row in current
    }
    assert len(found_states) == len(current)  # one current assessment a commitment at most
    for commitment in by_commitment:
        found_states.setdefault(commitment, NOT_ASSESSED)
    assert found_states == expected_states
