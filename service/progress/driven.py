"""The indicators of the commitments whose progress they drive (`progress_from_indicators`),
read for the engine: upkeep after each write, the monthly rows, as-of reads and the bulk
path all read them here, and hand them to progress.indicators and rules.driven_state."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import NamedTuple

from sqlalchemy import Connection, bindparam, select

from service.core.dates import PartialDate
from service.progress.indicators import IndicatorFacts, commitment_indicators_progress
from service.progress.rules import CommitmentState, driven_state
from service.progress.tables import INDICATOR_PERIODS, INDICATORS

# By commitment: the indicators of each commitment their progress drives.
DrivenIndicators = Mapping[int, Sequence[IndicatorFacts]]


class PeriodFacts(NamedTuple):
    """A period as progress.indicators reads it."""

    target_value: float | None
    actual_value: float | None
    actual_as_of: PartialDate
    start_date: PartialDate
    end_date: PartialDate


_INDICATORS = (
    select(
        INDICATORS.c.commitment_id,
        INDICATORS.c.id,
        INDICATORS.c.measure,
        INDICATORS.c.ascending,
        INDICATORS.c.baseline_value,
        INDICATOR_PERIODS.c.target_value,
        INDICATOR_PERIODS.c.actual_value,
        INDICATOR_PERIODS.c.actual_as_of,
        INDICATOR_PERIODS.c.actual_as_of_precision,
        INDICATOR_PERIODS.c.start_date,
        INDICATOR_PERIODS.c.start_date_precision,
        INDICATOR_PERIODS.c.end_date,
        INDICATOR_PERIODS.c.end_date_precision,
    )
    # An indicator with no period has no progress: it gives none, and is not read.
    .select_from(
        INDICATORS.join(INDICATOR_PERIODS, INDICATOR_PERIODS.c.indicator_id == INDICATORS.c.id)
    )
    .where(
        INDICATORS.c.deleted_at.is_(None),
        INDICATOR_PERIODS.c.actual_value.is_not(None),
        INDICATORS.c.commitment_id.in_(bindparam("commitment_ids", expanding=True)),
    )
    # Periods in their list's order: current_period breaks its last ties by it.
    .order_by(INDICATORS.c.commitment_id, INDICATORS.c.id, INDICATOR_PERIODS.c.position)
)


def driven_indicators(
    connection: Connection, commitment_ids: Collection[int]
) -> dict[int, list[IndicatorFacts]]:
    """The live indicators of these commitments (those whose progress they drive), with
    their periods that state an actual value (the others give no progress), by commitment
    (one query; none when there is no commitment)."""
    found: dict[int, list[IndicatorFacts]] = {key: [] for key in commitment_ids}
    if not commitment_ids:
        return found
    periods_of: dict[int, list[PeriodFacts]] = {}
    for row in connection.execute(_INDICATORS, {"commitment_ids": sorted(commitment_ids)}):
        periods = periods_of.get(row.id)
        if periods is None:
            periods = periods_of[row.id] = []
            found[row.commitment_id].append(
                IndicatorFacts(row.measure, row.ascending, row.baseline_value, periods)
            )
        periods.append(
            PeriodFacts(
                row.target_value,
                row.actual_value,
                PartialDate(row.actual_as_of, row.actual_as_of_precision),
                PartialDate(row.start_date, row.start_date_precision),
                PartialDate(row.end_date, row.end_date_precision),
            )
        )
    return found


def driven_by(
    state: CommitmentState,
    commitment_id: int,
    driven: DrivenIndicators,
    as_of: date | None = None,
) -> CommitmentState:
    """The commitment's state once its indicators drive its progress, on `as_of` (today when
    None); as it was when they do not (it is not in `driven`)."""
    indicators = driven.get(commitment_id)
    if indicators is None:
        return state
    return driven_state(state, commitment_indicators_progress(indicators, as_of))
