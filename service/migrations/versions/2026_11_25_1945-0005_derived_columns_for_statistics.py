"""derived columns for statistics

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 19:57:42.266834
"""

from collections.abc import Sequence
from datetime import date, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The progress rules as they stand at this revision, frozen here so that the migration does
# not change when the application's rules do.
DEFAULT_PROGRESS = {"not_started": 0.0, "initiated": 25.0, "advanced": 60.0, "completed": 100.0}
NO_PROGRESS = {"not_assessed", "superseded", "cancelled"}


def _backfill() -> None:
    bind = op.get_bind()
    bind.execute(
        sa.text("""
        WITH RECURSIVE tree(id, depth) AS (
            SELECT id, 0 FROM commitments WHERE parent_id IS NULL
            UNION ALL
            SELECT c.id, tree.depth + 1 FROM commitments c JOIN tree ON c.parent_id = tree.id
        )
        UPDATE commitments SET depth = COALESCE((SELECT depth FROM tree WHERE tree.id = commitments.id), 0)
    """)
    )
    due = bind.execute(
        sa.text(
            "SELECT id, due_date, due_date_precision FROM commitments WHERE due_date IS NOT NULL"
        )
    ).all()
    for commitment_id, due_date, precision in due:
        if isinstance(due_date, str):
            due_date = date.fromisoformat(due_date)
        if precision == "year":
            due_by = date(due_date.year, 12, 31)
        elif precision == "month":
            due_by = date(
                due_date.year + due_date.month // 12, due_date.month % 12 + 1, 1
            ) - timedelta(days=1)
        elif precision == "day":
            due_by = due_date
        else:
            continue
        bind.execute(
            sa.text("UPDATE commitments SET due_by = :d WHERE id = :i"),
            {"d": due_by, "i": commitment_id},
        )
    rows = bind.execute(
        sa.text(
            "SELECT id, commitment_id, status, progress_pct, as_of, assessed_at, supersedes_id "
            "FROM status_assessments ORDER BY commitment_id, as_of, assessed_at, id"
        )
    ).all()
    corrected = {row.supersedes_id for row in rows if row.supersedes_id is not None}
    last: dict[int, float | None] = {}
    for row in rows:
        if row.id in corrected:
            continue
        if row.status in NO_PROGRESS:
            progress = None
        elif row.progress_pct is not None:
            progress = row.progress_pct
        else:
            progress = DEFAULT_PROGRESS.get(row.status, last.get(row.commitment_id))
        last[row.commitment_id] = progress
        bind.execute(
            sa.text("UPDATE status_assessments SET effective_progress = :p WHERE id = :i"),
            {"p": progress, "i": row.id},
        )


def upgrade() -> None:
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("depth", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(sa.Column("due_by", sa.Date(), nullable=True))
        batch_op.create_index(
            "ix_commitments_agreement_id_depth", ["agreement_id", "depth"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_commitments_due_by"), ["due_by"], unique=False)

    with op.batch_alter_table("status_assessments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("effective_progress", sa.Float(), nullable=True))

    _backfill()


def downgrade() -> None:
    with op.batch_alter_table("status_assessments", schema=None) as batch_op:
        batch_op.drop_column("effective_progress")

    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commitments_due_by"))
        batch_op.drop_index("ix_commitments_agreement_id_depth")
        batch_op.drop_column("due_by")
        batch_op.drop_column("depth")
