"""Statistics for dashboards: status counts, weighted progress, overdue commitments, and
progress month by month. The summary sums the tallies that every write keeps
(progress.tallies) and the open commitments it keeps by due date (progress.dues; a theme's
scope counts its commitments); the monthly series sums
the monthly rows that every write keeps (progress.month_rows), and for the months outside an
agreement's rows, its tallies and its commitments' due dates.

A scope is a set of commitments: an agreement's, those of the agreements an organization (or
a body under it) is party to, those filed under a theme (or a narrower one), or all, in any
combination. A scope's progress is the weighted mean of the progress of its top commitments,
those whose parent is not in the scope, each with its children rolled into it: for an
agreement, exactly the agreement's own `progress`. The monthly series applies the same rule
to the assessments as they stood at each month's end.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Unpack, cast

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from service.agreements.inputs import AgreementFilters
from service.agreements.models import Agreement
from service.agreements.services import (
    agreements_with_party,
    lifecycle_statuses_on,
    list_agreements,
)
from service.assessments.models import rests_only_on_low_sources
from service.commitments.models import Commitment
from service.core import records
from service.core.dates import month_end
from service.core.errors import InvalidInput
from service.core.pagination import Page, PageRequest
from service.core.vocabularies import EntityType, ImplementationStatus, IndicatorTrack
from service.indicators.models import Indicator
from service.progress.as_of import scopes_on
from service.progress.dues import overdue_kept, overdue_kept_by_agreement
from service.progress.indicators import indicator_track
from service.progress.models import EVERY_THEME
from service.progress.months import (
    OVERDUE,
    TOP_KNOWN,
    TOP_KNOWN_WEIGHT,
    TOP_WEIGHTED_PROGRESS,
    VALUE_NAMES,
    month_range,
)
from service.progress.rules import is_overdue
from service.progress.sql import overdue_on, weighted_sums
from service.progress.tables import COMMITMENTS, DUES, MONTHS, SPANS, TALLIES
from service.progress.tallies import (
    AGREEMENTS_PER_REBUILD,
    filed_under,
    tallied,
    tallied_by_agreement,
)
from service.stats.inputs import (
    MAX_AS_OF_COMMITMENTS,
    AgreementStatsFilters,
    StatsScopeQuery,
    StatsSeriesQuery,
    StatsSummaryQuery,
)
from service.themes.models import Theme

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
        else records.referenced_ref(
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
        else records.referenced_ref(session, Theme, EntityType.THEME, scope.theme, "theme")
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
    as_of: date | None = None,
    exclude_low_reliability: bool = False,
) -> dict[str, Any]:
    """Counts by status, weighted progress and overdue commitments, now: the counts and the
    progress summed from the scope's kept tallies (progress.tallies), the overdue ones from
    its kept open commitments by due date (progress.dues; it depends on the day), or for a
    theme's scope, counted from its commitments. Leaving out what
    rests only on low sources is a choice of the reader's: that one counts the commitments.
    `as_of`: as things stood at the end of that day, from the history (progress.as_of)."""
    today = today or date.today()
    resolved = resolve(session, scope)
    if as_of is not None:
        if exclude_low_reliability:
            message = "Cannot be combined with as_of: which sources are weak is known today."
            raise InvalidInput(message, errors={"exclude_low_reliability": [message]})
        answer = _summary_as_of(session, scope, resolved, as_of)
        today = as_of
    elif exclude_low_reliability:
        answer = _summary_of_reliable(session, scope, resolved, today)
    else:
        answer = _summary_of_tallies(session, scope, resolved, today)
    return {**answer, "indicators": _indicator_tracks(session, resolved, today)}


def _summary_as_of(
    session: Session, scope: Scope, resolved: ResolvedScope, day: date
) -> dict[str, Any]:
    """The summary as things stood at the end of `day`: the values on that day of the
    agreements with commitments in the scope (progress.as_of.scopes_on), summed for the
    scope's theme key."""
    agreement_ids = list(
        session.scalars(
            select(Commitment.agreement_id)
            .where(scope_condition(session, resolved))
            .distinct()
            .order_by(Commitment.agreement_id)
        )
    )
    refuse_unbounded_history(session, agreement_ids)
    theme_key = EVERY_THEME if resolved.theme_id is None else resolved.theme_id
    summed = [0.0] * len(VALUE_NAMES)
    # A batch of trees and their histories in memory at a time, as a rebuild reads them.
    for start in range(0, len(agreement_ids), AGREEMENTS_PER_REBUILD):
        batch = agreement_ids[start : start + AGREEMENTS_PER_REBUILD]
        for values in scopes_on(session.connection(), batch, day).values():
            if theme_key in values:
                summed = [
                    total + value for total, value in zip(summed, values[theme_key], strict=True)
                ]
    return {"scope": scope.describe(), **_values_figures(summed, day), "left_out": 0}


