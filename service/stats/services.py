"""Statistics for dashboards: status counts, weighted progress, overdue commitments, and
progress month by month. The summary sums the tallies that every write keeps
(progress.tallies) and counts the overdue commitments by due date; the monthly series is
computed from the assessments.

A scope is a set of commitments: an agreement's, those of the agreements an organization (or
a body under it) is party to, those filed under a theme (or a narrower one), or all, in any
combination. A scope's progress is the weighted mean of the progress of its top commitments,
those whose parent is not in the scope, each with its children rolled into it: for an
agreement, exactly the agreement's own `progress`. The monthly series applies the same rule
to the assessments as they stood at each month's end, rolling up one tree level at a time in
SQL.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    and_,
    case,
    cast,
    exists,
    extract,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from service import crud
from service.agreements.models import Agreement
from service.agreements.services import agreements_with_party
from service.assessments.models import StatusAssessment, rests_only_on_low_sources
from service.commitments.models import Commitment
from service.dates import month_end
from service.errors import InvalidInput
from service.progress.sql import (
    is_live_status,
    is_standing,
    overdue_on,
    roll_up_levels,
    rule_order,
    weighted_sums,
)
from service.progress.tallies import TALLIES, filed_under, tallied
from service.themes.models import Theme
from service.vocabularies import EntityType, ImplementationStatus

MAX_MONTHS = 120


@dataclass(frozen=True)
class Scope:
    agreement: str | None = None
    organization: str | None = None
    theme: str | None = None

    def describe(self) -> dict[str, str | None]:
        return {"agreement": self.agreement, "organization": self.organization, "theme": self.theme}


@dataclass(frozen=True)
class ResolvedScope:
    """A scope with its references looked up once (a 422 for one that names nothing)."""

    agreement_id: int | None
    party_agreements: Any  # a subquery of agreement ids, or None
    theme_id: int | None

    def on_agreements(self, column: Any) -> list[ColumnElement[bool]]:
        """The scope's conditions on an agreement id column."""
        conditions: list[ColumnElement[bool]] = []
        if self.agreement_id is not None:
            conditions.append(column == self.agreement_id)
        if self.party_agreements is not None:
            conditions.append(column.in_(self.party_agreements))
        return conditions


def resolve(session: Session, scope: Scope) -> ResolvedScope:
    agreement_id = (
        None
        if scope.agreement is None
        else crud.referenced_ref(
            session, Agreement, EntityType.AGREEMENT, scope.agreement, "agreement"
        )
    )
    parties = (
        None
        if scope.organization is None
        else agreements_with_party(session, scope.organization, "organization")
    )
    theme_id = (
        None
        if scope.theme is None
        else crud.referenced_ref(session, Theme, EntityType.THEME, scope.theme, "theme")
    )
    return ResolvedScope(agreement_id, parties, theme_id)


def scope_condition(
    session: Session, scope: Scope | ResolvedScope, table: Any = Commitment
) -> ColumnElement[bool]:
    """Which live commitments are in the scope (`table`: the commitments, or an alias)."""
    resolved = scope if isinstance(scope, ResolvedScope) else resolve(session, scope)
    conditions = [table.deleted_at.is_(None), *resolved.on_agreements(table.agreement_id)]
    if resolved.theme_id is not None:
        conditions.append(table.id.in_(filed_under(resolved.theme_id)))
    return and_(*conditions)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _counts(rows: Sequence[Any]) -> list[dict[str, Any]]:
    found = {ImplementationStatus(status): count for status, count in rows}
    return [{"status": status, "count": found.get(status, 0)} for status in ImplementationStatus]


def summary(
    session: Session,
    scope: Scope,
    *,
    today: date | None = None,
    exclude_low_reliability: bool = False,
) -> dict[str, Any]:
    """Counts by status, weighted progress and overdue commitments, now: the counts and the
    progress summed from the scope's kept tallies (progress.tallies), the overdue ones
    counted from the commitments by due date (it depends on the day). Leaving out what
    rests only on low sources is a choice of the reader's: that one counts the commitments."""
    today = today or date.today()
    resolved = resolve(session, scope)
    if exclude_low_reliability:
        return _summary_of_reliable(session, scope, resolved, today)
    tallies = tallied(
        resolved.on_agreements(TALLIES.c.agreement_id),
        resolved.theme_id,
    )
    rows = session.execute(tallies).all()
    overdue = session.scalar(
        select(func.count())
        .select_from(Commitment)
        .where(scope_condition(session, resolved), overdue_on(today))
    )
    return _summary_answer(scope, rows, int(overdue or 0), today, left_out=0)


