"""The series' monthly rows (progress.months): kept by every write as a rebuild from the
history would find them, and answering the series as the history itself does.

Random sequences of writes through the services, as tests/progress/test_tallies.py makes
them (commitments created with due dates, re-weighted, re-filed, moved, deleted; themes moved
and deleted; agreements deleted), with assessments dated before, within and after the months
already kept, and corrections of earlier ones; indicators measured at those dates, created,
changed and deleted, driving the progress of the commitments whose flag is on. After each write the kept rows and spans must
be a rebuild's; after the sequence, the series over random windows (before, within, after and
across the kept months) must be the one computed in Python from the commitments and their
assessments by progress.rules.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import date
from typing import Any, cast

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from service.assessments.models import StatusAssessment
from service.commitments.models import Commitment
from service.core.dates import PartialDate, month_end
from service.core.vocabularies import ImplementationStatus as Status
from service.core.vocabularies import IndicatorMeasure
from service.indicators import services as indicators
from service.indicators.inputs import IndicatorIn
from service.indicators.models import Indicator
from service.progress.indicators import IndicatorFacts, commitment_indicators_progress
from service.progress.models import ProgressMonth, ProgressMonthSpan
from service.progress.month_rows import rebuild_months
from service.progress.months import VALUE_NAMES, month_range
from service.progress.rules import (
    HAS_NO_PROGRESS,
    TERMINAL_STATUSES,
    CommitmentState,
    TreeNode,
    driven_state,
    roll_up,
    state_from_assessments,
    weighted_mean,
)
from service.progress.upkeep import assessment_facts
from service.stats.services import Scope, progress_over_time
from service.themes.models import Theme
from tests.builders import make_assessment, make_commitment
from tests.progress.test_tallies import OPERATIONS, World, no_check

# Day, month and year dates from 2019 to 2024: before, within and after what is kept.
AS_OF = ["2019-03-31", "2020-11", "2021", "2022-02-01", "2022-02-28", "2023-07", "2024-12-15"]
DUE = [None, None, "2019-06", "2020-12-31", "2021-03", "2022", "2023-08-15"]
FIRST_MONTHS = [date(2018, 11, 1), date(2020, 10, 1), date(2021, 12, 1), date(2024, 11, 1)]

# SQLAlchemy types a mapped class's `__table__` as a FromClause; here it is a Table.
MONTHS: Table = ProgressMonth.__table__  # type: ignore[assignment]
SPANS: Table = ProgressMonthSpan.__table__  # type: ignore[assignment]


# test_tallies' writes, and those of indicators: a commitment's flag turned on or off, its
# indicators created, changed and deleted.
DATED_OPERATIONS = st.one_of(OPERATIONS, st.sampled_from(["drive", "measure", "measure"]))
# Writes that keep indicators in play: most commitments measured, many driven by them.
MEASURED_OPERATIONS = st.sampled_from(
    ["measure", "drive", "assess", "measure", "create", "move", "reweigh", "delete", "redate"]
)


class DatedWorld(World):
    """test_tallies' world, its commitments due at random dates and assessed at random
    dates, now and then correcting an earlier assessment; their indicators measured at
    random dates, and driving the progress of some of them."""

    def apply(self, operation: str, data: st.DataObject) -> None:
        draw = data.draw
        live = self.live_commitments()
        agreements_left = [item for item in self.agreements if item.deleted_at is None]
        if operation == "drive" and live:
            commitment = draw(st.sampled_from(live))
            flag = not commitment.progress_from_indicators
            self._update(commitment, {"progress_from_indicators": flag})
        elif operation == "measure" and live:
            self._measure(draw(st.sampled_from(live)), draw)
        elif operation == "create" and agreements_left:
            agreement = draw(st.sampled_from(agreements_left))
            parents = [None, *(c.id for c in live if c.agreement_id == agreement.id)]
            due = draw(st.sampled_from(DUE))
            make_commitment(
                self.session,
                agreement,
                parent_id=draw(st.sampled_from(parents)),
                weight=draw(st.sampled_from([0.0, 1.0, 0.1, 3.5])),
                themes=self._theme_slugs(draw),
                due_date=None if due is None else PartialDate.parse(due),
            )
        elif operation == "assess" and live:
            commitment = draw(st.sampled_from(live))
            status = draw(st.sampled_from(list(Status)))
            values: dict[str, Any] = {"status": status, "as_of": draw(st.sampled_from(AS_OF))}
            if status is Status.PARTIALLY_COMPLETED or (
                status not in HAS_NO_PROGRESS and draw(st.booleans())
            ):
                values["progress_pct"] = draw(st.sampled_from([10.0, 55.5]))
            if status is not Status.NOT_ASSESSED:
                values["source_ids"] = [self.source.id]
            standing = list(
                self.session.scalars(
                    select(StatusAssessment.id).where(
                        StatusAssessment.commitment_id == commitment.id,
                        ~StatusAssessment.id.in_(
                            select(StatusAssessment.supersedes_id).where(
                                StatusAssessment.supersedes_id.is_not(None)
                            )
                        ),
                    )
                )
            )
            if len(standing) > 0 and draw(st.booleans()):
                values["supersedes_id"] = draw(st.sampled_from(standing))
            make_assessment(self.session, commitment, **values)
        else:
            super().apply(operation, data)

    def _measure(self, commitment: Any, draw: Any) -> None:
        """Create an indicator of the commitment, or change or delete one it has: from a
        baseline of 50, higher or lower is better, one or two periods with random actuals."""
        ascending = draw(st.booleans())
        source = [self.source.id]
        periods: list[dict[str, Any]] = []
        for _ in range(draw(st.integers(1, 2))):
            period: dict[str, Any] = {
                "end_date": PartialDate.parse(draw(st.sampled_from(["2021", "2023-08-15"]))),
                "target_value": draw(st.sampled_from([80.0, 100.0] if ascending else [20.0, 0.0])),
                "target_as_of": PartialDate.parse("2019-01"),
                "target_source_ids": source,
            }
            actual = draw(st.sampled_from([30.0, 65.0, 90.0, None]))
            if actual is not None:
                period |= {
                    "actual_value": actual,
                    "actual_as_of": PartialDate.parse(draw(st.sampled_from(AS_OF))),
                    "actual_source_ids": source,
                }
            periods.append(period)
        kept = list(
            self.session.scalars(
                select(Indicator.id).where(
                    Indicator.commitment_id == commitment.id, Indicator.deleted_at.is_(None)
                )
            )
        )
        if kept and draw(st.booleans()):
            indicator_id = draw(st.sampled_from(kept))
            if draw(st.booleans()):
                indicators.delete_indicator(
                    self.session,
                    commitment_id=commitment.id,
                    indicator_id=indicator_id,
                    check=no_check,
                )
                return
            indicators.update_indicator(
                self.session,
                commitment_id=commitment.id,
                indicator_id=indicator_id,
                data=cast(IndicatorIn, {"ascending": ascending, "periods": periods}),
                check=no_check,
            )
            return
        indicators.create_indicator(
            self.session,
            commitment_id=commitment.id,
            data=cast(
                IndicatorIn,
                {
                    "title": "An indicator",
                    "measure": IndicatorMeasure.UNIT,
                    "ascending": ascending,
                    "baseline_value": 50.0,
                    "baseline_date": PartialDate.parse("2019"),
                    "baseline_source_ids": source,
                    "periods": periods,
                },
            ),
        )


def driven_states(
    session: Session, every: list[Any], facts: dict[int, Any], when: date | None
) -> dict[int, CommitmentState]:
    """Each commitment's state on `when` (today's when None) from its assessments and, where
    they drive its progress, its live indicators read through the ORM, by progress.rules."""
    states = {}
    for c in every:
        state = state_from_assessments(facts.get(c.id, []), when)
        if c.progress_from_indicators:
            measured = session.scalars(
                select(Indicator).where(
                    Indicator.commitment_id == c.id, Indicator.deleted_at.is_(None)
                )
            )
            state = driven_state(
                state,
                commitment_indicators_progress(
                    [
                        IndicatorFacts(i.measure, i.ascending, i.baseline_value, i.periods)
                        for i in measured
                    ],
                    when,
                ),
            )
        states[c.id] = state
    return states


def assert_kept_progress_is_the_historys(session: Session) -> None:
    """Each live commitment's kept status and progress are today's from its history (and
    its indicators, where they drive it), rolled up."""
    session.expire_all()
    every = list(session.scalars(select(Commitment).where(Commitment.deleted_at.is_(None))))
    facts = assessment_facts(session, [c.id for c in every])
    states = driven_states(session, every, facts, None)
    rolled = roll_up([TreeNode(c.id, c.parent_id, c.weight, states[c.id].progress) for c in every])
    for c in every:
        expected = (states[c.id].status, states[c.id].progress, rolled[c.id])
        assert (c.current_status, c.status_progress, c.current_progress) == expected, c.id


def kept_rows(session: Session) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows and spans: the rows' weights compared to nine places (the writes keep them
    by adding changes, a rebuild sums them afresh)."""
    session.expire_all()
    rows = session.execute(
        select(MONTHS).order_by(
            ProgressMonth.agreement_id, ProgressMonth.theme_id, ProgressMonth.month
        )
    ).all()
    spans = session.execute(select(SPANS).order_by(ProgressMonthSpan.agreement_id)).all()
    return [tuple(row) for row in rows], [tuple(row) for row in spans]


