from __future__ import annotations

from sqlalchemy import Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.core.db import Base, RecordColumns, live_unique_index


class Theme(RecordColumns, Base):
    """A node of the hierarchical taxonomy ("space security" under "defence")."""

    __tablename__ = "themes"
    __table_args__ = (live_unique_index("themes", "slug"),)

    slug: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id"), index=True)

    parent: Mapped[Theme | None] = relationship(remote_side="Theme.id", lazy="raise")


agreement_themes = Table(
    "agreement_themes",
    Base.metadata,
    Column("agreement_id", ForeignKey("agreements.id"), primary_key=True),
    Column("theme_id", ForeignKey("themes.id"), primary_key=True, index=True),
)

commitment_themes = Table(
    "commitment_themes",
    Base.metadata,
    Column("commitment_id", ForeignKey("commitments.id"), primary_key=True),
    Column("theme_id", ForeignKey("themes.id"), primary_key=True, index=True),
)
