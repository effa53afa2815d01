from __future__ import annotations

import marshmallow as ma

from service.core.vocabularies import (
    AssessorKind,
    Confidence,
    DatePrecision,
    EntityType,
    ImplementationStatus,
    Reliability,
)
from service.schemas import (
    EnumField,
    Id,
    InputSchema,
    JSONNumber,
    OutputSchema,
    PageQuerySchema,
    PartialDateField,
    RecordRef,
    Text,
    UTCDateTimeField,
    shows,
)
from service.sources.schemas import SourceSummarySchema


class AssessmentCreateSchema(InputSchema):
    status = EnumField(ImplementationStatus, required=True)
    progress_pct = JSONNumber(
        allow_none=True,
        validate=ma.validate.Range(0, 100),
        metadata={
            "description": "0-100. Required for partially_completed; otherwise the status's default "
            "(not_started 0, initiated 25, advanced 60, completed 100) or the last known value."
        },
    )
    as_of = PartialDateField(
        required=True, metadata={"description": "The date the judgement describes."}
    )
    assessed_at = UTCDateTimeField(
        metadata={"description": "When the judgement was made; defaults to now."}
    )
    assessor_kind = EnumField(AssessorKind, required=True)
    assessor_organization_id = Id(
        allow_none=True, metadata={"description": "Who made the judgement."}
    )
    confidence = EnumField(Confidence, load_default=Confidence.MEDIUM)
    rationale = Text(max_length=20000, allow_none=True)
    meeting_id = Id(
        allow_none=True, metadata={"description": "The meeting that reviewed it, if any."}
    )
    supersedes_id = Id(
        allow_none=True,
        metadata={"description": "The assessment of the same commitment that this one corrects."},
    )
    source_ids = ma.fields.List(
        Id(),
        validate=ma.validate.Length(max=100),
        metadata={
            "description": "The sources the judgement rests on: at least one for any status "
            "but not_assessed (evidence before status)."
        },
    )


@shows(EntityType.ASSESSMENT)
class AssessmentSchema(OutputSchema):
    id = ma.fields.Integer(required=True)
    commitment_id = ma.fields.Integer(required=True)
    status = EnumField(ImplementationStatus, required=True)
    progress_pct = JSONNumber(
        required=True, allow_none=True, metadata={"description": "As stated."}
    )
    as_of = PartialDateField(required=True)
    as_of_precision = EnumField(DatePrecision, required=True)
    assessed_at = ma.fields.DateTime(required=True)
    assessor_kind = EnumField(AssessorKind, required=True)
    assessor_organization_id = ma.fields.Integer(required=True, allow_none=True)
    confidence = EnumField(Confidence, required=True)
    rationale = ma.fields.String(required=True, allow_none=True)
    meeting_id = ma.fields.Integer(required=True, allow_none=True)
    supersedes_id = ma.fields.Integer(required=True, allow_none=True)
    superseded_by_id = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "The assessment that corrects this one."},
    )
    source_ids = ma.fields.List(ma.fields.Integer(), required=True)
    sources = ma.fields.List(
        ma.fields.Nested(SourceSummarySchema),
        required=True,
        metadata={"description": "The sources of `source_ids`, in that order: what each is."},
    )
    evidence_reliability = EnumField(
        Reliability,
        required=True,
        allow_none=True,
        metadata={
            "description": "The reliability of the best source cited: low when the judgement "
            "rests only on low-reliability sources; null when it cites none."
        },
    )
    created_at = ma.fields.DateTime(required=True)


class AssessmentQuerySchema(PageQuerySchema):
    status = EnumField(ImplementationStatus)
    as_of = ma.fields.Date(
        metadata={"description": "Only assessments describing this date or earlier."}
    )
    standing = ma.fields.Boolean(
        metadata={
            "description": "true: only those no other assessment corrects; false: only corrected ones."
        }
    )
    meeting = Id(strict=False, metadata={"description": "Only those this meeting reviewed."})


class AssessmentSearchSchema(AssessmentQuerySchema):
    agreement = RecordRef(
        metadata={"description": "Only those of this agreement's commitments (id or slug)."}
    )
    commitment = Id(strict=False, metadata={"description": "Only those of this commitment."})
