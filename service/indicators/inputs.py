"""What the indicators' service functions take, typed: the fields their create and update
schemas load, and the filters of their list. tests/unit/test_inputs.py holds each type to
its schemas."""

from __future__ import annotations

from datetime import date
from typing import TypedDict

from service.core.dates import PartialDate
from service.core.vocabularies import IndicatorMeasure


class IndicatorPeriodIn(TypedDict, total=False):
    start_date: PartialDate | None
    end_date: PartialDate | None
    target_value: float | None
    target_comment: str | None
    target_as_of: PartialDate | None
    target_source_ids: list[int]
    actual_value: float | None
    actual_comment: str | None
    actual_as_of: PartialDate | None
    actual_source_ids: list[int]


class IndicatorIn(TypedDict, total=False):
    title: str
    description: str | None
    measure: IndicatorMeasure
    unit_label: str | None
    ascending: bool
    baseline_value: float | None
    baseline_date: PartialDate | None
    baseline_comment: str | None
    baseline_source_ids: list[int]
    periods: list[IndicatorPeriodIn]
    external_id: str | None


class IndicatorFilters(TypedDict, total=False):
    measure: IndicatorMeasure
    as_of: date
    # Of the list of every indicator only.
    agreement: str
    commitment: int