def _summary_answer(
    scope: Scope, rows: Sequence[Any], overdue: int, today: date, *, left_out: int
) -> dict[str, Any]:
    """The answer from rows of (status, count, known weight, weighted progress) of the top
    commitments."""
    known_weight = sum(float(row[2] or 0) for row in rows)
    progress = sum(float(row[3] or 0) for row in rows) / known_weight if known_weight else None
    by_status = _counts([(row[0], int(row[1])) for row in rows])
    return {
        "scope": scope.describe(),
        "total": sum(item["count"] for item in by_status),
        "by_status": by_status,
        "progress": _rounded(progress),
        "overdue": overdue,
        "as_of": today,
        "left_out": left_out,
    }


def _summary_of_reliable(
    session: Session, scope: Scope, resolved: ResolvedScope, today: date
) -> dict[str, Any]:
    """The summary without the commitments whose current status rests only on low sources,
    counted from the commitments' derived columns (which sources are weak can change without
    a write to the commitments, so no tally keeps it)."""
    in_scope = scope_condition(session, resolved)
    weak = rests_only_on_low_sources(Commitment.current_assessment_id)
    left_out = int(
        session.scalar(select(func.count()).select_from(Commitment).where(in_scope, weak)) or 0
    )
    in_scope = and_(in_scope, ~weak)
    if resolved.theme_id is None:
        # A scope of whole agreements holds whole trees (a deletion takes the subtree with
        # it): its top commitments are the roots.
        top: ColumnElement[bool] = Commitment.parent_id.is_(None)
    else:
        parent = aliased(Commitment)
        top = ~exists().where(
            parent.id == Commitment.parent_id, scope_condition(session, resolved, parent)
        )
    rows = session.execute(
        select(
            Commitment.current_status,
            func.count(),
            *weighted_sums(Commitment.current_progress, Commitment.weight, top),
        )
        .where(in_scope)
        .group_by(Commitment.current_status)
    ).all()
    overdue = session.scalar(
        select(func.count()).select_from(Commitment).where(in_scope, overdue_on(today))
    )
    return _summary_answer(scope, rows, int(overdue or 0), today, left_out=left_out)


