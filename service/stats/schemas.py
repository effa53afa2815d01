from __future__ import annotations

import marshmallow as ma

from service.agreements.schemas import AgreementQuerySchema
from service.core.dates import LAST_YEAR
from service.core.vocabularies import ImplementationStatus, IndicatorTrack, LifecycleStatus
from service.schemas import EnumField, FullMatch, InputSchema, OutputSchema, RecordRef
from service.stats.inputs import MAX_AS_OF_COMMITMENTS

MONTH_PATTERN = r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])$"


def _not_after_the_last_year(value: str) -> None:
    # marshmallow runs every validator, this one after the pattern's: only a month is judged.
    year = value[:4]
    if year.isascii() and year.isdigit() and int(year) > LAST_YEAR:
        raise ma.ValidationError(f"Must be a month of year {LAST_YEAR} or earlier.")


class StatsScopeSchema(InputSchema):
    agreement = RecordRef(metadata={"description": "Agreement (id or slug)."})
    organization = RecordRef(
        metadata={
            "description": "Organization (id or slug): the agreements it, or a body under it, is party to."
        },
    )
    theme = RecordRef(
        metadata={"description": "Theme (id or slug), narrower themes included."},
    )


AS_OF = {
    "description": "Give the figures as they stood at the end of this day (YYYY-MM-DD), "
    "from the assessments dated on or before it; default: today. Computed from the "
    f"history: refused (422) where the agreements read hold more than "
    f"{MAX_AS_OF_COMMITMENTS:,} commitments."
}


class StatsSummaryQuerySchema(StatsScopeSchema):
    as_of = ma.fields.Date(metadata=AS_OF)
    exclude_low_reliability = ma.fields.Boolean(
        metadata={
            "description": "Leave out the commitments whose current status rests only on "
            "low-reliability sources (counted in `left_out`). A parent's rolled-up progress "
            "still includes such a child's."
        }
    )


class StatsSeriesQuerySchema(StatsScopeSchema):
    from_month = ma.fields.String(
        data_key="from",
        validate=[
            FullMatch(MONTH_PATTERN, error="Must be a month as YYYY-MM."),
            _not_after_the_last_year,
        ],
        metadata={"description": "First month (YYYY-MM); default: eleven months before `to`."},
    )
    to_month = ma.fields.String(
        data_key="to",
        validate=[
            FullMatch(MONTH_PATTERN, error="Must be a month as YYYY-MM."),
            _not_after_the_last_year,
        ],
        metadata={"description": "Last month (YYYY-MM); default: this month."},
    )


class StatsScopeOutSchema(OutputSchema):
    agreement = ma.fields.String(required=True, allow_none=True)
    organization = ma.fields.String(required=True, allow_none=True)
    theme = ma.fields.String(required=True, allow_none=True)


class StatusCountSchema(OutputSchema):
    status = EnumField(ImplementationStatus, required=True)
    count = ma.fields.Integer(required=True)


PROGRESS = {
    "description": "Weighted mean progress (0-100) of the scope's top commitments, children rolled "
    "in; null when none has a known progress."
}


class StatsFiguresSchema(OutputSchema):
    """What the summary gives for now, and each point of the series for its month's end."""

    total = ma.fields.Integer(required=True, metadata={"description": "Commitments in the scope."})
    by_status = ma.fields.List(
        ma.fields.Nested(StatusCountSchema),
        required=True,
        metadata={"description": "Every status, in the order of the scale, with zeros."},
    )
    progress = ma.fields.Float(required=True, allow_none=True, metadata=PROGRESS)
    overdue = ma.fields.Integer(
        required=True,
        metadata={
            "description": "Commitments whose due period ended before `as_of` and whose status "
            "on that day is not terminal (completed, not_fulfilled, superseded, cancelled)."
        },
    )
    as_of = ma.fields.Date(
        required=True, metadata={"description": "The day the figures are given for."}
    )


class TrackCountSchema(OutputSchema):
    track = EnumField(IndicatorTrack, required=True)
    count = ma.fields.Integer(required=True)


class IndicatorTracksSchema(OutputSchema):
    """The scope's indicators by where they stand against their targets, on `as_of`."""

    total = ma.fields.Integer(required=True)
    by_track = ma.fields.List(
        ma.fields.Nested(TrackCountSchema),
        required=True,
        metadata={"description": "Every track (met, on_track, off_track, unknown), with zeros."},
    )


class StatsSummarySchema(StatsFiguresSchema):
    scope = ma.fields.Nested(StatsScopeOutSchema, required=True)
    indicators = ma.fields.Nested(IndicatorTracksSchema, required=True)
    left_out = ma.fields.Integer(
        required=True,
        metadata={
            "description": "Commitments of the scope left out because their status rests only "
            "on low-reliability sources (with exclude_low_reliability); 0 otherwise."
        },
    )


class ProgressPointSchema(StatsFiguresSchema):
    month = ma.fields.String(
        required=True, metadata={"description": "YYYY-MM; the figures are as of its last day."}
    )


class ProgressSeriesSchema(OutputSchema):
    scope = ma.fields.Nested(StatsScopeOutSchema, required=True)
    points = ma.fields.List(ma.fields.Nested(ProgressPointSchema), required=True)


class AgreementNamedSchema(OutputSchema):
    id = ma.fields.Integer(required=True)
    slug = ma.fields.String(required=True)
    title = ma.fields.String(required=True)


class AgreementStatsSchema(StatsFiguresSchema):
    """An agreement's summary, as /stats/summary?agreement= gives it (its indicators aside)."""

    agreement = ma.fields.Nested(AgreementNamedSchema, required=True)
    lifecycle_status = EnumField(
        LifecycleStatus,
        required=True,
        metadata={"description": "After its latest lifecycle event on or before `as_of`."},
    )


class AgreementStatsQuerySchema(AgreementQuerySchema):
    as_of = ma.fields.Date(
        metadata={
            "description": AS_OF["description"] + " The filters select agreements as they are "
            "today (their lifecycle status today, say); each item's `lifecycle_status` is the "
            "one on `as_of`."
        }
    )
