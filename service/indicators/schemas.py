from __future__ import annotations

import marshmallow as ma

from service.core.vocabularies import DatePrecision, EntityType, IndicatorMeasure, IndicatorTrack
from service.schemas import (
    EnumField,
    Id,
    InputSchema,
    JSONBoolean,
    JSONNumber,
    OutputSchema,
    PageQuerySchema,
    PartialDateField,
    PartialSchema,
    RecordColumnsSchema,
    RecordRef,
    Text,
    shows,
)

SOURCES = {"description": "The sources that state it: every value given cites at least one."}
AS_OF = {"description": "Give progress as it stood on this date (YYYY-MM-DD)."}


def _sources() -> ma.fields.List[int]:
    return ma.fields.List(Id(), validate=ma.validate.Length(max=50), metadata=SOURCES)


class IndicatorPeriodCreateSchema(InputSchema):
    start_date = PartialDateField(allow_none=True)
    end_date = PartialDateField(allow_none=True)
    target_value = JSONNumber(allow_none=True, metadata={"description": "The value aimed at."})
    target_comment = Text(max_length=5000, allow_none=True)
    target_as_of = PartialDateField(
        allow_none=True, metadata={"description": "When the target was set."}
    )
    target_source_ids = _sources()
    actual_value = JSONNumber(allow_none=True, metadata={"description": "The value reached."})
    actual_comment = Text(max_length=5000, allow_none=True)
    actual_as_of = PartialDateField(
        allow_none=True, metadata={"description": "The date the actual value is of."}
    )
    actual_source_ids = _sources()


class IndicatorCreateSchema(InputSchema):
    title = Text(min_length=1, max_length=500, required=True)
    description = Text(max_length=20000, allow_none=True)
    measure = EnumField(IndicatorMeasure, required=True)
    unit_label = Text(
        min_length=1,
        max_length=100,
        allow_none=True,
        metadata={"description": 'What a unit counts: "officers trained".'},
    )
    ascending = JSONBoolean(
        load_default=True,
        metadata={"description": "Whether a higher value is better (false: a lower one)."},
    )
    baseline_value = JSONNumber(allow_none=True)
    baseline_date = PartialDateField(allow_none=True)
    baseline_comment = Text(max_length=5000, allow_none=True)
    baseline_source_ids = _sources()
    periods = ma.fields.List(
        ma.fields.Nested(IndicatorPeriodCreateSchema),
        validate=ma.validate.Length(max=200),
        metadata={"description": "Its periods, each with a target and an actual."},
    )
    external_id = Text(
        min_length=1,
        max_length=200,
        allow_none=True,
        metadata={"description": "A stable key for bulk import, unique among indicators."},
    )


class IndicatorUpdateSchema(PartialSchema, IndicatorCreateSchema):
    """The fields to change; those left out keep their values. `periods` is replaced whole."""


class IndicatorPeriodSchema(OutputSchema):
    start_date = PartialDateField(required=True, allow_none=True)
    start_date_precision = EnumField(DatePrecision, required=True)
    end_date = PartialDateField(required=True, allow_none=True)
    end_date_precision = EnumField(DatePrecision, required=True)
    target_value = ma.fields.Float(required=True, allow_none=True)
    target_comment = ma.fields.String(required=True, allow_none=True)
    target_as_of = PartialDateField(required=True, allow_none=True)
    target_source_ids = ma.fields.List(ma.fields.Integer(), required=True)
    actual_value = ma.fields.Float(required=True, allow_none=True)
    actual_comment = ma.fields.String(required=True, allow_none=True)
    actual_as_of = PartialDateField(required=True, allow_none=True)
    actual_source_ids = ma.fields.List(ma.fields.Integer(), required=True)
    progress = ma.fields.Float(
        required=True,
        allow_none=True,
        metadata={
            "description": "0-100: how far the actual has gone from the baseline towards the "
            "target; null when it cannot be said (qualitative, no target or no actual)."
        },
    )


@shows(EntityType.INDICATOR)
class IndicatorSchema(RecordColumnsSchema):
    commitment_id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True, allow_none=True)
    measure = EnumField(IndicatorMeasure, required=True)
    unit_label = ma.fields.String(required=True, allow_none=True)
    ascending = ma.fields.Boolean(required=True)
    baseline_value = ma.fields.Float(required=True, allow_none=True)
    baseline_date = PartialDateField(required=True, allow_none=True)
    baseline_date_precision = EnumField(DatePrecision, required=True)
    baseline_comment = ma.fields.String(required=True, allow_none=True)
    baseline_source_ids = ma.fields.List(ma.fields.Integer(), required=True)
    periods = ma.fields.List(ma.fields.Nested(IndicatorPeriodSchema), required=True)
    external_id = ma.fields.String(required=True, allow_none=True)
    progress = ma.fields.Float(
        required=True,
        allow_none=True,
        metadata={
            "description": "0-100: the progress of its latest known actual (on `as_of`, the "
            "latest dated up to it); null when none can be said."
        },
    )
    track = EnumField(
        IndicatorTrack,
        required=True,
        metadata={
            "description": "met, on_track (as far along as the time gone from its period's "
            "start to its end asks), off_track, or unknown; of `as_of` when given."
        },
    )
    as_of = ma.fields.Date(
        required=True,
        allow_none=True,
        metadata={"description": "The date progress is of; null for today's."},
    )


class IndicatorQuerySchema(PageQuerySchema):
    measure = EnumField(IndicatorMeasure)
    as_of = ma.fields.Date(metadata=AS_OF)


class IndicatorSearchSchema(IndicatorQuerySchema):
    agreement = RecordRef(
        metadata={"description": "Only those of this agreement's commitments (id or slug)."}
    )
    commitment = Id(strict=False, metadata={"description": "Only those of this commitment."})


class IndicatorAsOfSchema(InputSchema):
    as_of = ma.fields.Date(metadata=AS_OF)