def assert_same_rows(kept: Any, rebuilt: Any, where: object) -> None:
    assert kept[1] == rebuilt[1], where
    assert [row[:3] for row in kept[0]] == [row[:3] for row in rebuilt[0]], where
    for one, other in zip(kept[0], rebuilt[0], strict=True):
        for name, value, expected in zip(VALUE_NAMES, one[3:], other[3:], strict=True):
            assert math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-9), (where, one, name)


def expected_series(
    session: Session, scope_ids: set[int] | None, theme: Any | None, months: list[date]
) -> list[tuple[Counter[Status], float | None, int]]:
    """Counts, progress and overdue at each month's end, from every live commitment and its
    assessments by progress.rules: a scope's top commitments are those whose parent is not
    in it, each with its subtree rolled into it."""
    session.expire_all()
    every = list(session.scalars(select(Commitment).where(Commitment.deleted_at.is_(None))))
    facts = assessment_facts(session, [c.id for c in every])
    in_scope = [c for c in every if scope_ids is None or c.agreement_id in scope_ids]
    if theme is not None:
        taxonomy = list(session.scalars(select(Theme).where(Theme.deleted_at.is_(None))))
        under, frontier = {theme.id}, [theme.id]
        while frontier:
            frontier = [t.id for t in taxonomy if t.parent_id in frontier]
            under.update(frontier)
        in_scope = [c for c in in_scope if any(t.id in under for t in c.themes)]
    ids = {c.id for c in in_scope}
    found = []
    for month in months:
        end = month_end(month)
        states = driven_states(session, every, facts, end)
        rolled = roll_up(
            [TreeNode(c.id, c.parent_id, c.weight, states[c.id].progress) for c in every]
        )
        top = [c for c in in_scope if c.parent_id not in ids]
        progress = weighted_mean((rolled[c.id], c.weight) for c in top)
        overdue = sum(
            1
            for c in in_scope
            if c.due_by is not None
            and c.due_by < end
            and states[c.id].status not in TERMINAL_STATUSES
        )
        found.append((Counter(states[c.id].status for c in in_scope), progress, overdue))
    return found


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    operations=st.lists(DATED_OPERATIONS, min_size=1, max_size=14),
    data=st.data(),
)
def test_the_kept_months_are_what_a_rebuild_writes_and_answer_as_the_history(
    session: Session, operations: list[str], data: st.DataObject
) -> None:
    world = written_and_checked(session, operations, data)
    first = data.draw(st.sampled_from(FIRST_MONTHS))
    months = month_range(first, date(first.year + 3, first.month, 1))
    months = months[: data.draw(st.integers(1, 30))]
    scopes: list[tuple[Scope, set[int] | None, Any]] = [(Scope(), None, None)]
    for agreement in world.agreements:
        if agreement.deleted_at is None:
            scopes.append((Scope(agreement=agreement.slug), {agreement.id}, None))
    for theme in world.live_themes():
        scopes.append((Scope(theme=theme.slug), None, theme))
        first_agreement = world.agreements[0]
        if first_agreement.deleted_at is None:
            scopes.append(
                (
                    Scope(organization=world.party.slug, theme=theme.slug),
                    {first_agreement.id},
                    theme,
                )
            )
    for scope, scope_ids, theme in scopes:
        assert_series_is_the_historys(session, scope, scope_ids, theme, months)


