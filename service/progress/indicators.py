"""An indicator's progress: how far its actual value has gone from its baseline towards its
target, the one rule every answer and count of indicators reads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Protocol

from service.core.dates import PartialDate
from service.core.vocabularies import IndicatorMeasure


class Period(Protocol):
    target_value: float | None
    actual_value: float | None
    actual_as_of: PartialDate
    end_date: PartialDate


def period_progress(
    measure: IndicatorMeasure,
    ascending: bool,
    baseline: float | None,
    target: float | None,
    actual: float | None,
) -> float | None:
    """0-100: the share of the way from baseline to target that the actual value has gone,
    in the direction that is better (`ascending`: higher is better). None when it cannot be
    said: a qualitative indicator, a missing target or actual. With no baseline, a higher-is-
    better indicator starts from 0; a lower-is-better one cannot be placed."""
    if measure is IndicatorMeasure.QUALITATIVE or target is None or actual is None:
        return None
    if baseline is None:
        if not ascending:
            return None
        baseline = 0.0
    if target == baseline:
        reached = actual >= target if ascending else actual <= target
        return 100.0 if reached else 0.0
    share = (actual - baseline) / (target - baseline) * 100
    return min(100.0, max(0.0, share))


def current_period(periods: Sequence[Period], as_of: date | None = None) -> Period | None:
    """The period whose actual is the latest known (on `as_of`, those dated up to it, by the
    first day of their date as an assessment's `as_of` is read); ties go to the one that ends
    later, then to the later in the list."""
    known = [
        (period.actual_as_of.value, period.end_date.value or date.min, position, period)
        for position, period in enumerate(periods)
        if period.actual_value is not None
        and period.actual_as_of.value is not None
        and (as_of is None or period.actual_as_of.value <= as_of)
    ]
    return max(known, key=lambda item: item[:3])[3] if known else None


def indicator_progress(
    measure: IndicatorMeasure,
    ascending: bool,
    baseline: float | None,
    periods: Iterable[Period],
    as_of: date | None = None,
) -> float | None:
    """An indicator's progress: its current period's (`current_period`), or None."""
    period = current_period(list(periods), as_of)
    if period is None:
        return None
    return period_progress(measure, ascending, baseline, period.target_value, period.actual_value)
