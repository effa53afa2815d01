"""The kept monthly rows (models.ProgressMonth and the span, models.ProgressMonthSpan),
written in the transaction of every write and rebuilt from the history on demand. What a
month's values are is progress.months' to say; this module only writes them: moved by the
change in the reassessed commitments' root subtrees when a write only adds assessments
(`keep_after_assessments`, `keep_appended`), recomputed for the agreement after any other
write (`keep_months`)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    Connection,
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
from service.progress.driven import DrivenIndicators, driven_indicators
from service.progress.months import (
    LIVE_TREES,
    VALUE_NAMES,
    MonthlyNode,
    Snapshot,
    Span,
    Values,
    first_day,
    histories,
    month_range,
    monthly_nodes,
    months_of,
    span_of,
    standing_months,
)
from service.progress.rules import (
    NOT_ASSESSED,
    AssessmentFact,
)
from service.progress.tables import MONTHS, SPANS
from service.progress.tallies import (
    AGREEMENTS_PER_REBUILD,
    ScopedNode,
    Tallies,
)


def keep_months(
    connection: Connection,
    agreement_id: int,
    nodes: Sequence[MonthlyNode],
    facts: Mapping[int, Sequence[AssessmentFact]],
    driven: DrivenIndicators | None = None,
) -> None:
    """Write an agreement's rows and span as its live commitments (`nodes`, by id), their
    assessments and the indicators that drive their progress (`driven`) give them, from
    nothing: rows that moved are written, rows outside the span or of a scope no commitment
    is in any more removed. Nothing is read back (the caller may pipeline it)."""
    span = span_of(facts, driven)
    statements = _statements(connection)
    if span is None:
        connection.execute(statements.all_gone, {"kept_agreement_id": agreement_id})
        connection.execute(statements.span_gone, {"kept_agreement_id": agreement_id})
        return
    snapshot = months_of(nodes, facts, month_range(*span), driven)
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
        for row in connection.execute(LIVE_TREES, {"agreement_ids": batch}):
            trees[row.agreement_id].append(row)
        facts = histories(connection, batch)
        driven = driven_indicators(
            connection,
            [row.id for rows in trees.values() for row in rows if row.progress_from_indicators],
        )
        for agreement_id, rows in trees.items():
            nodes = monthly_nodes(rows)
            own = {node.id: facts[node.id] for node in nodes if node.id in facts}
            steered = {node.id: driven[node.id] for node in nodes if node.id in driven}
            keep_months(connection, agreement_id, nodes, own, steered)
    return len(agreement_ids)
