from __future__ import annotations

import marshmallow as ma

from service.core.vocabularies import JobKind, JobState
from service.exchange.schemas import ImportReportSchema
from service.schemas import EnumField, OutputSchema, PageQuerySchema


class JobSchema(OutputSchema):
    id = ma.fields.Integer(required=True)
    kind = EnumField(JobKind, required=True)
    state = EnumField(
        JobState,
        required=True,
        metadata={"description": "queued, running, then succeeded or failed; poll until it ends."},
    )
    dry_run = ma.fields.Boolean(required=True)
    rows_total = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "The file's data rows; null until a worker has read it."},
    )
    rows_done = ma.fields.Integer(
        required=True,
        metadata={
            "description": "Rows checked and written so far (each counts half when checked)."
        },
    )
    result = ma.fields.Nested(
        ImportReportSchema,
        required=True,
        allow_none=True,
        metadata={
            "description": "The report once the job has ended: what was (or, for a dry run, "
            "would be) changed, or the per-row errors that refused the file. Null before."
        },
    )
    error = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Why the job failed (nothing was written); null unless it did."},
    )
    attempts = ma.fields.Integer(
        required=True,
        metadata={"description": "Times a worker has taken the job up (again after a crash)."},
    )
    created_at = ma.fields.DateTime(required=True)
    started_at = ma.fields.DateTime(required=True, allow_none=True)
    finished_at = ma.fields.DateTime(required=True, allow_none=True)


class JobQuerySchema(PageQuerySchema):
    state = EnumField(JobState)
    kind = EnumField(JobKind)
