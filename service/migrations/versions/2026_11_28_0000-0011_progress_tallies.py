"""progress tallies, and an index for the overdue count

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
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

# The tallies as progress.tallies states them at this revision, frozen here so that the
# migration does not change when the application does (`flask rebuild-statistics` runs
# today's statement).
BACKFILL = """
WITH RECURSIVE theme_reach(theme_id, scope_id, next_id) AS (
    SELECT id, id, parent_id FROM themes WHERE deleted_at IS NULL
    UNION
    SELECT theme_reach.theme_id, above.id, above.parent_id
    FROM theme_reach JOIN themes AS above
        ON above.id = theme_reach.next_id AND above.deleted_at IS NULL
),
scoped AS (
    SELECT agreement_id, 0 AS theme_id, id AS commitment_id, parent_id, current_status,
        weight, current_progress
    FROM commitments WHERE deleted_at IS NULL
    UNION
    SELECT c.agreement_id, theme_reach.scope_id, c.id, c.parent_id, c.current_status,
        c.weight, c.current_progress
    FROM commitments AS c
    JOIN commitment_themes AS ct ON ct.commitment_id = c.id
    JOIN theme_reach ON theme_reach.theme_id = ct.theme_id
    WHERE c.deleted_at IS NULL
),
placed AS (
    SELECT scoped.*, (
        scoped.parent_id IS NULL OR NOT EXISTS (
            SELECT 1 FROM scoped AS parent
            WHERE parent.theme_id = scoped.theme_id AND parent.commitment_id = scoped.parent_id
        )
    ) AS top
    FROM scoped
)
INSERT INTO progress_tallies (agreement_id, theme_id, status, commitments, top_known_weight,
    top_weighted_progress)
SELECT agreement_id, theme_id, current_status, count(*),
    sum(CASE WHEN top AND current_progress IS NOT NULL AND weight > 0 THEN weight ELSE 0.0 END),
    sum(CASE WHEN top AND current_progress IS NOT NULL AND weight > 0
        THEN weight * current_progress ELSE 0.0 END)
FROM placed
GROUP BY agreement_id, theme_id, current_status
"""


def upgrade() -> None:
    op.create_table(
        "progress_tallies",
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*STATUSES, name="status", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("commitments", sa.Integer(), nullable=False),
        sa.Column("top_known_weight", sa.Float(), nullable=False),
        sa.Column("top_weighted_progress", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_progress_tallies_agreement_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "agreement_id", "theme_id", "status", name=op.f("pk_progress_tallies")
        ),
    )
    op.create_index("ix_progress_tallies_theme_id", "progress_tallies", ["theme_id"])
    op.execute(BACKFILL)
    op.create_index(
        "ix_commitments_live_due_by_status",
        "commitments",
        ["due_by", "current_status"],
        postgresql_where=sa.text("deleted_at IS NULL"),
        sqlite_where=sa.text("deleted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_commitments_live_due_by_status", table_name="commitments")
    op.drop_index("ix_progress_tallies_theme_id", table_name="progress_tallies")
    op.drop_table("progress_tallies")
