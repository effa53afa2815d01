from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, composite, mapped_column

from service.core.dates import PartialDate
from service.core.db import Base, RecordColumns, live_unique_index, vocabulary
from service.core.vocabularies import Confidence, DatePrecision, EntityType, Reliability, SourceKind


class Source(RecordColumns, Base):
    """Where a fact comes from: an official statement, a press report, an agreement text."""

    __tablename__ = "sources"
    __table_args__ = (live_unique_index("sources", "url"),)

    url: Mapped[str] = mapped_column(String(2000))
    archived_url: Mapped[str | None] = mapped_column(String(2000))
    title: Mapped[str] = mapped_column(String(500))
    publisher: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[SourceKind] = mapped_column(
        vocabulary(SourceKind, "kind"), default=SourceKind.OTHER
    )
    published_on_value: Mapped[date | None] = mapped_column("published_on")
    published_on_precision: Mapped[DatePrecision] = mapped_column(
        vocabulary(DatePrecision, "published_on_precision"), default=DatePrecision.UNKNOWN
    )
    language: Mapped[str | None] = mapped_column(String(35))
    # The outlet's record (an AI-rewrite site is low), whatever the fact: lists filter on it,
    # statistics can leave out what rests on low sources alone.
    reliability: Mapped[Reliability] = mapped_column(
        vocabulary(Reliability, "reliability"), default=Reliability.UNKNOWN
    )
    note: Mapped[str | None] = mapped_column(Text)

    published_on: Mapped[PartialDate] = composite(published_on_value, published_on_precision)


# Best first. A source of unknown standing still counts for more than one known to be weak:
# "rests only on low sources" means every source is known to be low.
_RELIABILITY_ORDER = (Reliability.HIGH, Reliability.MEDIUM, Reliability.UNKNOWN, Reliability.LOW)


def best_reliability(sources: Iterable[Source]) -> Reliability | None:
    """The reliability of the best of these sources; `low` only when every one is low, and
    None when there are none."""
    known = {source.reliability for source in sources}
    return next((level for level in _RELIABILITY_ORDER if level in known), None)


class Citation(RecordColumns, Base):
    """A source's support for one record (and optionally one field), with what it claims.

    Sources may disagree: the record holds the accepted value, `claimed_value` what this
    source says, so a reader sees both.
    """

    __tablename__ = "citations"
    __table_args__ = (Index("ix_citations_entity_type_entity_id", "entity_type", "entity_id"),)

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    entity_type: Mapped[EntityType] = mapped_column(vocabulary(EntityType, "entity_type"))
    entity_id: Mapped[int] = mapped_column()
    field: Mapped[str | None] = mapped_column(String(100))
    quote: Mapped[str | None] = mapped_column(Text)
    locator: Mapped[str | None] = mapped_column(String(200))
    claimed_value: Mapped[str | None] = mapped_column(Text)
    # How far this source can be trusted for this fact (unnamed sources, a weak outlet).
    confidence: Mapped[Confidence | None] = mapped_column(vocabulary(Confidence, "confidence"))
    note: Mapped[str | None] = mapped_column(Text)
