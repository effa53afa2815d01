"""api keys and who made each change

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 19:01:11.923674
"""

from collections.abc import Sequence
from typing import Literal

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# EntityType gains "api_key": the checks on the columns that store it must say so.
ENTITY_TYPES = [
    "agreement",
    "agreement_event",
    "agreement_participant",
    "agreement_relation",
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
        _replace_check(table, column, sorted([*ENTITY_TYPES, "api_key"]))
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "reader",
                "editor",
                "admin",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    with op.batch_alter_table("change_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_key_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_change_events_actor_key_id"), ["actor_key_id"], unique=False
        )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM change_events WHERE entity = 'api_key'"))
    op.execute(sa.text("DELETE FROM citations WHERE entity_type = 'api_key'"))
    for table, column in VOCABULARY_COLUMNS:
        _replace_check(table, column, ENTITY_TYPES)
    with op.batch_alter_table("change_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_events_actor_key_id"))
        batch_op.drop_column("actor_key_id")

    op.drop_table("api_keys")
