"""indicators: a commitment's measurable signs of progress, and their periods

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 21:43:24
"""

from collections.abc import Sequence
from typing import Literal

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# EntityType gains "indicator": the checks on the columns that store it must say so.
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
VOCABULARY_COLUMNS = [
    ("change_events", "entity"),
    ("citations", "entity_type"),
    ("seed_records", "entity"),
]


def _replace_check(table: str, column: str, values: list[str]) -> None:
    allowed = ", ".join(f"'{value}'" for value in sorted(values))
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
        _replace_check(table, column, [*ENTITY_TYPES, "indicator"])
    op.create_table(
        "indicators",
        sa.Column("commitment_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "measure",
            sa.Enum(
                "unit",
                "percentage",
                "qualitative",
                name="measure",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("unit_label", sa.String(length=100), nullable=True),
        sa.Column("ascending", sa.Boolean(), nullable=False),
        sa.Column("baseline_value", sa.Float(), nullable=True),
        sa.Column("baseline_date", sa.Date(), nullable=True),
        sa.Column(
            "baseline_date_precision",
            sa.Enum(
                "day",
                "month",
                "year",
                "unknown",
                name="baseline_date_precision",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("baseline_comment", sa.Text(), nullable=True),
        sa.Column("baseline_source_ids", sa.JSON(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["commitments.id"],
            name=op.f("fk_indicators_commitment_id_commitments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicators")),
    )
    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_indicators_commitment_id"), ["commitment_id"], unique=False
        )
        batch_op.create_index(
            "uq_indicators_external_id_live",
            ["external_id"],
            unique=True,
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "indicator_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column(
            "start_date_precision",
            sa.Enum(
                "day",
                "month",
                "year",
                "unknown",
                name="start_date_precision",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column(
            "end_date_precision",
            sa.Enum(
                "day",
                "month",
                "year",
                "unknown",
                name="end_date_precision",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("target_value", sa.Float(), nullable=True),
        sa.Column("target_comment", sa.Text(), nullable=True),
        sa.Column("target_as_of", sa.Date(), nullable=True),
        sa.Column(
            "target_as_of_precision",
            sa.Enum(
                "day",
                "month",
                "year",
                "unknown",
                name="target_as_of_precision",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("target_source_ids", sa.JSON(), nullable=False),
        sa.Column("actual_value", sa.Float(), nullable=True),
        sa.Column("actual_comment", sa.Text(), nullable=True),
        sa.Column("actual_as_of", sa.Date(), nullable=True),
        sa.Column(
            "actual_as_of_precision",
            sa.Enum(
                "day",
                "month",
                "year",
                "unknown",
                name="actual_as_of_precision",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("actual_source_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            name=op.f("fk_indicator_periods_indicator_id_indicators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_periods")),
    )
    with op.batch_alter_table("indicator_periods", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_indicator_periods_indicator_id"), ["indicator_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("indicator_periods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicator_periods_indicator_id"))

    op.drop_table("indicator_periods")
    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.drop_index("uq_indicators_external_id_live")
        batch_op.drop_index(batch_op.f("ix_indicators_commitment_id"))

    op.drop_table("indicators")
    op.execute("DELETE FROM change_events WHERE entity = 'indicator'")
    op.execute("DELETE FROM citations WHERE entity_type = 'indicator'")
    op.execute("DELETE FROM seed_records WHERE entity = 'indicator'")
    for table, column in VOCABULARY_COLUMNS:
        _replace_check(table, column, ENTITY_TYPES)
