"""commitments whose indicators drive their progress

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 23:34:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Off for every commitment there is: their progress stays what their assessments give.
    with op.batch_alter_table("commitments") as batch_op:
        batch_op.add_column(
            sa.Column(
                "progress_from_indicators", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("commitments") as batch_op:
        batch_op.drop_column("progress_from_indicators")
