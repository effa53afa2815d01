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
rolled up (rules.roll_up), tallied (tallies.tallies_of), plus the overdue count. A write that
only adds assessments moves the rows by the change in the reassessed commitments' root
subtrees (a scope's values add up over root subtrees) from the first new assessment's month
on (`keep_after_assessments`); any other write recomputes the agreement's rows
(`keep_months`). tests/progress holds the kept rows equal to a rebuild's after random writes,
and the series equal to one computed from the history in Python.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple

import orjson
from sqlalchemy import (
    JSON,
    Connection,
    Table,
    bindparam,
    cast,
    delete,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.agreements.models import Agreement
from service.assessments.models import StatusAssessment
from service.commitments.models import Commitment
from service.dates import month_end
from service.progress.models import EVERY_THEME, ProgressMonth, ProgressMonthSpan
from service.progress.rules import (
    NOT_ASSESSED,
    AssessmentFact,
    CommitmentState,
    TreeNode,
    is_overdue,
    roll_up,
    states_on,
)
from service.progress.tallies import (
    AGREEMENTS_PER_REBUILD,
    ScopedNode,
    Tallies,
    scope_themes,
    tallies_of,
    themes_in,
)
from service.vocabularies import ImplementationStatus

MONTHS: Table = ProgressMonth.__table__  # type: ignore[assignment]
SPANS: Table = ProgressMonthSpan.__table__  # type: ignore[assignment]
ASSESSMENTS: Table = StatusAssessment.__table__  # type: ignore[assignment]
COMMITMENTS: Table = Commitment.__table__  # type: ignore[assignment]

STATUS_NAMES = tuple(status.value for status in ImplementationStatus)
# A scope's values at a month's end, in this order: the columns of ProgressMonth after its key.
VALUE_NAMES = (*STATUS_NAMES, "overdue", "top_known", "top_known_weight", "top_weighted_progress")
OVERDUE, TOP_KNOWN, TOP_KNOWN_WEIGHT, TOP_WEIGHTED_PROGRESS = range(
    len(STATUS_NAMES), len(VALUE_NAMES)
)
_STATUS_INDEX = {status: index for index, status in enumerate(ImplementationStatus)}

Values = tuple[float, ...]
# By (theme key, month's first day).
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


def span_of(facts: Mapping[int, Sequence[AssessmentFact]]) -> Span | None:
    """The months the rows run over: from the first assessment's month to the last one's
    (corrected ones too: the span only has to hold every month in which a state changed)."""
    dates = [fact.as_of for own in facts.values() for fact in own]
    return (first_day(min(dates)), first_day(max(dates))) if dates else None


def months_of(
    nodes: Sequence[MonthlyNode],
    facts: Mapping[int, Sequence[AssessmentFact]],
    months: Sequence[date],
) -> Snapshot:
    """The values of each scope of these live commitments (a whole tree, or whole subtrees
    of one) at the end of each of these months (ascending), from their assessments."""
    ends = [month_end(month) for month in months]
    walked = [states_on(facts.get(node.id, ()), ends) for node in nodes]
    snapshot: Snapshot = {}
    previous: list[CommitmentState] | None = None
    tallied: dict[int, list[float]] = {}
    for index, (month, end) in enumerate(zip(months, ends, strict=True)):
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
            snapshot[theme_id, month] = _with_overdue(values, overdue.get(theme_id, 0))
    return snapshot


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


# --- writing ---------------------------------------------------------------------------------


def keep_months(
    connection: Connection,
    agreement_id: int,
    nodes: Sequence[MonthlyNode],
    facts: Mapping[int, Sequence[AssessmentFact]],
) -> None:
    """Write an agreement's rows and span as its live commitments (`nodes`, by id) and
    their assessments give them, from nothing: rows that moved are written, rows outside
    the span or of a scope no commitment is in any more removed. Nothing is read back (the
    caller may pipeline it)."""
    span = span_of(facts)
    statements = _statements(connection)
    if span is None:
        connection.execute(statements.all_gone, {"kept_agreement_id": agreement_id})
        connection.execute(statements.span_gone, {"kept_agreement_id": agreement_id})
        return
    snapshot = months_of(nodes, facts, month_range(*span))
    _write_rows(connection, agreement_id, snapshot, replace=True)
    connection.execute(
        statements.outside,
        {
            "kept_agreement_id": agreement_id,
            "themes": sorted({theme_id for theme_id, _month in snapshot}),
            "first_month": span[0],
            "last_month": span[1],
        },
    )
    connection.execute(
        statements.span_upsert,
        {"agreement_id": agreement_id, "first_month": span[0], "last_month": span[1]},
    )


def appended_month(
    facts: Mapping[int, Sequence[AssessmentFact]], new_ids: Collection[int], span: Span | None
) -> date | None:
    """The month new assessments (`new_ids`, among `facts`) are all dated in, when none
    corrects another and that month is the span's last or after it (the common write: how
    things stand now); None otherwise. Then every earlier month stands as it stood, and
    `keep_appended` writes the rest from the tree alone."""
    new = [fact for own in facts.values() for fact in own if fact.id in new_ids]
    dated = {first_day(fact.as_of) for fact in new}
    if len(dated) != 1 or any(fact.supersedes_id is not None for fact in new):
        return None
    [month] = dated
    return month if span is None or month >= span[1] else None


def keep_appended(
    connection: Connection,
    agreement_id: int,
    nodes: Sequence[MonthlyNode],
    before: Sequence[ScopedNode],
    after: Sequence[ScopedNode],
    month: date,
    span: Span | None,
    after_tallies: Tallies,
    moved_themes: Collection[int],
) -> None:
    """Write the months that new assessments dated in `month` (`appended_month`) change:
    the months after the span's last one and before `month` stand as the tree stood before
    them (`before`: every commitment as it stood, in the order of `nodes`), and `month` as it
    stands after them (`after`, whose tallies are `after_tallies`); no history is read.
    Nothing is read back: the caller may pipeline it."""
    between = month_range(span[1], month)[1:-1] if span is not None else []
    snapshot = {
        **standing_months(nodes, before, between),
        **standing_months(nodes, after, [month], after_tallies),
    }
    if span is not None and month == span[1]:
        # The month has its rows already: only those of the scopes whose tallies moved
        # (`moved_themes`) can have moved, the overdue count with them (it moves only with
        # a status, which moves the tallies).
        snapshot = {key: values for key, values in snapshot.items() if key[0] in moved_themes}
        if not snapshot:
            return
    statements = _statements(connection)
    _write_rows(connection, agreement_id, snapshot, replace=True)
    widened = (span[0] if span is not None else month, month)
    if span != widened:
        connection.execute(
            statements.span_upsert,
            {"agreement_id": agreement_id, "first_month": widened[0], "last_month": widened[1]},
        )


def keep_after_assessments(
    connection: Connection,
    agreement_id: int,
    nodes: Sequence[MonthlyNode],
    stored: Sequence[ScopedNode],
    subtree_ids: Collection[int],
    facts: Mapping[int, Sequence[AssessmentFact]],
    new_ids: Collection[int],
    span: Span | None,
) -> None:
    """Move an agreement's rows by what new assessments (`new_ids`) changed, and nothing
    else: the tree, its weights and its themes stand as they were.

    `nodes`: the live tree, by id; `stored`: the same commitments as they stood before the
    new assessments (their stored status and progress); `subtree_ids`: the reassessed
    commitments' root subtrees (`root_subtrees`); `facts`: every assessment of those, the
    new ones included; `span`:
    the rows' span before them. Each month from the first new assessment's on changes by
    what those subtrees give with the new assessments less what they gave without (the
    scopes' values add up over root subtrees); months the span gains are written whole: the
    values before the old span (every commitment not assessed) or after it (as each stood),
    plus that change. Nothing is read: the caller may pipeline it."""
    new = [fact for own in facts.values() for fact in own if fact.id in new_ids]
    if not new:
        return
    new_dates = [fact.as_of for fact in new]
    # A correction changes its commitment's state from the corrected assessment's date on.
    corrected = {fact.supersedes_id for fact in new}
    start = first_day(
        min(
            [
                *new_dates,
                *(fact.as_of for own in facts.values() for fact in own if fact.id in corrected),
            ]
        )
    )
    first, last = first_day(min(new_dates)), first_day(max(new_dates))
    if span is not None:
        first, last = min(first, span[0]), max(last, span[1])
    subtree = [node for node in nodes if node.id in subtree_ids]
    without = {key: [fact for fact in own if fact.id not in new_ids] for key, own in facts.items()}
    changed = month_range(start, last)
    after = months_of(subtree, facts, changed)
    before = months_of(subtree, without, changed)
    # The months the span gains: before the old one, after it, or all (there was none).
    gained = (
        month_range(first, last)
        if span is None
        else [month for month in month_range(first, last) if not span[0] <= month <= span[1]]
    )
    earlier = [month for month in gained if span is not None and month < span[0]]
    unassessed = [
        ScopedNode(node.id, node.parent_id, node.weight, NOT_ASSESSED.status, None, node.themes)
        for node in nodes
    ]
    bases = {
        **(standing_months(nodes, unassessed, earlier) if earlier else {}),
        **standing_months(nodes, stored, gained[len(earlier) :]),
    }
    whole = {key: _plus(base, after, before, key) for key, base in bases.items()}
    moved = []
    for (theme_id, month), now in after.items():
        if (theme_id, month) in whole:
            continue
        change = _minus(now, before[theme_id, month])
        if any(change):
            moved.append(
                {
                    "kept_agreement_id": agreement_id,
                    "theme_key": theme_id,
                    "month_key": month,
                    **{
                        f"change_{name}": value
                        for name, value in zip(VALUE_NAMES, change, strict=True)
                    },
                }
            )
    statements = _statements(connection)
    if moved:
        connection.execute(statements.increment, moved)
    if whole:
        _write_rows(connection, agreement_id, whole, replace=False)
    if span != (first, last):
        connection.execute(
            statements.span_upsert,
            {"agreement_id": agreement_id, "first_month": first, "last_month": last},
        )


def _plus(base: Values, after: Snapshot, before: Snapshot, key: tuple[int, date]) -> Values:
    if key not in after:
        return base
    return tuple(
        value + now - then for value, now, then in zip(base, after[key], before[key], strict=True)
    )


def _minus(now: Values, then: Values) -> Values:
    return tuple(value - other for value, other in zip(now, then, strict=True))


ROW_NAMES = ("agreement_id", "theme_id", "month", *VALUE_NAMES)


def _write_rows(
    connection: Connection, agreement_id: int, snapshot: Snapshot, *, replace: bool
) -> None:
    """Write an agreement's rows of `snapshot`: `replace`, over rows that hold other values
    (else none may be there). On PostgreSQL in one statement, the rows sent as one JSON
    document: a gap of months or a rebuild writes hundreds of rows, and sent one execution a
    row, their parameters cost more than the database's work (bench/notes.md)."""
    if not snapshot:
        return
    statements = _statements(connection)
    rows = [
        {
            "agreement_id": agreement_id,
            "theme_id": theme_id,
            "month": month,
            **dict(zip(VALUE_NAMES, snapshot[theme_id, month], strict=True)),
        }
        for theme_id, month in sorted(snapshot)
    ]
    if statements.from_json is not None:
        connection.execute(
            statements.from_json if replace else statements.from_json_insert,
            {"rows": orjson.dumps(rows).decode()},
        )
        return
    connection.execute(statements.upsert if replace else statements.insert, rows)


@dataclass(frozen=True)
class _Statements:
    upsert: Any
    insert: Any
    # PostgreSQL's: the upsert and the insert of rows given as one JSON array of objects.
    from_json: Any
    from_json_insert: Any
    increment: Any
    outside: Any
    all_gone: Any
    span_upsert: Any
    span_gone: Any


_BUILT: dict[str, _Statements] = {}


def _statements(connection: Connection) -> _Statements:
    """Built once a dialect: building a statement costs about as much as running it."""
    name = connection.dialect.name
    if name not in _BUILT:
        dialect = postgresql if name == "postgresql" else sqlite

        def upserting(statement: Any) -> Any:
            return statement.on_conflict_do_update(
                index_elements=["agreement_id", "theme_id", "month"],
                set_={name: statement.excluded[name] for name in VALUE_NAMES},
                where=or_(
                    *(
                        MONTHS.c[name].is_distinct_from(statement.excluded[name])
                        for name in VALUE_NAMES
                    )
                ),
            )

        upsert = upserting(dialect.insert(MONTHS))
        from_json = from_json_insert = None
        if name == "postgresql":
            given = func.json_populate_recordset(
                literal_column(f"NULL::{MONTHS.name}"), cast(bindparam("rows"), JSON)
            ).table_valued(*ROW_NAMES)
            from_json_insert = postgresql.insert(MONTHS).from_select(
                ROW_NAMES, select(*(given.c[column] for column in ROW_NAMES))
            )
            from_json = upserting(from_json_insert)
        of_agreement = MONTHS.c.agreement_id == bindparam("kept_agreement_id")
        increment = (
            update(MONTHS)
            .where(
                of_agreement,
                MONTHS.c.theme_id == bindparam("theme_key"),
                MONTHS.c.month == bindparam("month_key"),
            )
            .values({name: MONTHS.c[name] + bindparam(f"change_{name}") for name in VALUE_NAMES})
        )
        outside = delete(MONTHS).where(
            of_agreement,
            or_(
                MONTHS.c.theme_id.not_in(bindparam("themes", expanding=True)),
                MONTHS.c.month < bindparam("first_month"),
                MONTHS.c.month > bindparam("last_month"),
            ),
        )
        span = dialect.insert(SPANS)
        _BUILT[name] = _Statements(
            upsert=upsert,
            insert=MONTHS.insert(),
            from_json=from_json,
            from_json_insert=from_json_insert,
            increment=increment,
            outside=outside,
            all_gone=delete(MONTHS).where(of_agreement),
            span_upsert=span.on_conflict_do_update(
                index_elements=["agreement_id"],
                set_={
                    "first_month": span.excluded.first_month,
                    "last_month": span.excluded.last_month,
                },
            ),
            span_gone=delete(SPANS).where(SPANS.c.agreement_id == bindparam("kept_agreement_id")),
        )
    return _BUILT[name]


# --- reading and rebuilding --------------------------------------------------------------------


def monthly_nodes(rows: Iterable[Any]) -> list[MonthlyNode]:
    """MonthlyNodes from rows with id, parent_id, weight, themes (tallies.scope_themes) and
    due_by."""
    return [
        MonthlyNode(row.id, row.parent_id, row.weight, themes_in(row.themes), row.due_by)
        for row in rows
    ]


_LIVE_TREES = (
    select(
        COMMITMENTS.c.agreement_id,
        COMMITMENTS.c.id,
        COMMITMENTS.c.parent_id,
        COMMITMENTS.c.weight,
        COMMITMENTS.c.due_by,
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


def rebuild_months(session: Session, agreement_ids: Sequence[int] | None = None) -> int:
    """Rebuild the monthly rows of these agreements (of every agreement when None) from
    their commitments' histories, in the session's transaction, under their row locks
    (as tallies.rebuild_tallies); the number of agreements rebuilt."""
    connection = session.connection()
    if agreement_ids is None:
        agreement_ids = sorted(
            set(connection.scalars(select(Agreement.id)))
            | set(connection.scalars(select(SPANS.c.agreement_id)))
        )
    ordered = sorted(agreement_ids)
    for start in range(0, len(ordered), AGREEMENTS_PER_REBUILD):
        batch = ordered[start : start + AGREEMENTS_PER_REBUILD]
        connection.execute(
            select(Agreement.id)
            .where(Agreement.id.in_(batch))
            .order_by(Agreement.id)
            .with_for_update()
        ).all()
        trees: dict[int, list[Any]] = {agreement_id: [] for agreement_id in batch}
        for row in connection.execute(_LIVE_TREES, {"agreement_ids": batch}):
            trees[row.agreement_id].append(row)
        facts = histories(connection, batch)
        for agreement_id, rows in trees.items():
            nodes = monthly_nodes(rows)
            own = {node.id: facts[node.id] for node in nodes if node.id in facts}
            keep_months(connection, agreement_id, nodes, own)
    return len(agreement_ids)
