"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 17:52:55.286728
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agreements",
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("short_title", sa.String(length=200), nullable=True),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column(
            "doc_type",
            sa.Enum(
                "treaty",
                "mou",
                "letter_of_intent",
                "joint_statement",
                "roadmap",
                "action_plan",
                "framework",
                "other",
                name="doc_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "binding",
            sa.Enum(
                "binding",
                "non_binding",
                "unknown",
                name="binding",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "text_availability",
            sa.Enum(
                "public",
                "restricted",
                "undisclosed",
                name="text_availability",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("text_url", sa.String(length=2000), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column(
            "lifecycle_status",
            sa.Enum(
                "unknown",
                "proposed",
                "under_negotiation",
                "signed",
                "ratified",
                "in_force",
                "provisionally_applied",
                "suspended",
                "terminated",
                "expired",
                "superseded",
                "withdrawn",
                name="lifecycle_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("progress", sa.Float(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
    )
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agreements_lifecycle_status"), ["lifecycle_status"], unique=False
        )
        batch_op.create_index(
            "uq_agreements_external_id_live",
            ["external_id"],
            unique=True,
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.create_index(
            "uq_agreements_slug_live",
            ["slug"],
            unique=True,
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "change_events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column(
            "entity",
            sa.Enum(
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
                name="entity",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column(
            "op",
            sa.Enum(
                "create",
                "update",
                "delete",
                name="op",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_change_events")),
    )
    with op.batch_alter_table("change_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_change_events_entity_entity_id", ["entity", "entity_id"], unique=False
        )

    op.create_table(
        "meeting_series",
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_series")),
    )
    with op.batch_alter_table("meeting_series", schema=None) as batch_op:
        batch_op.create_index(
            "uq_meeting_series_slug_live",
            ["slug"],
            unique=True,
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "organizations",
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("short_name", sa.String(length=50), nullable=True),
        sa.Column(
            "classification",
            sa.Enum(
                "state",
                "government_body",
                "agency",
                "intergovernmental_org",
                "company",
                "ngo",
                "other",
                name="classification",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("country_code", sa.String(length=2), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["organizations.id"],
            name=op.f("fk_organizations_parent_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
    )
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organizations_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(
            "uq_organizations_slug_live",
            ["slug"],
            unique=True,
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "people",
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sort_name", sa.String(length=200), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(
            "uq_people_slug_live",
            ["slug"],
            unique=True,
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "sources",
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("archived_url", sa.String(length=2000), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("publisher", sa.String(length=200), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "official_statement",
                "press_report",
                "agreement_text",
                "dataset",
                "other",
                name="kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column(
            "published_on_precision",
            sa.Enum(
                "day",
                "month",
                "year",
                "unknown",
                name="published_on_precision",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
    )
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.create_index(
            "uq_sources_url_live",
            ["url"],
            unique=True,
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "themes",
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["themes.id"], name=op.f("fk_themes_parent_id_themes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_themes")),
    )
    with op.batch_alter_table("themes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_themes_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(
            "uq_themes_slug_live",
            ["slug"],
            unique=True,
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "agreement_events",
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "proposed",
                "negotiation_opened",
                "signed",
                "ratified",
                "entered_into_force",
                "provisionally_applied",
                "amended",
                "suspended",
                "terminated",
                "expired",
                "superseded",
                "withdrawn",
                name="type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column(
            "date_precision",
            sa.Enum(
                "day",
                "month",
                "year",
                "unknown",
                name="date_precision",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_agreement_events_agreement_id_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_agreement_events_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_events")),
    )
    with op.batch_alter_table("agreement_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agreement_events_agreement_id"), ["agreement_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_agreement_events_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "agreement_participants",
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "party",
                "signatory",
                "depositary",
                "guarantor",
                "witness",
                "observer",
                "lead_implementer",
                "implementing",
                "funding",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_agreement_participants_agreement_id_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_agreement_participants_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_participants")),
    )
    with op.batch_alter_table("agreement_participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agreement_participants_agreement_id"), ["agreement_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_agreement_participants_organization_id"),
            ["organization_id"],
            unique=False,
        )

    op.create_table(
        "agreement_relations",
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("related_agreement_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "amends",
                "supersedes",
                "implements",
                "framework_for",
                "related",
                name="kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_agreement_relations_agreement_id_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["related_agreement_id"],
            ["agreements.id"],
            name=op.f("fk_agreement_relations_related_agreement_id_agreements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_relations")),
    )
    with op.batch_alter_table("agreement_relations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agreement_relations_agreement_id"), ["agreement_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_agreement_relations_related_agreement_id"),
            ["related_agreement_id"],
            unique=False,
        )

    op.create_table(
        "agreement_themes",
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_agreement_themes_agreement_id_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"], ["themes.id"], name=op.f("fk_agreement_themes_theme_id_themes")
        ),
        sa.PrimaryKeyConstraint("agreement_id", "theme_id", name=op.f("pk_agreement_themes")),
    )
    with op.batch_alter_table("agreement_themes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agreement_themes_theme_id"), ["theme_id"], unique=False
        )

    op.create_table(
        "citations",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column(
            "entity_type",
            sa.Enum(
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
                name="entity_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=True),
        sa.Column("quote", sa.Text(), nullable=True),
        sa.Column("locator", sa.String(length=200), nullable=True),
        sa.Column("claimed_value", sa.Text(), nullable=True),
        sa.Column(
            "confidence",
            sa.Enum(
                "low",
                "medium",
                "high",
                name="confidence",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_citations_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citations")),
    )
    with op.batch_alter_table("citations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_citations_entity_type_entity_id", ["entity_type", "entity_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_citations_source_id"), ["source_id"], unique=False)

    op.create_table(
        "commitments",
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "section",
                "commitment",
                "action",
                name="kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("ref", sa.String(length=50), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column(
            "due_date_precision",
            sa.Enum(
                "day",
                "month",
                "year",
                "unknown",
                name="due_date_precision",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("verifiable", sa.Boolean(), nullable=True),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column(
            "current_status",
            sa.Enum(
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
                name="current_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("current_assessment_id", sa.Integer(), nullable=True),
        sa.Column("status_progress", sa.Float(), nullable=True),
        sa.Column("current_progress", sa.Float(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agreement_id"], ["agreements.id"], name=op.f("fk_commitments_agreement_id_agreements")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["commitments.id"], name=op.f("fk_commitments_parent_id_commitments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitments")),
    )
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_commitments_agreement_id_id", ["agreement_id", "id"], unique=False
        )
        batch_op.create_index(
            "ix_commitments_current_status_id", ["current_status", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_commitments_due_date"), ["due_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_commitments_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(
            "uq_commitments_external_id_live",
            ["external_id"],
            unique=True,
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "meeting_series_organizations",
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_meeting_series_organizations_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["meeting_series.id"],
            name=op.f("fk_meeting_series_organizations_series_id_meeting_series"),
        ),
        sa.PrimaryKeyConstraint(
            "series_id", "organization_id", name=op.f("pk_meeting_series_organizations")
        ),
    )
    with op.batch_alter_table("meeting_series_organizations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_series_organizations_organization_id"),
            ["organization_id"],
            unique=False,
        )

    op.create_table(
        "meetings",
        sa.Column("series_id", sa.Integer(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
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
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "scheduled",
                "held",
                "postponed",
                "cancelled",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["series_id"], ["meeting_series.id"], name=op.f("fk_meetings_series_id_meeting_series")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
        sa.UniqueConstraint("series_id", "sequence", name=op.f("uq_meetings_series_id_sequence")),
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meetings_series_id"), ["series_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_meetings_start_date"), ["start_date"], unique=False)

    op.create_table(
        "posts",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_posts_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
    )
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_posts_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "agreement_event_signers",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["agreement_events.id"],
            name=op.f("fk_agreement_event_signers_event_id_agreement_events"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_agreement_event_signers_person_id_people")
        ),
        sa.PrimaryKeyConstraint("event_id", "person_id", name=op.f("pk_agreement_event_signers")),
    )
    with op.batch_alter_table("agreement_event_signers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agreement_event_signers_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "commitment_actors",
        sa.Column("commitment_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "responsible",
                "implementing",
                "beneficiary",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["commitments.id"],
            name=op.f("fk_commitment_actors_commitment_id_commitments"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_commitment_actors_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitment_actors")),
    )
    with op.batch_alter_table("commitment_actors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commitment_actors_commitment_id"), ["commitment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commitment_actors_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "commitment_themes",
        sa.Column("commitment_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["commitments.id"],
            name=op.f("fk_commitment_themes_commitment_id_commitments"),
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"], ["themes.id"], name=op.f("fk_commitment_themes_theme_id_themes")
        ),
        sa.PrimaryKeyConstraint("commitment_id", "theme_id", name=op.f("pk_commitment_themes")),
    )
    with op.batch_alter_table("commitment_themes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commitment_themes_theme_id"), ["theme_id"], unique=False
        )

    op.create_table(
        "meeting_agenda",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("commitment_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["commitments.id"],
            name=op.f("fk_meeting_agenda_commitment_id_commitments"),
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_meeting_agenda_meeting_id_meetings")
        ),
        sa.PrimaryKeyConstraint("meeting_id", "commitment_id", name=op.f("pk_meeting_agenda")),
    )
    with op.batch_alter_table("meeting_agenda", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_agenda_commitment_id"), ["commitment_id"], unique=False
        )

    op.create_table(
        "meeting_agreements",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column(
            "link",
            sa.Enum(
                "reviewed",
                "announced",
                "signed_at",
                name="link",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_meeting_agreements_agreement_id_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_meeting_agreements_meeting_id_meetings")
        ),
        sa.PrimaryKeyConstraint(
            "meeting_id", "agreement_id", "link", name=op.f("pk_meeting_agreements")
        ),
    )
    op.create_table(
        "meeting_participants",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column(
            "role",
            sa.Enum(
                "co_chair",
                "head_of_delegation",
                "delegate",
                "observer",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_participants_meeting_id_meetings"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_meeting_participants_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_meeting_participants_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_participants")),
    )
    with op.batch_alter_table("meeting_participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_participants_meeting_id"), ["meeting_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_meeting_participants_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_meeting_participants_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "memberships",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=200), nullable=True),
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
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_memberships_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_memberships_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_memberships_post_id_posts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_memberships_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_memberships_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_memberships_post_id"), ["post_id"], unique=False)

    op.create_table(
        "status_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commitment_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
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
                name="status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("progress_pct", sa.Float(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column(
            "as_of_precision",
            sa.Enum(
                "day",
                "month",
                "year",
                "unknown",
                name="as_of_precision",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "assessor_kind",
            sa.Enum(
                "official",
                "self",
                "independent",
                "media",
                name="assessor_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("assessor_organization_id", sa.Integer(), nullable=True),
        sa.Column(
            "confidence",
            sa.Enum(
                "low",
                "medium",
                "high",
                name="confidence",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("rationale", sa.Text(), nullable=True),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessor_organization_id"],
            ["organizations.id"],
            name=op.f("fk_status_assessments_assessor_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["commitments.id"],
            name=op.f("fk_status_assessments_commitment_id_commitments"),
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_status_assessments_meeting_id_meetings")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["status_assessments.id"],
            name=op.f("fk_status_assessments_supersedes_id_status_assessments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_assessments")),
        sa.UniqueConstraint("supersedes_id", name=op.f("uq_status_assessments_supersedes_id")),
    )
    with op.batch_alter_table("status_assessments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_status_assessments_assessor_organization_id"),
            ["assessor_organization_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_status_assessments_commitment_id_as_of", ["commitment_id", "as_of"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_status_assessments_meeting_id"), ["meeting_id"], unique=False
        )

    op.create_table(
        "assessment_sources",
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["status_assessments.id"],
            name=op.f("fk_assessment_sources_assessment_id_status_assessments"),
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_assessment_sources_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("assessment_id", "source_id", name=op.f("pk_assessment_sources")),
    )
    with op.batch_alter_table("assessment_sources", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assessment_sources_source_id"), ["source_id"], unique=False
        )

    # Full-text search indexes exist on PostgreSQL only; SQLite searches with LIKE.
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_agreements_search",
            "agreements",
            [
                sa.text(
                    "to_tsvector('english', coalesce(title, '') || ' ' || coalesce(short_title, '') || ' ' || coalesce(summary, '') || ' ' || coalesce(CAST(aliases AS TEXT), ''))"
                )
            ],
            postgresql_using="gin",
        )
        op.create_index(
            "ix_commitments_search",
            "commitments",
            [
                sa.text(
                    "to_tsvector('english', coalesce(title, '') || ' ' || coalesce(text, '') || ' ' || coalesce(summary, ''))"
                )
            ],
            postgresql_using="gin",
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_agreements_search", table_name="agreements")
        op.drop_index("ix_commitments_search", table_name="commitments")

    with op.batch_alter_table("assessment_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_sources_source_id"))

    op.drop_table("assessment_sources")
    with op.batch_alter_table("status_assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_assessments_meeting_id"))
        batch_op.drop_index("ix_status_assessments_commitment_id_as_of")
        batch_op.drop_index(batch_op.f("ix_status_assessments_assessor_organization_id"))

    op.drop_table("status_assessments")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_memberships_post_id"))
        batch_op.drop_index(batch_op.f("ix_memberships_person_id"))
        batch_op.drop_index(batch_op.f("ix_memberships_organization_id"))

    op.drop_table("memberships")
    with op.batch_alter_table("meeting_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_participants_person_id"))
        batch_op.drop_index(batch_op.f("ix_meeting_participants_organization_id"))
        batch_op.drop_index(batch_op.f("ix_meeting_participants_meeting_id"))

    op.drop_table("meeting_participants")
    op.drop_table("meeting_agreements")
    with op.batch_alter_table("meeting_agenda", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_agenda_commitment_id"))

    op.drop_table("meeting_agenda")
    with op.batch_alter_table("commitment_themes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commitment_themes_theme_id"))

    op.drop_table("commitment_themes")
    with op.batch_alter_table("commitment_actors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commitment_actors_organization_id"))
        batch_op.drop_index(batch_op.f("ix_commitment_actors_commitment_id"))

    op.drop_table("commitment_actors")
    with op.batch_alter_table("agreement_event_signers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_event_signers_person_id"))

    op.drop_table("agreement_event_signers")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_posts_organization_id"))

    op.drop_table("posts")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meetings_start_date"))
        batch_op.drop_index(batch_op.f("ix_meetings_series_id"))

    op.drop_table("meetings")
    with op.batch_alter_table("meeting_series_organizations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_series_organizations_organization_id"))

    op.drop_table("meeting_series_organizations")
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_commitments_external_id_live",
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_commitments_parent_id"))
        batch_op.drop_index(batch_op.f("ix_commitments_due_date"))
        batch_op.drop_index("ix_commitments_current_status_id")
        batch_op.drop_index("ix_commitments_agreement_id_id")

    op.drop_table("commitments")
    with op.batch_alter_table("citations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_citations_source_id"))
        batch_op.drop_index("ix_citations_entity_type_entity_id")

    op.drop_table("citations")
    with op.batch_alter_table("agreement_themes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_themes_theme_id"))

    op.drop_table("agreement_themes")
    with op.batch_alter_table("agreement_relations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_relations_related_agreement_id"))
        batch_op.drop_index(batch_op.f("ix_agreement_relations_agreement_id"))

    op.drop_table("agreement_relations")
    with op.batch_alter_table("agreement_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_participants_organization_id"))
        batch_op.drop_index(batch_op.f("ix_agreement_participants_agreement_id"))

    op.drop_table("agreement_participants")
    with op.batch_alter_table("agreement_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_events_organization_id"))
        batch_op.drop_index(batch_op.f("ix_agreement_events_agreement_id"))

    op.drop_table("agreement_events")
    with op.batch_alter_table("themes", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_themes_slug_live",
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_themes_parent_id"))

    op.drop_table("themes")
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_sources_url_live",
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )

    op.drop_table("sources")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_people_slug_live",
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )

    op.drop_table("people")
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_organizations_slug_live",
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_organizations_parent_id"))

    op.drop_table("organizations")
    with op.batch_alter_table("meeting_series", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_meeting_series_slug_live",
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )

    op.drop_table("meeting_series")
    with op.batch_alter_table("change_events", schema=None) as batch_op:
        batch_op.drop_index("ix_change_events_entity_entity_id")

    op.drop_table("change_events")
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_agreements_slug_live",
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index(
            "uq_agreements_external_id_live",
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_agreements_lifecycle_status"))

    op.drop_table("agreements")
