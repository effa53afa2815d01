from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Float,
    ForeignKey,
    Index,
    Table,
    Text,
    and_,
    exists,
    select,
)
from sqlalchemy.orm import Mapped, composite, mapped_column, relationship

from service.commitments.models import Commitment
from service.core.dates import PartialDate
from service.core.db import Base, utcnow, vocabulary
from service.core.vocabularies import (
    AssessorKind,
    Confidence,
    DatePrecision,
    ImplementationStatus,
    Reliability,
)
from service.sources.models import Source, best_reliability

assessment_sources = Table(
    "assessment_sources",
    Base.metadata,
    Column("assessment_id", ForeignKey("status_assessments.id"), primary_key=True),
    Column("source_id", ForeignKey("sources.id"), primary_key=True, index=True),
)


def rests_only_on_low_sources(assessment_id: Any) -> ColumnElement[bool]:
    """SQL for `best_reliability(sources) is Reliability.LOW` (sources.models): the assessment
    cites sources and every one of them is low. Held equal to it by a test."""
    cited = select(assessment_sources.c.source_id).where(
        assessment_sources.c.assessment_id == assessment_id
    )
    better = (
        select(assessment_sources.c.source_id)
        .join(Source, Source.id == assessment_sources.c.source_id)
        .where(
            assessment_sources.c.assessment_id == assessment_id,
            Source.reliability != Reliability.LOW,
        )
    )
    return and_(cited.exists(), ~better.exists())


class StatusAssessment(Base):
    """One judgement of a commitment's implementation at a date. Append-only: a wrong
    assessment is corrected by a new one that supersedes it, never edited."""

    __tablename__ = "status_assessments"
    __table_args__ = (Index("ix_status_assessments_commitment_id_as_of", "commitment_id", "as_of"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitments.id"))
    status: Mapped[ImplementationStatus] = mapped_column(vocabulary(ImplementationStatus, "status"))
    progress_pct: Mapped[float | None] = mapped_column(Float)
    as_of_value: Mapped[date] = mapped_column("as_of")
    as_of_precision: Mapped[DatePrecision] = mapped_column(
        vocabulary(DatePrecision, "as_of_precision")
    )
    assessed_at: Mapped[datetime] = mapped_column(default=utcnow)
    assessor_kind: Mapped[AssessorKind] = mapped_column(vocabulary(AssessorKind, "assessor_kind"))
    assessor_organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id"), index=True
    )
    confidence: Mapped[Confidence] = mapped_column(
        vocabulary(Confidence, "confidence"), default=Confidence.MEDIUM
    )
    rationale: Mapped[str | None] = mapped_column(Text)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"), index=True)
    # The assessment this one corrects; each assessment is corrected at most once.
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("status_assessments.id"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Derived, not judged: the progress this assessment gives once the rules are applied
    # (a stated or default percentage, or the last known one); null when it is corrected.
    effective_progress: Mapped[float | None] = mapped_column(Float, default=None)

    as_of: Mapped[PartialDate] = composite(as_of_value, as_of_precision)
    sources: Mapped[list[Source]] = relationship(
        secondary=assessment_sources, lazy="selectin", order_by=Source.id
    )
    # The later assessment that corrects this one, if any.
    superseded_by: Mapped[StatusAssessment | None] = relationship(
        primaryjoin="StatusAssessment.id == foreign(StatusAssessment.supersedes_id)",
        uselist=False,
        lazy="selectin",
        # Loaded with the assessments, one level: an eager load of a relationship to its own
        # class stops where the class is already in the chain, and each assessment of a page
        # would load it with a query of its own.
        join_depth=1,
        viewonly=True,
    )

    @classmethod
    def live_condition(cls) -> ColumnElement[bool]:
        """An assessment is never deleted itself: it is there while its commitment is, and
        gone with it (records.live applies this wherever assessments are read)."""
        return exists().where(Commitment.id == cls.commitment_id, Commitment.deleted_at.is_(None))

    @property
    def source_ids(self) -> list[int]:
        return [source.id for source in self.sources]

    @property
    def evidence_reliability(self) -> Reliability | None:
        return best_reliability(self.sources)

    @property
    def superseded_by_id(self) -> int | None:
        return self.superseded_by.id if self.superseded_by is not None else None
