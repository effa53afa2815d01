from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, composite, mapped_column, relationship

from service.core.dates import PartialDate
from service.core.db import Base, RecordColumns, live_unique_index, vocabulary
from service.core.vocabularies import ActorRole, CommitmentKind, DatePrecision, ImplementationStatus
from service.organizations.models import Organization
from service.themes.models import Theme, commitment_themes

# The text that `q` searches; the PostgreSQL index below is built on exactly this expression.
COMMITMENT_SEARCH_DOCUMENT = (
    "to_tsvector('english', coalesce(title, '') || ' ' || coalesce(text, '') "
    "|| ' ' || coalesce(summary, ''))"
)


class Commitment(RecordColumns, Base):
    """A provision, commitment or action: one node of an agreement's commitment tree."""

    __tablename__ = "commitments"
    __table_args__ = (
        live_unique_index("commitments", "external_id"),
        Index("ix_commitments_agreement_id_id", "agreement_id", "id"),
        Index("ix_commitments_current_status_id", "current_status", "id"),
        Index("ix_commitments_agreement_id_depth", "agreement_id", "depth"),
        # The overdue count of a summary: a range of due dates, the status read from the index.
        Index(
            "ix_commitments_live_due_by_status",
            "due_by",
            "current_status",
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
        Index(
            "ix_commitments_search", text(COMMITMENT_SEARCH_DOCUMENT), postgresql_using="gin"
        ).ddl_if(dialect="postgresql"),
    )

    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("commitments.id"), index=True)
    kind: Mapped[CommitmentKind] = mapped_column(
        vocabulary(CommitmentKind, "kind"), default=CommitmentKind.COMMITMENT
    )
    ref: Mapped[str | None] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(500))
    # Verbatim where the agreement's text is public; otherwise as reported.
    text: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    due_date_value: Mapped[date | None] = mapped_column("due_date", index=True)
    due_date_precision: Mapped[DatePrecision] = mapped_column(
        vocabulary(DatePrecision, "due_date_precision"), default=DatePrecision.UNKNOWN
    )
    verifiable: Mapped[bool | None] = mapped_column(Boolean)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    # Its own progress from its indicators (the mean of those whose progress is known) in
    # place of its assessments' (progress.rules.driven_state); its status still theirs.
    progress_from_indicators: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    external_id: Mapped[str | None] = mapped_column(String(200))

    # Derived, maintained in the same transaction as every assessment or tree change:
    # reads never scan the assessment history.
    current_status: Mapped[ImplementationStatus] = mapped_column(
        vocabulary(ImplementationStatus, "current_status"),
        default=ImplementationStatus.NOT_ASSESSED,
    )
    current_assessment_id: Mapped[int | None] = mapped_column()
    # This commitment's own progress: from its own assessments, or from its indicators when
    # `progress_from_indicators`.
    status_progress: Mapped[float | None] = mapped_column(Float)
    # What clients see: the weighted mean over the children when there are any.
    current_progress: Mapped[float | None] = mapped_column(Float)
    # Its level in the tree (0 at the top): the statistics roll progress up level by level.
    depth: Mapped[int] = mapped_column(default=0)
    # The last day of the due period ("2025-06" is due by 30 June 2025): overdue after it.
    due_by: Mapped[date | None] = mapped_column(index=True)

    due_date: Mapped[PartialDate] = composite(due_date_value, due_date_precision)
    themes: Mapped[list[Theme]] = relationship(
        secondary=commitment_themes, lazy="selectin", order_by=Theme.slug
    )

    @property
    def live_themes(self) -> list[Theme]:
        """Its themes, in slug order, without the deleted ones: what its answers show."""
        return [theme for theme in self.themes if theme.deleted_at is None]

    @property
    def theme_slugs(self) -> list[str]:
        return [theme.slug for theme in self.live_themes]


class CommitmentActor(RecordColumns, Base):
    """An organization's part in a commitment: responsible, implementing or beneficiary."""

    __tablename__ = "commitment_actors"

    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitments.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    role: Mapped[ActorRole] = mapped_column(vocabulary(ActorRole, "role"))
    # Named in its answers (OrganizationSummary), loaded with the page in one more query.
    organization: Mapped[Organization] = relationship(lazy="selectin", viewonly=True)
