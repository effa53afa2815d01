from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from service.core.db import Base, RecordColumns, live_unique_index, vocabulary
from service.core.vocabularies import OrganizationClassification


class Organization(RecordColumns, Base):
    """A state, ministry, agency, international body or company (Popolo Organization)."""

    __tablename__ = "organizations"
    __table_args__ = (live_unique_index("organizations", "slug"),)

    slug: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    short_name: Mapped[str | None] = mapped_column(String(50))
    classification: Mapped[OrganizationClassification] = mapped_column(
        vocabulary(OrganizationClassification, "classification")
    )
    # ISO 3166-1 alpha-2, for states (and optionally the bodies of one state).
    country_code: Mapped[str | None] = mapped_column(String(2))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)


class Post(RecordColumns, Base):
    """A position that outlives its holder ("Foreign Secretary" of the MEA)."""

    __tablename__ = "posts"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    label: Mapped[str] = mapped_column(String(200))
