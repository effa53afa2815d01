"""The progress series' monthly snapshots, kept in the transaction of every write (issue 17).

For each agreement, each scope of its tree that the tallies keep (EVERY_THEME, and each theme
its commitments are in the scope of), and each month from its live commitments' first
assessment's month to their last one's: the scope at the month's end, one row
(models.ProgressMonth), and the span in models.ProgressMonthSpan. No other month needs a row:
before the span every live commitment was not assessed, after it each stands as it stands
now (the tallies), and only the overdue count moves as due dates pass, which the series counts
from the commitments' due dates (stats.services).

`months_of` states a month's values once, in Python, from an agreement's live tree and its
assessments: each commitment's state at the month's end by the as-of rule (rules.states_on),
rolled up (rules.roll_up), tallied (tallies.tallies_of), plus the overdue count.
progress.month_rows writes and rebuilds the rows from these values. tests/progress holds the
kept rows equal to a rebuild's after random writes, and the series equal to one computed
from the history in Python.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    bindparam,
    select,
)

from service.core.dates import month_end
from service.core.vocabularies import ImplementationStatus
from service.progress.driven import DrivenIndicators, driven_by
from service.progress.indicators import actual_dates
from service.progress.models import EVERY_THEME
from service.progress.rules import (
    AssessmentFact,
    CommitmentState,
    TreeNode,
    is_overdue,
    roll_up,
    states_on,
)
from service.progress.tables import ASSESSMENTS, COMMITMENTS
from service.progress.tallies import (
    ScopedNode,
    Tallies,
    scope_themes,
    tallies_of,
    themes_in,
)

STATUS_NAMES = tuple(status.value for status in ImplementationStatus)
# A scope's values at a month's end, in this order: the columns of ProgressMonth after its key.
VALUE_NAMES = (*STATUS_NAMES, "overdue", "top_known", "top_known_weight", "top_weighted_progress")
OVERDUE, TOP_KNOWN, TOP_KNOWN_WEIGHT, TOP_WEIGHTED_PROGRESS = range(
    len(STATUS_NAMES), len(VALUE_NAMES)
)
_STATUS_INDEX = {status: index for index, status in enumerate(ImplementationStatus)}

Values = tuple[float, ...]
# By (theme key, month's first day), or by (theme key, day) (`values_on`).
Snapshot = dict[tuple[int, date], Values]
Span = tuple[date, date]


class MonthlyNode(NamedTuple):
    """A live commitment as the snapshots read it: its place in the tree, its weight, the
    theme scopes it is in (EVERY_THEME aside) and the last day of its due period."""

    id: int
    parent_id: int | None
    weight: float
    themes: frozenset[int]
    due_by: date | None


def month_range(first: date, last: date) -> list[date]:
    """The first days of the months from `first`'s to `last`'s. Counted by month number,
    never by stepping to the month after the last: December 9999 has none."""
    start, end = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    return [date(number // 12, number % 12 + 1, 1) for number in range(start, end + 1)]


def first_day(day: date) -> date:
    return day.replace(day=1)


def span_of(
    facts: Mapping[int, Sequence[AssessmentFact]], driven: DrivenIndicators | None = None
) -> Span | None:
    """The months the rows run over: from the first assessment's month to the last one's
    (corrected ones too: the span only has to hold every month in which a state changed),
    and the months of the actual values of the indicators that drive a commitment's
    progress (`driven`)."""
    dates = [fact.as_of for own in facts.values() for fact in own]
    dates += actual_dates(indicator for own in (driven or {}).values() for indicator in own)
    return (first_day(min(dates)), first_day(max(dates))) if dates else None


def months_of(
    nodes: Sequence[MonthlyNode],
    facts: Mapping[int, Sequence[AssessmentFact]],
    months: Sequence[date],
    driven: DrivenIndicators | None = None,
) -> Snapshot:
    """The values of each scope of these live commitments (a whole tree, or whole subtrees
    of one) at the end of each of these months (ascending), from their assessments and,
    where they drive a commitment's progress, its indicators (`driven`): `values_on` their
    last days, by month."""
    found = values_on(nodes, facts, [month_end(month) for month in months], driven)
    return {(theme_id, first_day(day)): values for (theme_id, day), values in found.items()}


def values_on(
    nodes: Sequence[MonthlyNode],
    facts: Mapping[int, Sequence[AssessmentFact]],
    ends: Sequence[date],
    driven: DrivenIndicators | None = None,
) -> Snapshot:
    """The values of each scope of these live commitments at the end of each of these days
    (ascending), by (theme key, day): each commitment's state that day by the as-of rule
    (and its indicators, `driven`), rolled up, tallied, and the overdue ones counted."""
    walked = [
        _driven_walk(states_on(facts.get(node.id, ()), ends), node.id, driven, ends)
        if driven and node.id in driven
        else states_on(facts.get(node.id, ()), ends)
        for node in nodes
    ]
    snapshot: Snapshot = {}
    previous: list[CommitmentState] | None = None
    tallied: dict[int, list[float]] = {}
    for index, end in enumerate(ends):
        states = [column[index] for column in walked]
        # rules.states_on gives the same object while a state stands.
        if previous is None or any(
            now is not before for now, before in zip(states, previous, strict=True)
        ):
            rolled = roll_up(
                [
                    TreeNode(node.id, node.parent_id, node.weight, state.progress)
                    for node, state in zip(nodes, states, strict=True)
                ]
            )
            tallied = _tallied(
                ScopedNode(
                    node.id, node.parent_id, node.weight, state.status, rolled[node.id], node.themes
                )
                for node, state in zip(nodes, states, strict=True)
            )
        previous = states
        overdue = _overdue(nodes, [state.status for state in states], end)
        for theme_id, values in tallied.items():
            snapshot[theme_id, end] = _with_overdue(values, overdue.get(theme_id, 0))
    return snapshot


def _driven_walk(
    states: Sequence[CommitmentState],
    commitment_id: int,
    driven: DrivenIndicators,
    ends: Sequence[date],
) -> list[CommitmentState]:
    """A commitment's states at each month's end (rules.states_on) once its indicators drive
    its progress (driven.driven_by on that day), the same object while a state stands, as
    states_on gives it."""
    walked: list[CommitmentState] = []
    for state, end in zip(states, ends, strict=True):
        now = driven_by(state, commitment_id, driven, end)
        if walked and walked[-1] == now:
            now = walked[-1]
        walked.append(now)
    return walked


def standing_months(
    nodes: Sequence[MonthlyNode],
    standing: Sequence[ScopedNode],
    months: Sequence[date],
    tallied: Tallies | None = None,
) -> Snapshot:
    """The values of each scope of the tree at the end of these months, its commitments
    standing as `standing` says (in the order of `nodes`) all along: as each stands now,
    after the last assessment's month; not assessed, before the first one's. `tallied`:
    tallies_of(standing), when the caller has it."""
    if not months:
        return {}
    wide = _wide(tallies_of(standing) if tallied is None else tallied)
    first_days = _first_overdue_days(nodes, [node.status for node in standing])
    snapshot: Snapshot = {}
    for month in months:
        end = month_end(month)
        for theme_id, values in wide.items():
            overdue = bisect_right(first_days.get(theme_id, ()), end)
            snapshot[theme_id, month] = _with_overdue(values, overdue)
    return snapshot


def _first_overdue_days(
    nodes: Sequence[MonthlyNode], statuses: Sequence[ImplementationStatus]
) -> dict[int, list[date]]:
    """The day each commitment, standing in its status, becomes overdue (rules.is_overdue on
    the day after its due date; overdue then, it stays so every later day while the status
    stands), ascending, by theme key: a month's overdue count is how many are on or before
    its last day. A gap of months then costs a bisection a month, not a pass over the tree."""
    found: dict[int, list[date]] = {}
    for node, status in zip(nodes, statuses, strict=True):
        if node.due_by is None or node.due_by == date.max:
            continue
        day = node.due_by + timedelta(days=1)
        if is_overdue(node.due_by, status, day):
            for theme_id in (EVERY_THEME, *node.themes):
                found.setdefault(theme_id, []).append(day)
    for days in found.values():
        days.sort()
    return found


def _tallied(nodes: Iterable[ScopedNode]) -> dict[int, list[float]]:
    return _wide(tallies_of(nodes))


def _wide(tallies: Tallies) -> dict[int, list[float]]:
    """Tallies made wide: a list of VALUE_NAMES's values a theme key, overdue 0."""
    wide: dict[int, list[float]] = {}
    for (theme_id, status), (count, weight, weighted, known) in tallies.items():
        values = wide.get(theme_id)
        if values is None:
            values = wide[theme_id] = [0] * len(STATUS_NAMES) + [0, 0, 0.0, 0.0]
        values[_STATUS_INDEX[status]] += count
        values[TOP_KNOWN] += known
        values[TOP_KNOWN_WEIGHT] += weight
        values[TOP_WEIGHTED_PROGRESS] += weighted
    return wide