def refuse_unbounded_history(session: Session, agreement_ids: Sequence[int]) -> None:
    """Figures as of a day are computed from the whole trees and histories of these
    agreements: refuse (422, naming `as_of`) when they hold more than MAX_AS_OF_COMMITMENTS
    live commitments, so that no request reads an unbounded history."""
    held = session.scalar(
        select(func.count())
        .select_from(Commitment)
        .where(Commitment.agreement_id.in_(agreement_ids), Commitment.deleted_at.is_(None))
    )
    if held and held > MAX_AS_OF_COMMITMENTS:
        message = (
            f"Figures as of a day are computed from the history of at most "
            f"{MAX_AS_OF_COMMITMENTS:,} commitments; this asks for {held:,}. Narrow the scope "
            "(agreement, organization, theme) or the page, or read /stats/progress, whose "
            "months are kept."
        )
        raise InvalidInput(message, errors={"as_of": [message]})


def list_agreement_stats(
    session: Session,
    *,
    page: PageRequest,
    filters: AgreementStatsFilters,
    today: date | None = None,
) -> Page[dict[str, Any]]:
    """The summary of each agreement of a page of the agreements list (its filters, its
    order): what `summary` gives for that agreement's scope, its indicators aside, read for
    the whole page at once from the kept tallies and open commitments (two statements); with
    its lifecycle status. `as_of`: as things stood at the end of that day, from the history
    (progress.as_of) and the agreements' events."""
    listed: dict[str, Any] = dict(filters)
    as_of: date | None = listed.pop("as_of", None)
    found = list_agreements(session, page=page, filters=cast(AgreementFilters, listed))
    if as_of is not None:
        return Page(
            items=_agreement_stats_as_of(session, found.items, as_of), next_key=found.next_key
        )
    today = today or date.today()
    ids = [agreement.id for agreement in found.items]
    rows: dict[int, list[Any]] = {key: [] for key in ids}
    for row in session.execute(tallied_by_agreement(ids)):
        rows[row.agreement_id].append(row[1:])
    overdue = {row[0]: row[1] for row in session.execute(overdue_kept_by_agreement(today, ids))}
    items = []
    for agreement in found.items:
        answer = _summary_answer(
            Scope(agreement=agreement.slug),
            rows[agreement.id],
            int(overdue.get(agreement.id, 0)),
            today,
            left_out=0,
        )
        items.append(
            {"agreement": agreement, "lifecycle_status": agreement.lifecycle_status, **answer}
        )
    return Page(items=items, next_key=found.next_key)


def _agreement_stats_as_of(
    session: Session, agreements: Sequence[Agreement], day: date
) -> list[dict[str, Any]]:
    """Each agreement's figures and lifecycle status as they stood at the end of `day`."""
    ids = [agreement.id for agreement in agreements]
    refuse_unbounded_history(session, ids)
    found = scopes_on(session.connection(), ids, day)
    statuses = lifecycle_statuses_on(session, ids, day)
    return [
        {
            "agreement": agreement,
            "lifecycle_status": statuses[agreement.id],
            **_values_figures(found[agreement.id].get(EVERY_THEME), day),
        }
        for agreement in agreements
    ]


def _values_figures(values: Sequence[float] | None, day: date) -> dict[str, Any]:
    """_figures from a scope's values (progress.months.VALUE_NAMES; None: no commitment)."""
    values = values or [0] * len(VALUE_NAMES)
    return _figures(
        [(status, int(count)) for status, count in zip(ImplementationStatus, values, strict=False)],
        int(values[OVERDUE]),
        float(values[TOP_KNOWN_WEIGHT]),
        float(values[TOP_WEIGHTED_PROGRESS]),
        day,
        known=bool(values[TOP_KNOWN]),
    )


