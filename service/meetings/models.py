from __future__ import annotations

from datetime import date

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, composite, mapped_column, relationship

from service.core.dates import PartialDate
from service.core.db import Base, RecordColumns, live_unique_index, vocabulary
from service.core.vocabularies import (
    DatePrecision,
    MeetingAgreementLink,
    MeetingParticipantRole,
    MeetingStatus,
)
from service.organizations.models import Organization
from service.people.models import Person

meeting_series_organizations = Table(
    "meeting_series_organizations",
    Base.metadata,
    Column("series_id", ForeignKey("meeting_series.id"), primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), primary_key=True, index=True),
)


class MeetingSeries(RecordColumns, Base):
    """A standing dialogue (the India–France Strategic Space Dialogue) and who holds it."""

    __tablename__ = "meeting_series"
    __table_args__ = (live_unique_index("meeting_series", "slug"),)

    slug: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)

    organizations: Mapped[list[Organization]] = relationship(
        secondary=meeting_series_organizations, lazy="selectin", order_by=Organization.id
    )

    @property
    def organization_ids(self) -> list[int]:
        return [organization.id for organization in self.organizations]


class MeetingAgreement(Base):
    """An agreement a meeting reviewed, announced, or saw signed."""

    __tablename__ = "meeting_agreements"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), primary_key=True)
    link: Mapped[MeetingAgreementLink] = mapped_column(
        vocabulary(MeetingAgreementLink, "link"), primary_key=True
    )


class MeetingAgendaItem(Base):
    """A commitment on a meeting's agenda."""

    __tablename__ = "meeting_agenda"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    commitment_id: Mapped[int] = mapped_column(
        ForeignKey("commitments.id"), primary_key=True, index=True
    )


class Meeting(RecordColumns, Base):
    """One sitting of a series (Popolo Event)."""

    __tablename__ = "meetings"
    # A deleted sitting frees its number in the series.
    __table_args__ = (live_unique_index("meetings", "series_id", "sequence"),)

    series_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_series.id"), index=True)
    sequence: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    start_date_value: Mapped[date | None] = mapped_column("start_date", index=True)
    start_date_precision: Mapped[DatePrecision] = mapped_column(
        vocabulary(DatePrecision, "start_date_precision"), default=DatePrecision.UNKNOWN
    )
    end_date_value: Mapped[date | None] = mapped_column("end_date")
    end_date_precision: Mapped[DatePrecision] = mapped_column(
        vocabulary(DatePrecision, "end_date_precision"), default=DatePrecision.UNKNOWN
    )
    location: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[MeetingStatus] = mapped_column(
        vocabulary(MeetingStatus, "status"), default=MeetingStatus.SCHEDULED
    )
    summary: Mapped[str | None] = mapped_column(Text)

    start_date: Mapped[PartialDate] = composite(start_date_value, start_date_precision)
    end_date: Mapped[PartialDate] = composite(end_date_value, end_date_precision)
    agreement_links: Mapped[list[MeetingAgreement]] = relationship(
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by=(MeetingAgreement.agreement_id, MeetingAgreement.link),
    )
    agenda_rows: Mapped[list[MeetingAgendaItem]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by=MeetingAgendaItem.commitment_id
    )

    @property
    def agreements(self) -> list[dict[str, object]]:
        return [
            {"agreement_id": row.agreement_id, "link": row.link} for row in self.agreement_links
        ]

    @property
    def agenda_commitment_ids(self) -> list[int]:
        return [row.commitment_id for row in self.agenda_rows]


class MeetingParticipant(RecordColumns, Base):
    """A person or organization at a meeting, and in what role (co-chair, delegate...)."""

    __tablename__ = "meeting_participants"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    role: Mapped[MeetingParticipantRole] = mapped_column(vocabulary(MeetingParticipantRole, "role"))
    # Named in its answers (PersonSummary, OrganizationSummary), loaded with the page in one
    # more query each.
    person: Mapped[Person | None] = relationship(lazy="selectin", viewonly=True)
    organization: Mapped[Organization | None] = relationship(lazy="selectin", viewonly=True)