def written_and_checked(session: Session, operations: list[str], data: st.DataObject) -> DatedWorld:
    """A world the operations wrote to; after each write the kept rows are a rebuild's (a
    later write to the same agreement would mend a miss), and after the last the kept
    values are the history's."""
    world = DatedWorld(session)
    for operation in operations:
        world.apply(operation, data)
        kept = kept_rows(session)
        rebuild_months(session, [agreement.id for agreement in world.agreements])
        assert_same_rows(kept_rows(session), kept, operation)
    assert_kept_progress_is_the_historys(session)
    return world


def assert_series_is_the_historys(
    session: Session, scope: Scope, scope_ids: set[int] | None, theme: Any, months: list[date]
) -> None:
    """The scope's series over these months is the one computed from the history."""
    series = progress_over_time(session, scope, first=months[0], last=months[-1])
    expected = expected_series(session, scope_ids, theme, months)
    for point, (counts, progress, overdue) in zip(series["points"], expected, strict=True):
        where = (scope, point["month"])
        found = Counter({Status(i["status"]): i["count"] for i in point["by_status"] if i["count"]})
        assert found == counts, where
        assert point["total"] == sum(counts.values()), where
        assert point["overdue"] == overdue, where
        if progress is None or point["progress"] is None:
            assert point["progress"] == progress, where
        else:
            assert abs(point["progress"] - progress) <= 0.0051, where


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(MEASURED_OPERATIONS, min_size=4, max_size=14), data=st.data())
def test_indicators_that_drive_progress_keep_the_months_and_the_history_agreed(
    session: Session, operations: list[str], data: st.DataObject
) -> None:
    """The same, with indicators written at every other step, driving the progress of the
    commitments whose flag is on: the kept values, rows and series are the history's, each
    driven commitment's progress its indicators' on each date."""
    world = written_and_checked(session, operations, data)
    months = month_range(date(2019, 1, 1), date(2025, 1, 1))
    for agreement in world.agreements:
        if agreement.deleted_at is None:
            scope = Scope(agreement=agreement.slug)
            assert_series_is_the_historys(session, scope, {agreement.id}, None, months)


