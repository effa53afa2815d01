"""open commitments by due date, per agreement and in all

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The rows as progress.dues states them at this revision (a live commitment with a due date
# and a status that is not terminal is open), frozen here so that the migration does not
# change when the application does (`flask rebuild-statistics` runs today's statement).
BACKFILL_DUES = """
INSERT INTO progress_dues (agreement_id, due_by, commitments)
SELECT agreement_id, due_by, count(*)
FROM commitments
WHERE deleted_at IS NULL AND due_by IS NOT NULL
    AND current_status NOT IN ('completed', 'not_fulfilled', 'superseded', 'cancelled')
GROUP BY agreement_id, due_by
"""
BACKFILL_TOTALS = """
INSERT INTO progress_due_totals (due_by, commitments)
SELECT due_by, sum(commitments) FROM progress_dues GROUP BY due_by
"""


def upgrade() -> None:
    op.create_table(
        "progress_dues",
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("due_by", sa.Date(), nullable=False),
        sa.Column("commitments", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_progress_dues_agreement_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agreement_id", "due_by", name=op.f("pk_progress_dues")),
    )
    op.create_table(
        "progress_due_totals",
        sa.Column("due_by", sa.Date(), nullable=False),
        sa.Column("commitments", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("due_by", name=op.f("pk_progress_due_totals")),
    )
    op.execute(BACKFILL_DUES)
    op.execute(BACKFILL_TOTALS)


def downgrade() -> None:
    op.drop_table("progress_due_totals")
    op.drop_table("progress_dues")
