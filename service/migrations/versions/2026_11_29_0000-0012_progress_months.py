"""progress months: the series' monthly snapshots, and their spans

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 00:00:00
"""

import calendar
from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = (
    "not_assessed",
    "not_started",
    "initiated",
    "advanced",
    "completed",
    "partially_completed",
    "stalled",
    "suspended",
    "not_fulfilled",
    "superseded",
    "cancelled",
)
VALUES = (*STATUSES, "overdue", "top_known", "top_known_weight", "top_weighted_progress")

# The rules as progress.rules, progress.tallies and progress.months state them at this
# revision, frozen here so that the migration does not change when the application does
# (`flask rebuild-statistics` runs today's code; tests/migrations/test_migrations.py holds the two equal
# at this revision).
DEFAULT_PROGRESS = {"not_started": 0.0, "initiated": 25.0, "advanced": 60.0, "completed": 100.0}
HAS_NO_PROGRESS = {"not_assessed", "superseded", "cancelled"}
TERMINAL = {"completed", "not_fulfilled", "superseded", "cancelled"}

TREES = """
WITH RECURSIVE theme_reach(theme_id, scope_id, next_id) AS (
    SELECT id, id, parent_id FROM themes WHERE deleted_at IS NULL
    UNION
    SELECT theme_reach.theme_id, above.id, above.parent_id
    FROM theme_reach JOIN themes AS above
        ON above.id = theme_reach.next_id AND above.deleted_at IS NULL
)
SELECT c.agreement_id, c.id, c.parent_id, c.weight, c.due_by, theme_reach.scope_id
FROM commitments AS c
LEFT JOIN commitment_themes AS ct ON ct.commitment_id = c.id
LEFT JOIN theme_reach ON theme_reach.theme_id = ct.theme_id
WHERE c.deleted_at IS NULL
ORDER BY c.agreement_id, c.id
"""
HISTORIES = """
SELECT a.commitment_id, a.id, a.status, a.progress_pct, a.as_of, a.assessed_at,
    a.supersedes_id
FROM status_assessments AS a JOIN commitments AS c ON c.id = a.commitment_id
WHERE c.deleted_at IS NULL
"""


def _day(value: Any) -> date:  # SQLite answers text
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _states(facts: list[tuple[Any, ...]], ends: list[date]) -> list[tuple[str, Any]]:
    corrected = {fact[5] for fact in facts if fact[5] is not None}
    standing = sorted(
        (fact for fact in facts if fact[0] not in corrected), key=lambda f: (f[3], f[4], f[0])
    )
    found: list[tuple[str, Any]] = []
    state: tuple[str, Any] = ("not_assessed", None)
    progress, applied = None, 0
    for end in ends:
        while applied < len(standing) and standing[applied][3] <= end:
            _id, status, stated = standing[applied][:3]
            if status in HAS_NO_PROGRESS:
                progress = None
            elif stated is not None:
                progress = stated
            elif status in DEFAULT_PROGRESS:
                progress = DEFAULT_PROGRESS[status]
            state = (status, progress)
            applied += 1
        found.append(state)
    return found


def _roll_up(nodes: list[tuple[Any, ...]], own: dict[int, Any]) -> dict[int, Any]:
    children: dict[Any, list[tuple[int, float]]] = {}
    for key, parent, weight, *_ in nodes:
        children.setdefault(parent, []).append((key, weight))
    result: dict[int, Any] = {}
    on_path: set[int] = set()

    def progress_of(key: int) -> Any:
        if key in result:
            return result[key]
        on_path.add(key)
        total = weights = 0.0
        known = False
        for kid, weight in children.get(key, ()):
            if kid in on_path:
                continue
            value = progress_of(kid)
            if value is not None and weight > 0:
                total += value * weight
                weights += weight
                known = True
        on_path.discard(key)
        rolled = total / weights if known and weights > 0 else None
        result[key] = rolled if rolled is not None else own[key]
        return result[key]

    for node in nodes:
        progress_of(node[0])
    return result


