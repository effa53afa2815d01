"""a deleted meeting frees its number

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 18:52:40.073081
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_meetings_series_id_sequence"), type_="unique")
        batch_op.create_index(
            "uq_meetings_series_id_sequence_live",
            ["series_id", "sequence"],
            unique=True,
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_meetings_series_id_sequence_live",
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_meetings_series_id_sequence"), ["series_id", "sequence"]
        )
