from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, composite, mapped_column, relationship

from service.core.dates import PartialDate
from service.core.db import Base, RecordColumns, live_unique_index, vocabulary
from service.core.vocabularies import DatePrecision


class Person(RecordColumns, Base):
    """An official or other named actor (Popolo Person)."""

    __tablename__ = "people"
    __table_args__ = (live_unique_index("people", "slug"),)

    slug: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    sort_name: Mapped[str | None] = mapped_column(String(200))


class Membership(RecordColumns, Base):
    """Who held a post, or belonged to an organization, and when."""

    __tablename__ = "memberships"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(200))
    start_date_value: Mapped[date | None] = mapped_column("start_date")
    start_date_precision: Mapped[DatePrecision] = mapped_column(
        vocabulary(DatePrecision, "start_date_precision"), default=DatePrecision.UNKNOWN
    )
    end_date_value: Mapped[date | None] = mapped_column("end_date")
    end_date_precision: Mapped[DatePrecision] = mapped_column(
        vocabulary(DatePrecision, "end_date_precision"), default=DatePrecision.UNKNOWN
    )

    start_date: Mapped[PartialDate] = composite(start_date_value, start_date_precision)
    end_date: Mapped[PartialDate] = composite(end_date_value, end_date_precision)
    # Named where a post shows its holders (service/people/services.holders_of loads it).
    person: Mapped[Person] = relationship(lazy="raise", viewonly=True)