def _indicator_tracks(session: Session, resolved: ResolvedScope, today: date) -> dict[str, Any]:
    """The scope's indicators by track (progress/indicators.py) on `today`: read from the
    indicators themselves, a few per commitment, with their periods (two statements)."""
    in_scope = select(Commitment.id).where(scope_condition(session, resolved))
    indicators = session.scalars(
        records.live(Indicator).where(Indicator.commitment_id.in_(in_scope))
    )
    counts = Counter(
        indicator_track(i.measure, i.ascending, i.baseline_value, i.baseline_date, i.periods, today)
        for i in indicators
    )
    return {
        "total": sum(counts.values()),
        "by_track": [{"track": track, "count": counts.get(track, 0)} for track in IndicatorTrack],
    }


def _summary_of_tallies(
    session: Session, scope: Scope, resolved: ResolvedScope, today: date
) -> dict[str, Any]:
    """The summary from the kept tallies and open commitments by due date."""
    tallies = tallied(
        resolved.on_agreements(TALLIES.c.agreement_id),
        resolved.theme_id,
    )
    rows = session.execute(tallies).all()
    if resolved.theme_id is None:
        # Whole agreements: their kept open commitments by due date (every agreement's:
        # the totals).
        agreements = resolved.on_agreements(DUES.c.agreement_id)
        overdue = session.scalar(overdue_kept(today, agreements or None))
    else:
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
    return {
        "scope": scope.describe(),
        **_figures(
            [(row[0], int(row[1])) for row in rows],
            overdue,
            sum(float(row[2] or 0) for row in rows),
            sum(float(row[3] or 0) for row in rows),
            today,
        ),
        "left_out": left_out,
    }


