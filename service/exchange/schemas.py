from __future__ import annotations

import marshmallow as ma

from service.agreements.schemas import AgreementQuerySchema
from service.assessments.schemas import AssessmentSearchSchema
from service.commitments.schemas import AllCommitmentsQuerySchema
from service.core.identifiers import LOCALE_PATTERN
from service.indicators.schemas import IndicatorSearchSchema
from service.schemas import FullMatch, OutputSchema, RecordRef, RowErrorSchema
from service.sources.schemas import CitationQuerySchema, SourceQuerySchema


class CommitmentExportQuerySchema(AllCommitmentsQuerySchema):
    """The filters of GET /commitments; an export is of the current status, and whole."""

    class Meta:
        exclude = ("page_size", "page_token", "as_of")


class AgreementExportQuerySchema(AgreementQuerySchema):
    class Meta:
        exclude = ("page_size", "page_token")


class AssessmentExportQuerySchema(AssessmentSearchSchema):
    class Meta:
        exclude = ("page_size", "page_token")


class SourceExportQuerySchema(SourceQuerySchema):
    class Meta:
        exclude = ("page_size", "page_token")


class CitationExportQuerySchema(CitationQuerySchema):
    class Meta:
        exclude = ("page_size", "page_token")


class IndicatorExportQuerySchema(IndicatorSearchSchema):
    class Meta:
        exclude = ("page_size", "page_token")


class ImportQuerySchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    dry_run = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "true: report what would change, and change nothing."},
    )


class DecidimImportQuerySchema(ImportQuerySchema):
    agreement = RecordRef(
        required=True,
        metadata={
            "description": "The agreement (id or slug) whose commitment tree the results make."
        },
    )
    locale = ma.fields.String(
        validate=FullMatch(
            LOCALE_PATTERN, error="Must be a locale as Decidim names it: en, ca, pt-BR."
        ),
        metadata={
            "description": "The locale of the titles and descriptions to take (title/<locale>); "
            "by default the agreement's language where the file has it, else the file's first."
        },
    )
    as_of = ma.fields.Date(
        metadata={
            "description": "The date the results' progress is of; by default the day each was "
            "last updated where the file says (updated_at), else today."
        }
    )


class ImportReportSchema(OutputSchema):
    dry_run = ma.fields.Boolean(required=True)
    rows = ma.fields.Integer(required=True)
    created = ma.fields.Integer(required=True)
    updated = ma.fields.Integer(required=True)
    unchanged = ma.fields.Integer(required=True)
    row_errors = ma.fields.List(
        ma.fields.Nested(RowErrorSchema),
        required=True,
        metadata={"description": "Why the file was refused, row by row; empty when it was not."},
    )


class DataResourceSchema(OutputSchema):
    name = ma.fields.String(required=True)
    path = ma.fields.String(required=True, metadata={"description": "Relative to the descriptor."})
    profile = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    format = ma.fields.String(required=True)
    mediatype = ma.fields.String(required=True)
    encoding = ma.fields.String(required=True)
    dialect = ma.fields.Dict(required=True, metadata={"description": "CSV Dialect."})
    table_schema = ma.fields.Dict(
        data_key="schema",
        attribute="schema",
        required=True,
        metadata={"description": "Its Table Schema: fields, types, constraints, keys."},
    )


class DataPackageSchema(OutputSchema):
    """A Frictionless Data Package descriptor (v1, tabular) of the exports."""

    profile = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    resources = ma.fields.List(ma.fields.Nested(DataResourceSchema), required=True)
