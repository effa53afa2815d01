"""An indicator's progress (how far its actual value has gone from its baseline towards its
target) and its track (whether that is as far as the time gone asks): the rules every
answer and count of indicators reads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import NamedTuple, Protocol

from service.core.dates import PartialDate
from service.core.vocabularies import IndicatorMeasure, IndicatorTrack


class Period(Protocol):
    """A period as these rules read it: a record's (models.IndicatorPeriod) or a row's."""

    @property
    def target_value(self) -> float | None: ...
    @property
    def actual_value(self) -> float | None: ...
    @property
    def actual_as_of(self) -> PartialDate: ...
    @property
    def start_date(self) -> PartialDate: ...
    @property
    def end_date(self) -> PartialDate: ...


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


class IndicatorFacts(NamedTuple):
    """An indicator as the progress of the commitment it drives reads it."""

    measure: IndicatorMeasure
    ascending: bool
    baseline: float | None
    periods: Sequence[Period]


def commitment_indicators_progress(
    indicators: Iterable[IndicatorFacts], as_of: date | None = None
) -> float | None:
    """The progress a commitment's indicators give it (rules.driven_state): the mean of
    their progress (indicator_progress) where it is known, each indicator counting once;
    None when none is known."""
    known = [
        progress
        for indicator in indicators
        if (
            progress := indicator_progress(
                indicator.measure, indicator.ascending, indicator.baseline, indicator.periods, as_of
            )
        )
        is not None
    ]
    return sum(known) / len(known) if known else None


def actual_dates(indicators: Iterable[IndicatorFacts]) -> list[date]:
    """The dates on which the indicators' progress can move: those of their known actuals."""
    return [
        period.actual_as_of.value
        for indicator in indicators
        for period in indicator.periods
        if period.actual_value is not None and period.actual_as_of.value is not None
    ]


def indicator_track(
    measure: IndicatorMeasure,
    ascending: bool,
    baseline: float | None,
    baseline_date: PartialDate,
    periods: Iterable[Period],
    as_of: date | None = None,
) -> IndicatorTrack:
    """Met when its current period's progress reaches 100; else on track when that progress
    is at least the share of the period gone by the actual's date (from the period's start,
    or the baseline's date, to the last day of its end), off track when less; unknown when
    there is no progress, or no dates to measure the time by."""
    period = current_period(list(periods), as_of)
    if period is None:
        return IndicatorTrack.UNKNOWN
    progress = period_progress(
        measure, ascending, baseline, period.target_value, period.actual_value
    )
    if progress is None:
        return IndicatorTrack.UNKNOWN
    if progress >= 100:
        return IndicatorTrack.MET
    start = period.start_date.value or baseline_date.value
    end = period.end_date.last_day()
    measured = period.actual_as_of.value
    if start is None or end is None or measured is None or end <= start:
        return IndicatorTrack.UNKNOWN
    gone = min(1.0, max(0.0, (measured - start).days / (end - start).days))
    return IndicatorTrack.ON_TRACK if progress >= gone * 100 else IndicatorTrack.OFF_TRACK
