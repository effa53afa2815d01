"""webhooks

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 20:17:16.892915
"""

from collections.abc import Sequence
from typing import Literal

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# EntityType gains "webhook": the checks on the columns that store it must say so.
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
]
VOCABULARY_COLUMNS = [("change_events", "entity"), ("citations", "entity_type")]


def _replace_check(table: str, column: str, values: list[str]) -> None:
    allowed = ", ".join(f"'{value}'" for value in values)
    # On SQLite a CHECK constraint changes only with the table around it; PostgreSQL alters
    # it in place (recreating there would also reset the table's id sequence).
    recreate: Literal["always", "auto"] = (
        "always" if op.get_bind().dialect.name == "sqlite" else "auto"
    )
    with op.batch_alter_table(table, recreate=recreate) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
        batch_op.create_check_constraint(
            op.f(f"ck_{table}_{column}"), sa.text(f"{column} IN ({allowed})")
        )


def upgrade() -> None:
    for table, column in VOCABULARY_COLUMNS:
        _replace_check(table, column, sorted([*ENTITY_TYPES, "webhook"]))
    op.create_table(
        "webhook_subscriptions",
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("last_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column(
            "change_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "delivered",
                "failed",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_webhook_deliveries_subscription_id_webhook_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "subscription_id",
            "change_seq",
            "event_type",
            name=op.f("uq_webhook_deliveries_subscription_id_change_seq_event_type"),
        ),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_deliveries_status_next_attempt_at",
            ["status", "next_attempt_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_webhook_deliveries_subscription_id"), ["subscription_id"], unique=False
        )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM change_events WHERE entity = 'webhook'"))
    for table, column in VOCABULARY_COLUMNS:
        _replace_check(table, column, ENTITY_TYPES)
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_subscription_id"))
        batch_op.drop_index("ix_webhook_deliveries_status_next_attempt_at")

    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_subscriptions")
