"""seed records and source reliability

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENTITY_TYPES = [
    "agreement",
    "agreement_event",
    "agreement_participant",
    "agreement_relation",
    "api_key",
    "assessment",
    "citation",
    "commitment",
    "commitment_actor",
    "meeting",
    "meeting_participant",
    "meeting_series",
    "membership",
    "organization",
    "person",
    "post",
    "source",
    "theme",
    "webhook",
]


def upgrade() -> None:
    op.create_table(
        "seed_records",
        sa.Column("seed_key", sa.String(length=500), nullable=False),
        sa.Column(
            "entity",
            sa.Enum(
                *ENTITY_TYPES, name="entity", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("seeded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seed_key", name=op.f("pk_seed_records")),
    )
    op.create_index(
        "ix_seed_records_entity_entity_id", "seed_records", ["entity", "entity_id"], unique=False
    )
    # Every source existing so far is of unknown reliability until someone says otherwise.
    with op.batch_alter_table("sources") as batch_op:
        batch_op.add_column(
            sa.Column(
                "reliability",
                sa.Enum(
                    "high",
                    "medium",
                    "low",
                    "unknown",
                    name="reliability",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                nullable=False,
                server_default="unknown",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch_op:
        batch_op.drop_constraint(op.f("ck_sources_reliability"), type_="check")
        batch_op.drop_column("reliability")
    op.drop_index("ix_seed_records_entity_entity_id", table_name="seed_records")
    op.drop_table("seed_records")