def month_range(first: date, last: date) -> list[date]:
    """The first days of the months from `first`'s to `last`'s. Counted by month number,
    never by stepping to the month after the last: December 9999 has none."""
    start, end = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    return [date(number // 12, number % 12 + 1, 1) for number in range(start, end + 1)]


def progress_over_time(
    session: Session, scope: Scope, *, first: date, last: date
) -> dict[str, Any]:
    """For each month, the scope's counts by status and weighted progress at its last day."""
    months = month_range(first, last)
    if not months:
        raise InvalidInput("`from` is after `to`.", errors={"from": ["Must not be after `to`."]})
    if len(months) > MAX_MONTHS:
        message = f"A series covers at most {MAX_MONTHS} months."
        raise InvalidInput(message, errors={"from": [message]})
    points = _series(session, scope, months)
    return {"scope": scope.describe(), "points": points}


# The series for a scope of many agreements is computed a slice of agreements at a time: a
# tree never crosses agreements, so the slices add up exactly, and each statement stays well
# within the statement timeout (it works months x commitments rows).
AGREEMENTS_PER_STATEMENT = 250


def _series(session: Session, scope: Scope, months: list[date]) -> list[dict[str, Any]]:
    in_scope = scope_condition(session, scope)
    # The trees the scope's commitments live in: a child outside a theme still rolls into it.
    # Read first, as a list: as a subquery the planner could not use the agreement index and
    # scanned every commitment (tests/test_performance_guards.py).
    agreements = sorted(session.scalars(select(Commitment.agreement_id).where(in_scope).distinct()))
    max_depth = session.scalar(
        select(func.max(Commitment.depth)).where(
            Commitment.deleted_at.is_(None), Commitment.agreement_id.in_(agreements)
        )
    )
    known_weight: dict[int, float] = defaultdict(float)
    weighted: dict[int, float] = defaultdict(float)
    counts_by_month: dict[int, Counter[str]] = defaultdict(Counter)
    overdue: dict[int, int] = defaultdict(int)
    if max_depth is not None:
        postgresql = session.get_bind().dialect.name == "postgresql"
        expand = _expand_by_series if postgresql else _expand_by_join(months)
        day_after = _day_after_on_postgresql if postgresql else _day_after_on_sqlite
        for start in range(0, len(agreements), AGREEMENTS_PER_STATEMENT):
            statement = _series_of_agreements(
                in_scope,
                agreements[start : start + AGREEMENTS_PER_STATEMENT],
                months,
                max_depth,
                whole_trees=scope.theme is None,
                expand=expand,
                day_after=day_after,
            )
            for month, status, count, late, weight, weighted_sum in session.execute(statement):
                if status is None:
                    known_weight[month] += float(weight or 0)
                    weighted[month] += float(weighted_sum or 0)
                else:
                    counts_by_month[month][status] += count
                    overdue[month] += int(late or 0)
    points = []
    for index, month in enumerate(months):
        progress = weighted[index] / known_weight[index] if known_weight.get(index) else None
        by_status = _counts(list(counts_by_month.get(index, Counter()).items()))
        points.append(
            {
                "month": month.isoformat()[:7],
                "total": sum(item["count"] for item in by_status),
                "by_status": by_status,
                "progress": _rounded(progress),
                "overdue": overdue.get(index, 0),
                "as_of": month_end(month),
            }
        )
    return points


def _month_index(value: Any, first: date) -> Any:
    """Which month of the series a date falls in: 0 for the first, negative before it."""
    year = cast(extract("year", value), Integer)
    month = cast(extract("month", value), Integer)
    return year * 12 + month - (first.year * 12 + first.month)


def _clipped(index: Any, months: int) -> Any:
    return case((index < 0, 0), (index > months, months), else_=index)


Expand = Callable[[Any], tuple[Any, Any]]
DayAfter = Callable[[Any], Any]


def _day_after_on_postgresql(value: Any) -> Any:
    return value + 1


def _day_after_on_sqlite(value: Any) -> Any:
    return func.date(value, "+1 day")


def _expand_by_series(spans: Any) -> tuple[Any, Any]:
    """PostgreSQL: each span's months from generate_series (a function in FROM sees the
    tables before it), exactly the rows needed. Returns the FROM clause and the month."""
    series = (
        func.generate_series(spans.c.first_month, spans.c.end_month - 1)
        .table_valued("month")
        .render_derived(name="span_months")
    )
    return spans.join(series, literal(True)), series.c.month


def _expand_by_join(months: list[date]) -> Expand:
    """SQLite (no generate_series): each span's months joined from a table of month numbers."""
    numbers = union_all(
        *(select(literal(index).label("month")) for index in range(len(months)))
    ).cte("month_numbers")

    def expand(spans: Any) -> tuple[Any, Any]:
        joined = spans.join(
            numbers,
            and_(numbers.c.month >= spans.c.first_month, numbers.c.month < spans.c.end_month),
        )
        return joined, numbers.c.month

    return expand


def _series_of_agreements(
    in_scope: ColumnElement[bool],
    agreements: list[int],
    months: list[date],
    max_depth: int,
    *,
    whole_trees: bool,
    expand: Expand,
    day_after: DayAfter,
) -> Any:
    """One statement for the scope's part in these agreements: for each month (by its index),
    a row with the top commitments' known weight and weighted progress (status null), and a
    row per status with its count and how many of those are overdue at the month's end.

    Each standing assessment holds from its month to the month before the next one's (LEAD
    over the standing assessments in the order of progress.sql.rule_order); before
    its first, a commitment is not assessed. So each commitment has exactly one state a
    month, and these spans are expanded into exactly those rows: no join of every commitment
    with every month (PostgreSQL chose a merge join for it that compared months x months rows
    for each commitment).

    `whole_trees`: the scope holds whole trees (no theme), so its top commitments are the
    roots, and no search for parents outside the scope is needed.

    Overdue is `progress.sql.overdue_on` on each month's last day, restated by month
    index: that day is after the due period exactly when the day after the due period falls
    in that month or an earlier one (`due_from`)."""
    count = len(months)
    first = months[0]
    assessment = aliased(StatusAssessment)
    live_trees = and_(Commitment.deleted_at.is_(None), Commitment.agreement_id.in_(agreements))
    tree_columns = (
        Commitment.parent_id,
        Commitment.depth,
        Commitment.weight,
        case((in_scope, 1), else_=0).label("in_scope"),
        _month_index(day_after(Commitment.due_by), first).label("due_from"),
    )
    standing = (
        select(
            assessment.commitment_id,
            *tree_columns,
            assessment.status,
            cast(assessment.effective_progress, Float).label("own_progress"),
            _month_index(assessment.as_of_value, first).label("starts"),
            _month_index(
                func.lead(assessment.as_of_value).over(
                    partition_by=assessment.commitment_id,
                    order_by=rule_order(assessment),
                ),
                first,
            ).label("ends"),
        )
        .join(Commitment, Commitment.id == assessment.commitment_id)
        .where(
            live_trees,
            assessment.as_of_value <= month_end(months[-1]),
            is_standing(assessment),
        )
        .cte("standing")
    )
    assessed = select(
        standing.c.commitment_id,
        standing.c.parent_id,
        standing.c.depth,
        standing.c.weight,
        standing.c.in_scope,
        standing.c.due_from,
        standing.c.status,
        standing.c.own_progress,
        _clipped(standing.c.starts, count).label("first_month"),
        case((standing.c.ends.is_(None), count), else_=_clipped(standing.c.ends, count)).label(
            "end_month"
        ),
    )
    first_assessed = (
        select(standing.c.commitment_id, func.min(standing.c.starts).label("starts"))
        .group_by(standing.c.commitment_id)
        .subquery("first_assessed")
    )
    before_any = (
        select(
            Commitment.id.label("commitment_id"),
            *tree_columns,
            literal(ImplementationStatus.NOT_ASSESSED.value).label("status"),
            cast(null(), Float).label("own_progress"),
            literal(0).label("first_month"),
            func.coalesce(_clipped(first_assessed.c.starts, count), count).label("end_month"),
        )
        .outerjoin(first_assessed, first_assessed.c.commitment_id == Commitment.id)
        .where(live_trees)
    )
    spans = union_all(assessed, before_any).subquery("spans")
    joined, month = expand(spans)
    nodes = (
        select(
            month.label("month"),
            spans.c.commitment_id,
            spans.c.parent_id,
            spans.c.depth,
            spans.c.weight,
            spans.c.in_scope,
            spans.c.due_from,
            spans.c.status,
            spans.c.own_progress,
        )
        .select_from(joined)
        .cte("nodes")
    )
    # Roll up from the deepest level (progress.sql.roll_up_levels), each month a tree.
    levels = roll_up_levels(nodes, max_depth, keys=("month",), carried=("in_scope",))
    level = levels[-1]
    if whole_trees:
        every: Any = level  # the roots: level 0
        top = and_(every.c.in_scope == 1, every.c.parent_id.is_(None))
    else:
        every = union_all(*(select(item) for item in levels)).subquery("every_level")
        parents = aliased(every)
        parent_in_scope = exists().where(
            parents.c.month == every.c.month,
            parents.c.commitment_id == every.c.parent_id,
            parents.c.in_scope == 1,
        )
        top = and_(every.c.in_scope == 1, ~parent_in_scope)
    known_weight, weighted = weighted_sums(every.c.progress, every.c.weight)
    progress_rows = (
        select(
            every.c.month,
            null().label("status"),
            literal(0).label("count"),
            literal(0).label("overdue"),
            known_weight.label("known_weight"),
            weighted.label("weighted"),
        )
        .where(top)
        .group_by(every.c.month)
    )
    late = and_(nodes.c.due_from <= nodes.c.month, is_live_status(nodes.c.status))
    count_rows = (
        select(
            nodes.c.month,
            nodes.c.status,
            func.count().label("count"),
            func.sum(case((late, 1), else_=0)).label("overdue"),
            null().label("known_weight"),
            null().label("weighted"),
        )
        .where(nodes.c.in_scope == 1)
        .group_by(nodes.c.month, nodes.c.status)
    )
    return union_all(progress_rows, count_rows)


def _month(text: str) -> date:
    year, month = (int(part) for part in text.split("-"))
    return date(year, month, 1)


def get_stats_summary(session: Session, **query: Any) -> dict[str, Any]:
    exclude_low_reliability = query.pop("exclude_low_reliability", False)
    return summary(session, Scope(**query), exclude_low_reliability=exclude_low_reliability)


def get_stats_progress(session: Session, **query: Any) -> dict[str, Any]:
    """The monthly series; `to` defaults to this month, `from` to eleven months before it."""
    last = _month(query.pop("to_month")) if "to_month" in query else date.today().replace(day=1)
    if "from_month" in query:
        first = _month(query.pop("from_month"))
    else:
        first = date(last.year - (1 if last.month < 12 else 0), last.month % 12 + 1, 1)
    return progress_over_time(session, Scope(**query), first=first, last=last)