def _overdue(
    nodes: Sequence[MonthlyNode], statuses: Sequence[ImplementationStatus], end: date
) -> dict[int, int]:
    """How many of the commitments are overdue on `end` (rules.is_overdue), by theme key."""
    found: dict[int, int] = {}
    for node, status in zip(nodes, statuses, strict=True):
        if is_overdue(node.due_by, status, end):
            for theme_id in (EVERY_THEME, *node.themes):
                found[theme_id] = found.get(theme_id, 0) + 1
    return found


def _with_overdue(values: list[float], overdue: int) -> Values:
    values[OVERDUE] = overdue
    return tuple(values)


def root_subtrees(nodes: Sequence[MonthlyNode], ids: Collection[int]) -> list[int]:
    """The commitments of the root subtrees that hold these: each up to its top commitment
    (whose parent is not in the tree), then everything below it."""
    parent = {node.id: node.parent_id for node in nodes}
    roots = set()
    for key in ids:
        seen = set()
        while parent.get(key) in parent and key not in seen:  # a cycle ends the walk
            seen.add(key)
            key = parent[key]  # type: ignore[assignment]
        roots.add(key)
    children: dict[int | None, list[int]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node.id)
    found, frontier = set(roots), list(roots)
    while frontier:
        below = [kid for key in frontier for kid in children.get(key, ()) if kid not in found]
        found.update(below)
        frontier = below
    return sorted(found & set(parent))


