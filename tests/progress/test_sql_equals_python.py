"""The two forms of the progress rules held equal: on random commitment trees and random
assessment histories (ties on `as_of` and on `assessed_at`, corrections and chains of
corrections), written through the services, the SQL of progress.sql (a status as of a date,
the statistics' series and summary) answers as progress.rules does in Python, now and as of
random dates, per commitment and per agreement."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.commitments.models import Commitment
from service.core.dates import PartialDate, month_end
from service.core.vocabularies import ImplementationStatus as Status
from service.progress.months import month_range
from service.progress.rules import (
    HAS_NO_PROGRESS,
    NEEDS_STATED_PROGRESS,
    AssessmentFact,
    CommitmentState,
    TreeNode,
    agreement_progress,
    is_overdue,
    roll_up,
    state_from_assessments,
    weighted_mean,
)
from service.progress.sql import overdue_on, status_on
from service.progress.upkeep import assessment_facts
from service.stats.services import Scope, progress_over_time, summary
from tests.builders import make_agreement, make_assessment, make_commitment, make_source, make_theme

MAX_DEPTH = 3  # levels 0 to 3
FIRST_MONTH = date(2021, 12, 1)
# Few dates and few times, so that ties on as_of and on assessed_at are common.
AS_OF_TEXTS = ["2022", "2022-06", "2022-06-01", "2022-06-30", "2023", "2023-01", "2023-01-01"]
AS_OF_TEXTS += ["2023-07-15", "2024-02", "2024-02-29"]
ASSESSED_AT = [datetime(2024, 6, 1, 9, tzinfo=UTC) + timedelta(hours=hour) for hour in range(3)]
STATED = [0.0, 12.5, 33.3, 50.0, 99.9, 100.0]
# The statistics round to two places; a sum done in another order may round the other way.
ROUNDING = 0.0051


@dataclass
class Planned:
    """One commitment to write: its parent (an index among those before it), its weight
    (None: left to the default) and its assessments, in the order they are written."""

    parent: int | None
    weight: float | None
    assessments: list[dict[str, Any]]


def stated_progress(status: Status) -> st.SearchStrategy[float | None]:
    """A stated progress an assessment in `status` may have: one it needs, none it cannot
    have, or either."""
    if status in NEEDS_STATED_PROGRESS:
        return st.sampled_from(STATED)
    if status in HAS_NO_PROGRESS:
        return st.none()
    return st.sampled_from([None, None, *STATED])


@st.composite
def assessment_plans(draw: st.DrawFn) -> list[dict[str, Any]]:
    plans: list[dict[str, Any]] = []
    for index in range(draw(st.integers(0, 4))):
        status = draw(st.sampled_from(list(Status)))
        stated = draw(stated_progress(status))
        # A correction names an earlier assessment of the same commitment that none corrects
        # yet; correcting a correction makes a chain.
        corrected = {plan["supersedes"] for plan in plans}
        open_ones = [earlier for earlier in range(index) if earlier not in corrected]
        supersedes = draw(st.sampled_from([None, None, *open_ones]))
        plans.append(
            {
                "status": status,
                "progress_pct": stated,
                "as_of": draw(st.sampled_from(AS_OF_TEXTS)),
                "assessed_at": draw(st.sampled_from(ASSESSED_AT)),
                "supersedes": supersedes,
            }
        )
    return plans


@st.composite
def trees(draw: st.DrawFn) -> list[Planned]:
    planned: list[Planned] = []
    depths: list[int] = []
    for _ in range(draw(st.integers(1, 7))):
        parents = [index for index, depth in enumerate(depths) if depth < MAX_DEPTH]
        parent = draw(st.sampled_from([None, *parents]))
        depths.append(0 if parent is None else depths[parent] + 1)
        weight = draw(st.sampled_from([None, 0.0, 0.5, 1.0, 2.0, 3.0]))
        planned.append(Planned(parent, weight, draw(assessment_plans())))
    return planned


def write(session: Session, planned: list[Planned]) -> tuple[Any, list[Any], dict[int, Any]]:
    """The tree and its histories, through the services; each commitment under a theme of
    its own, so that a statistics scope can hold it alone."""
    agreement = make_agreement(session)
    source = make_source(session)
    commitments: list[Any] = []
    facts: dict[int, list[AssessmentFact]] = {}
    for plan in planned:
        extra = {} if plan.weight is None else {"weight": plan.weight}
        parent = commitments[plan.parent].id if plan.parent is not None else None
        commitment = make_commitment(
            session,
            agreement,
            parent_id=parent,
            themes=[make_theme(session).slug],
            # Due before some assessments and after others.
            due_date=PartialDate.parse(("2023-05", "2025")[len(commitments) % 2]),
            **extra,
        )
        commitments.append(commitment)
        written: list[Any] = []
        for assessment in plan.assessments:
            values = dict(assessment)
            corrected = values.pop("supersedes")
            if corrected is not None:
                values["supersedes_id"] = written[corrected].id
            if values["status"] is not Status.NOT_ASSESSED:
                values["source_ids"] = [source.id]
            written.append(make_assessment(session, commitment, **values))
        facts[commitment.id] = [
            AssessmentFact(
                row.id,
                row.status,
                row.progress_pct,
                row.as_of_value,
                row.assessed_at,
                row.supersedes_id,
            )
            for row in written
        ]
    return agreement, commitments, facts


class Expected:
    """The Python answers (progress.rules) for one tree."""

    def __init__(self, commitments: list[Any], facts: dict[int, list[AssessmentFact]]) -> None:
        self.commitments = commitments
        self.facts = facts

    def states(self, when: date | None) -> dict[int, CommitmentState]:
        return {c.id: state_from_assessments(self.facts[c.id], when) for c in self.commitments}

    def rolled(self, when: date | None) -> tuple[dict[int, float | None], float | None]:
        """Each commitment's rolled-up progress, and the agreement's."""
        states = self.states(when)
        nodes = [
            TreeNode(c.id, c.parent_id, c.weight, states[c.id].progress) for c in self.commitments
        ]
        rolled = roll_up(nodes)
        return rolled, agreement_progress(nodes, rolled)

    def alone(self, commitment: Any, when: date | None) -> float | None:
        """A scope holding only this commitment: its progress, counted by its weight."""
        rolled, _agreement = self.rolled(when)
        return weighted_mean([(rolled[commitment.id], commitment.weight)])


def assert_close(found: float | None, expected: float | None, where: object) -> None:
    if expected is None or found is None:
        assert found == expected, where
    else:
        assert abs(found - expected) <= ROUNDING, (where, found, expected)


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(planned=trees(), asked=st.lists(st.dates(date(2021, 6, 1), date(2024, 12, 31)), max_size=4))
def test_the_sql_answers_as_the_python_rules(
    session: Session, planned: list[Planned], asked: list[date]
) -> None:
    agreement, commitments, facts = write(session, planned)
    expected = Expected(commitments, facts)
    today = date.today()

    # Now, as kept by the upkeep on each write.
    session.refresh(agreement)
    for commitment in commitments:
        session.refresh(commitment)
    states = expected.states(None)
    rolled, agreement_now = expected.rolled(None)
    for commitment in commitments:
        state = states[commitment.id]
        assert (commitment.current_status, commitment.current_assessment_id) == (
            state.status,
            state.assessment_id,
        )
        assert commitment.status_progress == state.progress
        assert commitment.current_progress == rolled[commitment.id]
    assert agreement.progress == agreement_now

    # A status as of a date, in SQL (the `status` and `overdue` filters with `as_of`).
    ids = [commitment.id for commitment in commitments]
    for when in [*asked, today]:
        found: dict[int, str] = dict(
            session.execute(
                select(Commitment.id, status_on(when)).where(Commitment.id.in_(ids))
            ).all()
        )
        assert {key: Status(value) for key, value in found.items()} == {
            key: state.status for key, state in expected.states(when).items()
        }, when

    # The statistics: now from the kept values, and month by month from the history.
    scopes = [(Scope(agreement=str(agreement.id)), None)] + [
        (Scope(theme=commitment.theme_slugs[0]), commitment) for commitment in commitments
    ]
    months = month_range(FIRST_MONTH, today)
    for scope, alone in scopes:
        in_scope = [alone] if alone is not None else commitments
        now = summary(session, scope, today=today)
        assert_close(
            now["progress"], agreement_now if alone is None else expected.alone(alone, None), scope
        )
        series = progress_over_time(session, scope, first=FIRST_MONTH, last=months[-1])
        for point, month in zip(series["points"], months, strict=True):
            when = month_end(month)
            states = expected.states(when)
            progress = expected.rolled(when)[1] if alone is None else expected.alone(alone, when)
            assert_close(point["progress"], progress, (scope, when))
            counts = {item["status"]: item["count"] for item in point["by_status"] if item["count"]}
            assert counts == Counter(states[c.id].status for c in in_scope), (scope, when)


def test_overdue_in_sql_is_the_rule_in_python(session: Session) -> None:
    """progress.sql.overdue_on (the `overdue` filter) and rules.is_overdue (the monthly
    rows, the series) answer alike, for every kind of due date and every status, on the
    days around the due periods' ends."""
    agreement = make_agreement(session)
    source = make_source(session)
    commitments = []
    for due in [None, "2023", "2023-06", "2023-06-15"]:
        for status in Status:
            commitment = make_commitment(
                session, agreement, due_date=None if due is None else PartialDate.parse(due)
            )
            values: dict[str, Any] = {"status": status, "as_of": "2023-03-01"}
            if status in NEEDS_STATED_PROGRESS:
                values["progress_pct"] = 50.0
            if status is not Status.NOT_ASSESSED:
                values["source_ids"] = [source.id]
            make_assessment(session, commitment, **values)
            commitments.append(commitment)
    facts = assessment_facts(session, [c.id for c in commitments])
    found = {}
    for when in [date(2023, 2, 1), *(date(2023, 6, day) for day in (15, 16)), date(2024, 1, 1)]:
        in_sql = set(
            session.scalars(
                select(Commitment.id).where(
                    Commitment.id.in_([c.id for c in commitments]),
                    overdue_on(when, status_on(when)),
                )
            )
        )
        in_python = {
            c.id
            for c in commitments
            if is_overdue(c.due_by, state_from_assessments(facts[c.id], when).status, when)
        }
        assert in_sql == in_python, when
        found[when] = len(in_python)
    # Neither answer is empty or everything: the dates and statuses tell them apart.
    assert found[date(2023, 2, 1)] == 0
    assert 0 < found[date(2023, 6, 16)] < found[date(2024, 1, 1)] < len(commitments)