def test_the_rebuild_command_rebuilds_the_months(app: Flask, session: Session) -> None:
    world = DatedWorld(session)
    commitment = make_commitment(session, world.agreements[0], themes=[world.themes[2].slug])
    make_assessment(session, commitment, status=Status.ADVANCED, as_of="2022-05")
    make_assessment(session, commitment, status=Status.COMPLETED, as_of="2023-01")
    kept = kept_rows(session)
    assert len(kept[1]) == 1 and len(kept[0]) == 9 * 4  # 9 months, 4 scopes
    session.execute(MONTHS.update().values(completed=99))
    session.execute(SPANS.delete())
    session.commit()
    result = app.test_cli_runner().invoke(args=["rebuild-statistics"])
    assert result.exit_code == 0, result.output
    assert_same_rows(kept_rows(session), kept, "rebuilt")


def test_each_way_an_assessment_moves_the_months_keeps_what_a_rebuild_writes(
    session: Session,
) -> None:
    """Dated in the span's last month or after it (the months between written from the tree
    as it stood), before it (moved by the change in the root subtree), before the span, and
    a correction: after each, the rows are a rebuild's and the series the history's."""
    world = DatedWorld(session)
    agreement = world.agreements[0]
    theme = world.themes[2].slug
    parent = make_commitment(session, agreement, themes=[theme], weight=2.0)
    child = make_commitment(
        session, agreement, parent_id=parent.id, due_date=PartialDate.parse("2020-12")
    )
    other = make_commitment(session, agreement, due_date=PartialDate.parse("2019-09"))
    writes: list[tuple[Any, dict[str, Any]]] = [
        (child, {"status": Status.INITIATED, "as_of": "2020-01-15"}),  # the first: no span
        (parent, {"status": Status.ADVANCED, "as_of": "2020-01-20"}),  # the span's last month
        (child, {"status": Status.ADVANCED, "as_of": "2021-06"}),  # 16 months after it
        (parent, {"status": Status.STALLED, "as_of": "2020-08"}),  # within the span
        (other, {"status": Status.NOT_STARTED, "as_of": "2019-05"}),  # before the span
    ]
    for commitment, values in writes:
        make_assessment(session, commitment, **values)
        kept = kept_rows(session)
        rebuild_months(session, [agreement.id])
        assert_same_rows(kept_rows(session), kept, values)
    first_of_child = session.scalars(
        select(StatusAssessment.id)
        .where(StatusAssessment.commitment_id == child.id)
        .order_by(StatusAssessment.as_of_value)
    ).first()
    make_assessment(
        session, child, status=Status.COMPLETED, as_of="2021-07", supersedes_id=first_of_child
    )
    kept = kept_rows(session)
    rebuild_months(session, [agreement.id])
    assert_same_rows(kept_rows(session), kept, "correction")
    assert kept[1][0][1:] == (date(2019, 5, 1), date(2021, 7, 1))

    months = month_range(date(2019, 1, 1), date(2022, 1, 1))
    series = progress_over_time(
        session, Scope(agreement=agreement.slug), first=months[0], last=months[-1]
    )
    expected = expected_series(session, {agreement.id}, None, months)
    for point, (counts, progress, overdue) in zip(series["points"], expected, strict=True):
        found = Counter({Status(i["status"]): i["count"] for i in point["by_status"] if i["count"]})
        assert (found, point["overdue"]) == (counts, overdue), point["month"]
        assert (point["progress"] is None) == (progress is None), point["month"]
        if progress is not None:
            assert abs(point["progress"] - progress) <= 0.0051, point["month"]
