from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, Column, Float, ForeignKey, Index, String, Table, Text, text
from sqlalchemy.orm import Mapped, composite, mapped_column, relationship

from service.core.dates import PartialDate
from service.core.db import Base, RecordColumns, live_unique_index, vocabulary
from service.core.vocabularies import (
    AgreementEventType,
    Binding,
    DatePrecision,
    DocType,
    LifecycleStatus,
    ParticipantRole,
    RelationKind,
    TextAvailability,
)
from service.organizations.models import Organization
from service.people.models import Person
from service.themes.models import Theme, agreement_themes

# The text that `q` searches; the PostgreSQL index below is built on exactly this expression.
AGREEMENT_SEARCH_DOCUMENT = (
    "to_tsvector('english', coalesce(title, '') || ' ' || coalesce(short_title, '') "
    "|| ' ' || coalesce(summary, '') || ' ' || coalesce(CAST(aliases AS TEXT), ''))"
)


class Agreement(RecordColumns, Base):
    """One instrument: a treaty, memorandum, letter of intent, joint statement..."""

    __tablename__ = "agreements"
    __table_args__ = (
        live_unique_index("agreements", "slug"),
        live_unique_index("agreements", "external_id"),
        Index(
            "ix_agreements_search", text(AGREEMENT_SEARCH_DOCUMENT), postgresql_using="gin"
        ).ddl_if(dialect="postgresql"),
    )

    slug: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(500))
    short_title: Mapped[str | None] = mapped_column(String(200))
    # Other names the same instrument is known by ("Letter of intent on defence space partnership").
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    doc_type: Mapped[DocType] = mapped_column(vocabulary(DocType, "doc_type"))
    binding: Mapped[Binding] = mapped_column(
        vocabulary(Binding, "binding"), default=Binding.UNKNOWN
    )
    text_availability: Mapped[TextAvailability] = mapped_column(
        vocabulary(TextAvailability, "text_availability"), default=TextAvailability.UNDISCLOSED
    )
    summary: Mapped[str | None] = mapped_column(Text)
    text_url: Mapped[str | None] = mapped_column(String(2000))
    language: Mapped[str | None] = mapped_column(String(35))
    external_id: Mapped[str | None] = mapped_column(String(200))

    # Derived, maintained by the services on every write that can change them.
    lifecycle_status: Mapped[LifecycleStatus] = mapped_column(
        vocabulary(LifecycleStatus, "lifecycle_status"), default=LifecycleStatus.UNKNOWN, index=True
    )
    progress: Mapped[float | None] = mapped_column(Float)

    themes: Mapped[list[Theme]] = relationship(
        secondary=agreement_themes, lazy="selectin", order_by=Theme.slug
    )

    @property
    def live_themes(self) -> list[Theme]:
        """Its themes, in slug order, without the deleted ones: what its answers show."""
        return [theme for theme in self.themes if theme.deleted_at is None]

    @property
    def theme_slugs(self) -> list[str]:
        return [theme.slug for theme in self.live_themes]


agreement_event_signers = Table(
    "agreement_event_signers",
    Base.metadata,
    Column("event_id", ForeignKey("agreement_events.id"), primary_key=True),
    Column("person_id", ForeignKey("people.id"), primary_key=True, index=True),
)


class AgreementEvent(RecordColumns, Base):
    """A lifecycle act on an agreement: signed, ratified, entered into force..."""

    __tablename__ = "agreement_events"

    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), index=True)
    type: Mapped[AgreementEventType] = mapped_column(vocabulary(AgreementEventType, "type"))
    date_value: Mapped[date | None] = mapped_column("date")
    date_precision: Mapped[DatePrecision] = mapped_column(
        vocabulary(DatePrecision, "date_precision"), default=DatePrecision.UNKNOWN
    )
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    location: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)

    date: Mapped[PartialDate] = composite(date_value, date_precision)
    signers: Mapped[list[Person]] = relationship(
        secondary=agreement_event_signers, lazy="selectin", order_by=Person.id
    )

    @property
    def signer_ids(self) -> list[int]:
        return [person.id for person in self.signers]


class AgreementParticipant(RecordColumns, Base):
    """An organization's role in an agreement (party, signatory, implementer...)."""

    __tablename__ = "agreement_participants"

    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    role: Mapped[ParticipantRole] = mapped_column(vocabulary(ParticipantRole, "role"))
    # Named in its answers (OrganizationSummary), loaded with the page in one more query.
    organization: Mapped[Organization] = relationship(lazy="selectin", viewonly=True)


class AgreementRelation(RecordColumns, Base):
    """How two instruments relate: this agreement <kind> the other (amends, implements...)."""

    __tablename__ = "agreement_relations"

    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), index=True)
    related_agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), index=True)
    kind: Mapped[RelationKind] = mapped_column(vocabulary(RelationKind, "kind"))
    note: Mapped[str | None] = mapped_column(Text)
