"""A commitment's indicators: their baseline and periods, the rules their values keep, and
their progress (progress/indicators.py) as answers show it, today or as of a date. A write
to the indicators of a commitment whose progress they drive refreshes its agreement's."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.agreements.models import Agreement
from service.commitments.models import Commitment
from service.commitments.services import under_commitments
from service.core import records, writes
from service.core.dates import PartialDate, refuse_end_before_start, unknown_if_cleared
from service.core.errors import InvalidInput
from service.core.pagination import Page, PageRequest, keyset_page
from service.core.vocabularies import EntityType, IndicatorMeasure
from service.indicators.inputs import IndicatorFilters, IndicatorIn, IndicatorPeriodIn
from service.indicators.models import Indicator, IndicatorPeriod
from service.progress import upkeep
from service.progress.indicators import indicator_progress, indicator_track, period_progress
from service.sources.models import Source

COMMITMENT = EntityType.COMMITMENT
INDICATOR = EntityType.INDICATOR
# The values an indicator states, by their prefix: each cites its sources and has its date.
_DATED = {"baseline": "baseline_date", "target": "target_as_of", "actual": "actual_as_of"}


# A period's actual as it shows before its date: not known yet.
_NOT_YET_KNOWN: dict[str, Any] = {
    "actual_value": None,
    "actual_comment": None,
    "actual_as_of": PartialDate.unknown(),
    "actual_source_ids": [],
}


class ShownPeriod:
    """A period as an answer shows it, on `as_of`: an actual dated after it was not yet known."""

    def __init__(self, period: IndicatorPeriod, indicator: Indicator, as_of: date | None) -> None:
        self.period = period
        dated = period.actual_as_of.value
        self.known = as_of is None or (dated is not None and dated <= as_of)
        self.progress = (
            period_progress(
                indicator.measure,
                indicator.ascending,
                indicator.baseline_value,
                period.target_value,
                period.actual_value,
            )
            if self.known
            else None
        )

    def __getattr__(self, name: str) -> Any:
        if not self.known and name in _NOT_YET_KNOWN:
            return _NOT_YET_KNOWN[name]
        return getattr(self.period, name)


class ShownIndicator:
    """An indicator as an answer shows it: today's progress, or as of a date (`as_of`; None
    for today's). The record's fields are read through."""

    def __init__(self, indicator: Indicator, as_of: date | None) -> None:
        self.indicator, self.as_of = indicator, as_of
        self.periods = [ShownPeriod(period, indicator, as_of) for period in indicator.periods]
        self.progress = indicator_progress(
            indicator.measure,
            indicator.ascending,
            indicator.baseline_value,
            indicator.periods,
            as_of,
        )
        self.track = indicator_track(
            indicator.measure,
            indicator.ascending,
            indicator.baseline_value,
            indicator.baseline_date,
            indicator.periods,
            as_of,
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.indicator, name)


def list_indicators(
    session: Session, *, commitment_id: int, page: PageRequest, filters: IndicatorFilters
) -> Page[ShownIndicator]:
    commitment = records.find(session, Commitment, COMMITMENT, commitment_id)
    return list_all_indicators(session, page=page, filters={**filters, "commitment": commitment.id})


def list_all_indicators(
    session: Session, *, page: PageRequest, filters: IndicatorFilters
) -> Page[ShownIndicator]:
    """Indicators of live commitments, in id order, filtered; progress as of `as_of`."""
    statement = records.live(Indicator).where(
        *under_commitments(session, Indicator.commitment_id, filters)
    )
    if "measure" in filters:
        statement = statement.where(Indicator.measure == filters["measure"])
    found = keyset_page(session, statement, Indicator.id, page)
    as_of = filters.get("as_of")
    return Page(
        items=[ShownIndicator(indicator, as_of) for indicator in found.items],
        next_key=found.next_key,
    )


def get_indicator(
    session: Session, *, commitment_id: int, indicator_id: int, as_of: date | None = None
) -> ShownIndicator:
    return ShownIndicator(_find(session, commitment_id, indicator_id), as_of)


def _find(
    session: Session, commitment_id: int, indicator_id: int, *, for_update: bool = False
) -> Indicator:
    if for_update:
        lock_tree(session, commitment_id)
    commitment = records.find(session, Commitment, COMMITMENT, commitment_id, for_update=for_update)
    return records.find_child(
        session, Indicator, INDICATOR, "commitment_id", commitment.id, indicator_id,
        for_update=for_update,
    )  # fmt: skip


def lock_tree(session: Session, commitment_id: int) -> None:
    """Lock the commitment's agreement, as every write to its tree does: where indicators
    drive their commitment's progress, writing them moves the agreement's roll-up
    (`refresh_if_driven`)."""
    records.lock_parent(
        session, Commitment, COMMITMENT, commitment_id, Commitment.agreement_id, Agreement
    )


def refresh_if_driven(session: Session, commitment_ids: Iterable[int]) -> None:
    """After a write to these commitments' indicators, refresh the progress of the
    agreements of those whose progress their indicators drive (the caller holds the
    agreements' locks)."""
    agreement_ids = session.scalars(
        select(Commitment.agreement_id)
        .where(Commitment.id.in_(set(commitment_ids)), Commitment.progress_from_indicators)
        .distinct()
    )
    for agreement_id in sorted(agreement_ids):
        upkeep.refresh_progress(session, agreement_id)


def create_indicator(session: Session, *, commitment_id: int, data: IndicatorIn) -> ShownIndicator:
    lock_tree(session, commitment_id)
    commitment = records.find(session, Commitment, COMMITMENT, commitment_id, for_update=True)
    indicator = add_indicator(session, commitment.id, data)
    refresh_if_driven(session, [commitment.id])
    writes.commit(session)
    return ShownIndicator(indicator, None)


def update_indicator(
    session: Session,
    *,
    commitment_id: int,
    indicator_id: int,
    data: IndicatorIn,
    check: writes.Check,
) -> ShownIndicator:
    indicator = _find(session, commitment_id, indicator_id, for_update=True)
    check(ShownIndicator(indicator, None))
    if change_indicator(session, indicator, data):
        refresh_if_driven(session, [indicator.commitment_id])
    writes.commit(session)
    return ShownIndicator(indicator, None)


def add_indicator(session: Session, commitment_id: int, data: IndicatorIn) -> Indicator:
    """Check and add an indicator to the (found, locked) commitment, and queue its `create`
    event; the caller commits (the API's create, the bulk import)."""
    values = _values(data)
    periods = _periods(data.get("periods", []))
    check_indicator(session, values, periods, None)
    records.ensure_unique(session, Indicator, INDICATOR, "external_id", values.get("external_id"))
    indicator = Indicator(commitment_id=commitment_id, periods=periods, **values)
    writes.add(session, indicator, INDICATOR, extra={"periods": _plain(periods)})
    return indicator


def change_indicator(session: Session, indicator: Indicator, data: IndicatorIn) -> bool:
    """Check and make the changes `data` asks of an indicator (`periods` replaced whole), and
    queue its `update` event; whether anything changed. The caller commits."""
    values = _values(data)
    periods = _periods(data["periods"]) if "periods" in data else None
    check_indicator(session, values, periods, indicator)
    if values.get("external_id") is not None:
        records.ensure_unique(
            session,
            Indicator,
            INDICATOR,
            "external_id",
            values["external_id"],
            exclude_id=indicator.id,
        )
    changes: dict[str, Any] = {}
    if periods is not None:
        changes.update(writes.list_change("periods", _plain(indicator.periods), _plain(periods)))
        if changes:
            indicator.periods = periods
    changes.update(writes.assign(indicator, values))
    writes.record_update(session, indicator, INDICATOR, changes)
    return bool(changes)


def delete_indicator(
    session: Session, *, commitment_id: int, indicator_id: int, check: writes.Check
) -> None:
    indicator = _find(session, commitment_id, indicator_id, for_update=True)
    check(ShownIndicator(indicator, None))
    writes.soft_delete(session, indicator, INDICATOR)
    refresh_if_driven(session, [indicator.commitment_id])
    writes.commit(session)


_PERIOD_DATES = ("start_date", "end_date", "target_as_of", "actual_as_of")


def _values(data: IndicatorIn) -> dict[str, Any]:
    """The fields a write sets on an indicator, its periods aside: a date sent as null is
    the unknown date."""
    values: dict[str, Any] = dict(data)
    values.pop("periods", None)
    unknown_if_cleared(values, "baseline_date")
    return values


def _periods(given: list[IndicatorPeriodIn]) -> list[IndicatorPeriod]:
    periods = []
    for position, period in enumerate(given):
        values: dict[str, Any] = {
            **dict.fromkeys(_PERIOD_DATES),
            "target_source_ids": [],
            "actual_source_ids": [],
            **period,
        }
        unknown_if_cleared(values, *_PERIOD_DATES)
        periods.append(IndicatorPeriod(position=position, **values))
    return periods


def _plain(periods: list[IndicatorPeriod]) -> list[dict[str, Any]]:
    return [period.plain() for period in periods]


def check_indicator(
    session: Session,
    values: dict[str, Any],
    periods: list[IndicatorPeriod] | None,
    current: Indicator | None,
) -> None:
    """The rules an indicator's values keep, all reported at once (422, by field): each value
    a write gives has its date and cites a source that exists; and, of the values it will
    have (those given, and those it keeps), a qualitative indicator states no numbers, a
    percentage is 0-100, a target lies on the better side of the baseline, and a period
    does not end before it starts."""

    def now(name: str, default: Any = None) -> Any:
        return values.get(name, getattr(current, name) if current is not None else default)

    measure: IndicatorMeasure = now("measure")
    ascending: bool = now("ascending", True)
    baseline: float | None = now("baseline_value")
    errors: dict[str, list[str]] = {}
    cited: dict[str, list[int]] = {}

    def wrong(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    def stated(
        prefix: str, where: str, value: Any, comment: Any, dated: Any, sources: Any, given: bool
    ) -> None:
        number = f"{where}{prefix}_value"
        if value is not None and measure is IndicatorMeasure.QUALITATIVE:
            wrong(number, "A qualitative indicator states no numbers: say it in the comment.")
        if value is not None and measure is IndicatorMeasure.PERCENTAGE and not 0 <= value <= 100:
            wrong(number, "A percentage is from 0 to 100.")
        if not given or (value is None and comment is None):
            return
        if not (dated or PartialDate.unknown()).is_known:
            wrong(f"{where}{_DATED[prefix]}", f"A {prefix} value needs the date it is of.")
        if not sources:
            wrong(f"{where}{prefix}_source_ids", f"A {prefix} value cites at least one source.")
        cited[f"{where}{prefix}_source_ids"] = list(sources or [])

    baseline_fields = ("baseline_value", "baseline_comment", "baseline_date", "baseline_source_ids")
    stated(
        "baseline",
        "",
        baseline,
        now("baseline_comment"),
        now("baseline_date"),
        now("baseline_source_ids", []),
        current is None or any(name in values for name in baseline_fields),
    )
    kept = list(current.periods) if current is not None else []
    for number, period in enumerate(periods if periods is not None else kept):
        where = f"periods.{number}."
        for prefix in ("target", "actual"):
            stated(
                prefix,
                where,
                getattr(period, f"{prefix}_value"),
                getattr(period, f"{prefix}_comment"),
                getattr(period, _DATED[prefix]),
                getattr(period, f"{prefix}_source_ids"),
                periods is not None,
            )
        target = period.target_value
        if target is not None and baseline is not None:
            if ascending and target < baseline:
                wrong(
                    f"{where}target_value",
                    "Higher is better here: the target is below the baseline.",
                )
            if not ascending and target > baseline:
                wrong(
                    f"{where}target_value",
                    "Lower is better here: the target is above the baseline.",
                )
        try:
            refuse_end_before_start(
                {"start_date": period.start_date, "end_date": period.end_date}, None
            )
        except InvalidInput:
            wrong(f"{where}end_date", "Must not be before start_date.")
    for field, ids in cited.items():
        try:
            records.referenced_all(session, Source, EntityType.SOURCE, ids, field)
        except InvalidInput as missing:
            for message in missing.errors.get(field, []):
                wrong(field, message)
    if errors:
        first = next(iter(errors.values()))[0]
        raise InvalidInput(first, errors=errors)
