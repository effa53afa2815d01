from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, Boolean, ColumnElement, Float, ForeignKey, String, Text, exists
from sqlalchemy.orm import Mapped, composite, mapped_column, relationship

from service.commitments.models import Commitment
from service.core.dates import PartialDate
from service.core.db import Base, RecordColumns, live_unique_index, vocabulary
from service.core.vocabularies import DatePrecision, IndicatorMeasure


def _precision(name: str) -> Mapped[DatePrecision]:
    return mapped_column(vocabulary(DatePrecision, name), default=DatePrecision.UNKNOWN)


class Indicator(RecordColumns, Base):
    """A measurable sign of a commitment's progress (IATI's result indicator): a baseline,
    and periods each with a target and an actual, every value with its date and sources."""

    __tablename__ = "indicators"
    __table_args__ = (live_unique_index("indicators", "external_id"),)

    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitments.id"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    measure: Mapped[IndicatorMeasure] = mapped_column(vocabulary(IndicatorMeasure, "measure"))
    unit_label: Mapped[str | None] = mapped_column(String(100))
    # Whether a higher value is better (trained officers) or a lower one (debris incidents).
    ascending: Mapped[bool] = mapped_column(Boolean, default=True)
    baseline_value: Mapped[float | None] = mapped_column(Float)
    baseline_date_value: Mapped[date | None] = mapped_column("baseline_date")
    baseline_date_precision: Mapped[DatePrecision] = _precision("baseline_date_precision")
    baseline_comment: Mapped[str | None] = mapped_column(Text)
    baseline_source_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # A stable key for bulk import, unique among live indicators.
    external_id: Mapped[str | None] = mapped_column(String(200))

    baseline_date: Mapped[PartialDate] = composite(baseline_date_value, baseline_date_precision)
    periods: Mapped[list[IndicatorPeriod]] = relationship(
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by="IndicatorPeriod.position",
    )

    @classmethod
    def live_condition(cls) -> ColumnElement[bool]:
        """Gone with its commitment (records.live applies this wherever indicators are read)."""
        return exists().where(Commitment.id == cls.commitment_id, Commitment.deleted_at.is_(None))


class IndicatorPeriod(Base):
    """One period of an indicator: its target, and the actual value reached."""

    __tablename__ = "indicator_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id"), index=True)
    # Its place in the indicator's list, as given.
    position: Mapped[int] = mapped_column()
    start_date_value: Mapped[date | None] = mapped_column("start_date")
    start_date_precision: Mapped[DatePrecision] = _precision("start_date_precision")
    end_date_value: Mapped[date | None] = mapped_column("end_date")
    end_date_precision: Mapped[DatePrecision] = _precision("end_date_precision")
    target_value: Mapped[float | None] = mapped_column(Float)
    target_comment: Mapped[str | None] = mapped_column(Text)
    target_as_of_value: Mapped[date | None] = mapped_column("target_as_of")
    target_as_of_precision: Mapped[DatePrecision] = _precision("target_as_of_precision")
    target_source_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    actual_value: Mapped[float | None] = mapped_column(Float)
    actual_comment: Mapped[str | None] = mapped_column(Text)
    actual_as_of_value: Mapped[date | None] = mapped_column("actual_as_of")
    actual_as_of_precision: Mapped[DatePrecision] = _precision("actual_as_of_precision")
    actual_source_ids: Mapped[list[int]] = mapped_column(JSON, default=list)

    start_date: Mapped[PartialDate] = composite(start_date_value, start_date_precision)
    end_date: Mapped[PartialDate] = composite(end_date_value, end_date_precision)
    target_as_of: Mapped[PartialDate] = composite(target_as_of_value, target_as_of_precision)
    actual_as_of: Mapped[PartialDate] = composite(actual_as_of_value, actual_as_of_precision)

    def plain(self) -> dict[str, Any]:
        """The period as its change events and answers hold it."""
        return {name: getattr(self, name) for name in PERIOD_FIELDS}


PERIOD_FIELDS = (
    "start_date",
    "end_date",
    "target_value",
    "target_comment",
    "target_as_of",
    "target_source_ids",
    "actual_value",
    "actual_comment",
    "actual_as_of",
    "actual_source_ids",
)