def _figures(
    counts: Iterable[tuple[Any, int]],
    overdue: int,
    known_weight: float,
    weighted: float,
    day: date,
    *,
    known: bool = True,
) -> dict[str, Any]:
    """What a summary and each point of a series give: every status's count (with zeros),
    the weighted mean progress of the top commitments whose progress is known (the weighted
    sum over their weight; none when none is `known`), and the overdue ones, on `day`."""
    by_status = _counts(list(counts))
    return {
        "total": sum(item["count"] for item in by_status),
        "by_status": by_status,
        "progress": _rounded(weighted / known_weight if known and known_weight else None),
        "overdue": overdue,
        "as_of": day,
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
    points = _series(session, resolve(session, scope), months)
    return {"scope": scope.describe(), "points": points}


def _series(session: Session, scope: ResolvedScope, months: list[date]) -> list[dict[str, Any]]:
    """Three grouped reads, folded month by month: the kept rows of the months within each
    agreement's span, summed by month; for the agreements whose span leaves some of the
    months out, their tallies (as things stand now, after the span) by span; and those
    agreements' commitments due before the last month's end, by span, due date and current
    status (overdue in a month after the span when that status is live, in any month before
    it: every commitment was not assessed then)."""
    first, last = months[0], months[-1]
    theme_key = EVERY_THEME if scope.theme_id is None else scope.theme_id
    kept = {
        row[0]: row[1:]
        for row in session.execute(
            select(MONTHS.c.month, *(func.sum(MONTHS.c[name]) for name in VALUE_NAMES))
            .where(
                MONTHS.c.theme_id == theme_key,
                MONTHS.c.month.between(first, last),
                *scope.on_agreements(MONTHS.c.agreement_id),
            )
            .group_by(MONTHS.c.month)
        )
    }
    # The span's ends that fall within the series (None: beyond it); an agreement whose span
    # holds every month of the series is left out, one with no span (no assessment) is not.
    starts_within = case((SPANS.c.first_month > first, SPANS.c.first_month))
    ends_within = case((SPANS.c.last_month < last, SPANS.c.last_month))
    leaves_out = or_(
        SPANS.c.agreement_id.is_(None), SPANS.c.first_month > first, SPANS.c.last_month < last
    )
    tallied = session.execute(
        select(
            starts_within,
            ends_within,
            SPANS.c.agreement_id.is_not(None),
            TALLIES.c.status,
            func.sum(TALLIES.c.commitments),
            func.sum(TALLIES.c.top_known_weight),
            func.sum(TALLIES.c.top_weighted_progress),
        )
        .select_from(TALLIES.outerjoin(SPANS, SPANS.c.agreement_id == TALLIES.c.agreement_id))
        .where(
            TALLIES.c.theme_id == theme_key,
            *scope.on_agreements(TALLIES.c.agreement_id),
            leaves_out,
        )
        .group_by(starts_within, ends_within, SPANS.c.agreement_id.is_not(None), TALLIES.c.status)
    ).all()
    due = session.execute(
        select(
            starts_within,
            ends_within,
            SPANS.c.agreement_id.is_not(None),
            Commitment.due_by,
            Commitment.current_status,
            func.count(),
        )
        .select_from(COMMITMENTS.outerjoin(SPANS, SPANS.c.agreement_id == Commitment.agreement_id))
        .where(
            scope_condition(session, scope),
            Commitment.due_by < month_end(last),
            leaves_out,
        )
        .group_by(
            starts_within,
            ends_within,
            SPANS.c.agreement_id.is_not(None),
            Commitment.due_by,
            Commitment.current_status,
        )
    ).all()
    return [_point(month, kept.get(month), tallied, due) for month in months]


def _point(
    month: date, kept: Sequence[Any] | None, tallied: Sequence[Any], due: Sequence[Any]
) -> dict[str, Any]:
    """A month's point from the reads of `_series`."""
    counts: Counter[ImplementationStatus] = Counter()
    overdue = known = 0
    known_weight = weighted = 0.0
    if kept is not None:
        for status, count in zip(ImplementationStatus, kept, strict=False):
            counts[status] += int(count or 0)
        overdue = int(kept[OVERDUE] or 0)
        known = int(kept[TOP_KNOWN] or 0)
        known_weight = float(kept[TOP_KNOWN_WEIGHT] or 0)
        weighted = float(kept[TOP_WEIGHTED_PROGRESS] or 0)
    end = month_end(month)
    for starts, ends, spanned, status, count, weight, weighted_sum in tallied:
        if not spanned or (ends is not None and _day(ends) < month):
            counts[ImplementationStatus(status)] += int(count)
            known_weight += float(weight or 0)
            weighted += float(weighted_sum or 0)
            known += int(float(weight or 0) > 0)
        elif starts is not None and _day(starts) > month:
            counts[ImplementationStatus.NOT_ASSESSED] += int(count)
    for starts, ends, spanned, due_by, status, count in due:
        if not spanned or (ends is not None and _day(ends) < month):
            standing = ImplementationStatus(status)  # as now
        elif starts is not None and _day(starts) > month:
            standing = ImplementationStatus.NOT_ASSESSED  # as before any assessment
        else:
            continue  # a kept row counted it
        if is_overdue(_day(due_by), standing, end):
            overdue += count
    return {
        "month": month.isoformat()[:7],
        **_figures(counts.items(), overdue, known_weight, weighted, end, known=bool(known)),
    }


def _day(value: Any) -> date:
    """A date as the database answers it (SQLite: text, from an expression)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _month(text: str) -> date:
    year, month = (int(part) for part in text.split("-"))
    return date(year, month, 1)


def _scope(query: StatsScopeQuery) -> Scope:
    return Scope(
        agreement=query.get("agreement"),
        organization=query.get("organization"),
        theme=query.get("theme"),
    )


def get_stats_summary(session: Session, **query: Unpack[StatsSummaryQuery]) -> dict[str, Any]:
    return summary(
        session,
        _scope(query),
        as_of=query.get("as_of"),
        exclude_low_reliability=query.get("exclude_low_reliability", False),
    )


def get_stats_progress(session: Session, **query: Unpack[StatsSeriesQuery]) -> dict[str, Any]:
    """The monthly series; `to` defaults to this month, `from` to eleven months before it."""
    last = _month(query["to_month"]) if "to_month" in query else date.today().replace(day=1)
    if "from_month" in query:
        first = _month(query["from_month"])
    else:
        first = date(last.year - (1 if last.month < 12 else 0), last.month % 12 + 1, 1)
    return progress_over_time(session, _scope(query), first=first, last=last)