# --- reading ----------------------------------------------------------------------------------


def monthly_nodes(rows: Iterable[Any]) -> list[MonthlyNode]:
    """MonthlyNodes from rows with id, parent_id, weight, themes (tallies.scope_themes) and
    due_by."""
    return [
        MonthlyNode(row.id, row.parent_id, row.weight, themes_in(row.themes), row.due_by)
        for row in rows
    ]


LIVE_TREES = (
    select(
        COMMITMENTS.c.agreement_id,
        COMMITMENTS.c.id,
        COMMITMENTS.c.parent_id,
        COMMITMENTS.c.weight,
        COMMITMENTS.c.due_by,
        COMMITMENTS.c.progress_from_indicators,
        scope_themes().label("themes"),
    )
    .where(
        COMMITMENTS.c.deleted_at.is_(None),
        COMMITMENTS.c.agreement_id.in_(bindparam("agreement_ids", expanding=True)),
    )
    # By id: the roll-up sums in the order it is given (upkeep reads trees in this order).
    .order_by(COMMITMENTS.c.agreement_id, COMMITMENTS.c.id)
)
_HISTORIES = (
    select(
        ASSESSMENTS.c.commitment_id,
        ASSESSMENTS.c.id,
        ASSESSMENTS.c.status,
        ASSESSMENTS.c.progress_pct,
        ASSESSMENTS.c.as_of,
        ASSESSMENTS.c.assessed_at,
        ASSESSMENTS.c.supersedes_id,
    )
    .join(COMMITMENTS, COMMITMENTS.c.id == ASSESSMENTS.c.commitment_id)
    .where(
        COMMITMENTS.c.deleted_at.is_(None),
        COMMITMENTS.c.agreement_id.in_(bindparam("agreement_ids", expanding=True)),
    )
)


def histories(connection: Connection, agreement_ids: Sequence[int]) -> dict[int, list[Any]]:
    """Every assessment of these agreements' live commitments, by commitment (one query)."""
    found: dict[int, list[AssessmentFact]] = {}
    for row in connection.execute(_HISTORIES, {"agreement_ids": list(agreement_ids)}):
        found.setdefault(row.commitment_id, []).append(
            AssessmentFact(
                row.id, row.status, row.progress_pct, row.as_of, row.assessed_at, row.supersedes_id
            )
        )
    return found