def _months(first: date, last: date) -> list[date]:
    start, end = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    return [date(number // 12, number % 12 + 1, 1) for number in range(start, end + 1)]


def _snapshot(
    nodes: list[tuple[Any, ...]], facts: dict[int, list[tuple[Any, ...]]], months: list[date]
) -> dict[tuple[int, date], dict[str, Any]]:
    """nodes: (id, parent_id, weight, themes, due_by); the wide values by (theme, month)."""
    ends = [m.replace(day=calendar.monthrange(m.year, m.month)[1]) for m in months]
    walked = {node[0]: _states(facts.get(node[0], []), ends) for node in nodes}
    scopes = {node[0]: node[3] | {0} for node in nodes}
    snapshot: dict[tuple[int, date], dict[str, Any]] = {}
    for index, (month, end) in enumerate(zip(months, ends, strict=True)):
        states = {key: column[index] for key, column in walked.items()}
        rolled = _roll_up(nodes, {key: state[1] for key, state in states.items()})
        for key, parent, weight, _themes, due_by in nodes:
            status, progress = states[key][0], rolled[key]
            above = scopes.get(parent, set()) if parent is not None else set()
            counted = progress is not None and weight > 0
            late = due_by is not None and due_by < end and status not in TERMINAL
            for theme_id in scopes[key]:
                values = snapshot.setdefault(
                    (theme_id, month), dict.fromkeys(VALUES, 0) | {"top_known_weight": 0.0}
                )
                values[status] += 1
                values["overdue"] += late
                if counted and theme_id not in above:
                    values["top_known"] += 1
                    values["top_known_weight"] += weight
                    values["top_weighted_progress"] += weight * progress
    return snapshot


def upgrade() -> None:
    counts = [sa.Column(name, sa.Integer(), nullable=False) for name in (*STATUSES, "overdue")]
    op.create_table(
        "progress_months",
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        *counts,
        sa.Column("top_known", sa.Integer(), nullable=False),
        sa.Column("top_known_weight", sa.Float(), nullable=False),
        sa.Column("top_weighted_progress", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_progress_months_agreement_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "agreement_id", "theme_id", "month", name=op.f("pk_progress_months")
        ),
    )
    op.create_index("ix_progress_months_theme_id_month", "progress_months", ["theme_id", "month"])
    op.create_table(
        "progress_month_spans",
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("first_month", sa.Date(), nullable=False),
        sa.Column("last_month", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_progress_month_spans_agreement_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agreement_id", name=op.f("pk_progress_month_spans")),
    )
    _backfill(op.get_bind())


def _backfill(connection: Any) -> None:
    trees: dict[int, dict[int, tuple[Any, ...]]] = {}
    for agreement_id, key, parent, weight, due_by, scope_id in connection.execute(sa.text(TREES)):
        nodes = trees.setdefault(agreement_id, {})
        if key not in nodes:
            nodes[key] = (key, parent, weight, set(), None if due_by is None else _day(due_by))
        if scope_id is not None:
            nodes[key][3].add(scope_id)
    facts: dict[int, list[tuple[Any, ...]]] = {}
    for row in connection.execute(sa.text(HISTORIES)):
        commitment_id, key, status, stated, as_of, assessed_at, supersedes_id = row
        facts.setdefault(commitment_id, []).append(
            (key, status, stated, _day(as_of), assessed_at, supersedes_id)
        )
    months = sa.table(
        "progress_months",
        *(sa.column(name) for name in ("agreement_id", "theme_id", "month", *VALUES)),
    )
    spans = sa.table(
        "progress_month_spans",
        *(sa.column(name) for name in ("agreement_id", "first_month", "last_month")),
    )
    for agreement_id, by_id in sorted(trees.items()):
        tree = list(by_id.values())
        dates = [fact[3] for node in tree for fact in facts.get(node[0], [])]
        if not dates:
            continue
        first, last = min(dates).replace(day=1), max(dates).replace(day=1)
        snapshot = _snapshot(tree, facts, _months(first, last))
        connection.execute(
            months.insert(),
            [
                {"agreement_id": agreement_id, "theme_id": theme_id, "month": month, **values}
                for (theme_id, month), values in sorted(snapshot.items())
            ],
        )
        connection.execute(
            spans.insert(),
            {"agreement_id": agreement_id, "first_month": first, "last_month": last},
        )


def downgrade() -> None:
    op.drop_table("progress_month_spans")
    op.drop_index("ix_progress_months_theme_id_month", table_name="progress_months")
    op.drop_table("progress_months")
