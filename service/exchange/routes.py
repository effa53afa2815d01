"""Bulk data out and in: streamed exports of commitments and agreements, and the CSV import
of commitments that round-trips with the export."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from flask import Response, request, stream_with_context
from sqlalchemy.orm import Session

from service.agreements.models import Agreement
from service.core import records
from service.core.vocabularies import EntityType, JobKind, Role
from service.exchange import datapackage, export
from service.exchange.schemas import (
    AgreementExportQuerySchema,
    AssessmentExportQuerySchema,
    CitationExportQuerySchema,
    CommitmentExportQuerySchema,
    DataPackageSchema,
    DecidimImportQuerySchema,
    ImportQuerySchema,
    IndicatorExportQuerySchema,
    SourceExportQuerySchema,
)
from service.http.api import Blueprint, get_session
from service.http.headers import LOCATION_HEADER, IdempotencyHeaders
from service.http.resources import API_PREFIX, document_errors, register_operation
from service.idempotency.http import idempotent
from service.jobs import services as jobs
from service.jobs.schemas import JobSchema

blp = Blueprint(
    "exchange",
    __name__,
    url_prefix="/api/v1",
    description="Bulk data: exports as CSV or JSON lines, and the CSV import of commitments.",
)

MEDIA_TYPES = {"csv": "text/csv", "jsonl": "application/x-ndjson"}
ALSO_AS = {"jsonl": ["text/plain"]}
CSV_FORMAT = "The columns are described in docs/csv-format.md."


# An export's lines for the filters its query schema loaded (export.commitment_lines, ...).
ExportLines = Callable[[Session, Any, str], Iterator[str]]


def _streamed(lines: ExportLines, fmt: str, filename: str) -> Any:
    def view(query_args: dict[str, Any]) -> Response:
        session = get_session()
        # Called here, not in the stream: filters that name no record are refused as a 422.
        body = lines(session, query_args, fmt)

        def chunks() -> Iterator[str]:
            # The body is sent after the request's teardown has closed its session; reading
            # on would take a new connection that nobody gives back. So the stream closes the
            # session itself, when the body ends or the client goes away.
            try:
                yield from body
            finally:
                session.close()

        # JSON lines go out as application/x-ndjson, or as text/plain to a client that asks
        # for it (some SDK generators read only text/* as a string).
        offered = [MEDIA_TYPES[fmt], *ALSO_AS.get(fmt, [])]
        mimetype = request.accept_mimetypes.best_match(offered, default=offered[0]) or offered[0]
        response = Response(stream_with_context(chunks()), mimetype=mimetype)
        if fmt == "csv":
            response.mimetype_params["charset"] = "utf-8"
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
        return response

    return view


def _export_operation(name: str, lines: ExportLines, query: Any, doc: str) -> None:
    for fmt in ("csv", "jsonl"):
        view = _streamed(lines, fmt, name)
        view = blp.doc(
            responses={
                200: {
                    "description": f"The {name}, one per {'row' if fmt == 'csv' else 'line'}. {CSV_FORMAT}",
                    "content": {
                        media_type: {"schema": {"type": "string"}}
                        for media_type in [MEDIA_TYPES[fmt], *ALSO_AS.get(fmt, [])]
                    },
                }
            }
        )(view)
        view = document_errors(blp, view, [400, 422, 500, 503])
        view = blp.arguments(query, location="query", arg_name="query_args", error_status_code=400)(
            view
        )
        register_operation(
            blp,
            f"/exports/{name}.{fmt}",
            "GET",
            f"export_{name}_{fmt}",
            f"{doc} ({'CSV' if fmt == 'csv' else 'JSON lines'}, streamed).",
            view,
            None,
        )


_export_operation(
    "commitments",
    export.commitment_lines,
    CommitmentExportQuerySchema,
    "Export the commitments the filters select, with their current status and progress",
)
_export_operation(
    "agreements",
    export.agreement_lines,
    AgreementExportQuerySchema,
    "Export the agreements the filters select, with their participants",
)


def get_datapackage() -> dict[str, Any]:
    """The exports as a Frictionless Data Package: each CSV export with its Table Schema (types, vocabularies, keys), for open-data tools."""
    return datapackage.descriptor()


register_operation(
    blp,
    "/exports/datapackage.json",
    "GET",
    "get_datapackage",
    get_datapackage.__doc__ or "",
    document_errors(blp, blp.response(200, DataPackageSchema)(get_datapackage), [500, 503]),
    None,
)
_export_operation(
    "assessments",
    export.assessment_lines,
    AssessmentExportQuerySchema,
    "Export the assessments the filters select (those of live commitments), with the ids "
    "and titles of the sources each cites",
)
_export_operation(
    "indicators",
    export.indicator_lines,
    IndicatorExportQuerySchema,
    "Export the indicators the filters select, with their baseline and progress (as of `as_of`)",
)
_export_operation(
    "indicator_periods",
    export.indicator_period_lines,
    IndicatorExportQuerySchema,
    "Export the periods of the indicators the filters select, one a row, with each target and "
    "actual",
)
_export_operation(
    "sources", export.source_lines, SourceExportQuerySchema, "Export the sources the filters select"
)
_export_operation(
    "citations",
    export.citation_lines,
    CitationExportQuerySchema,
    "Export the citations the filters select",
)


# The options a job runs with, from an import's query (besides dry_run).
JobOptions = Callable[[dict[str, Any]], dict[str, Any] | None]


def _import_operation(
    name: str,
    kind: JobKind,
    body: str,
    doc: str,
    query: type[ImportQuerySchema] = ImportQuerySchema,
    options: JobOptions = lambda _query: None,
    also_as: str = "text/csv",
) -> None:
    def import_view(query_args: dict[str, Any], _headers: dict[str, Any]) -> Any:
        job = jobs.submit_job(
            get_session(),
            kind=kind,
            body=request.get_data(),
            dry_run=query_args["dry_run"],
            options=options(query_args),
        )
        return job, 202, {"Location": f"{API_PREFIX}/jobs/{job.id}"}

    # Documented as application/octet-stream (the file's bytes), which SDK generators can
    # send; the file's own type (`also_as`: text/csv), what curl users will say, is taken too.
    import_view.accepted_media_types = frozenset({"application/octet-stream", also_as})  # type: ignore[attr-defined]
    import_view.max_body_bytes = "MAX_IMPORT_BYTES"  # type: ignore[attr-defined]
    view: Any = blp.response(
        202,
        JobSchema,
        description="The file was queued as a job: follow Location until its state is "
        "succeeded or failed.",
        headers={"Location": LOCATION_HEADER},
    )(import_view)
    view = document_errors(blp, view, [400, 409, 413, 415, 422, 500, 503])
    view = blp.doc(
        requestBody={
            "required": True,
            "description": f"{body}; sent as application/octet-stream, or as {also_as}. {CSV_FORMAT}",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    )(view)
    view = blp.arguments(query, location="query", arg_name="query_args", error_status_code=400)(
        view
    )
    view = blp.arguments(
        IdempotencyHeaders, location="headers", arg_name="_headers", error_status_code=400
    )(view)
    # A retried import must not queue its file twice (and so append its assessments twice).
    view = idempotent(view)
    register_operation(
        blp, f"/imports/{name}", "POST", f"import_{name.replace('-', '_')}", doc, view, Role.EDITOR
    )


_import_operation(
    "commitments",
    JobKind.IMPORT_COMMITMENTS,
    "A CSV file (UTF-8) of commitments with exactly the export's columns",
    "Create and update commitments from a CSV keyed on external_id, all rows or none, as a "
    "background job: the file's encoding and header are checked at once, its rows by the job.",
)
_import_operation(
    "assessments",
    JobKind.IMPORT_ASSESSMENTS,
    "A CSV file (UTF-8) of assessments, one a row, naming each commitment by id or external_id",
    "Append status assessments in bulk from a CSV, recomputing each commitment's status once, "
    "all rows or none, as a background job: the file's encoding and header are checked at "
    "once, its rows by the job.",
)


def _decidim_options(query: dict[str, Any]) -> dict[str, Any]:
    agreement_id = records.referenced_ref(
        get_session(), Agreement, EntityType.AGREEMENT, query["agreement"], "agreement"
    )
    return {
        "agreement_id": agreement_id,
        "locale": query.get("locale"),
        "as_of": query["as_of"].isoformat() if query.get("as_of") else None,
    }


_import_operation(
    "decidim-results",
    JobKind.IMPORT_DECIDIM_RESULTS,
    "A CSV file (UTF-8) of results as Decidim's accountability module exports them "
    "(cells separated by ; or ,)",
    "Turn a Decidim results export into the agreement's commitment tree and an assessment per "
    "result's progress, keyed on the Decidim id (a rerun creates nothing twice), all rows or "
    "none, as a background job: the file's encoding and columns are checked at once, its rows "
    "by the job. An agreement that does not exist is a 422.",
    query=DecidimImportQuerySchema,
    options=_decidim_options,
)

_import_operation(
    "indicators",
    JobKind.IMPORT_INDICATORS,
    "JSON lines (UTF-8): one indicator a line, as the API creates one, naming its commitment "
    "by commitment_id or commitment_external_id",
    "Create and update indicators from JSON lines keyed on external_id, all lines or none, as "
    "a background job: the file's encoding is checked at once, its lines by the job.",
    also_as="application/x-ndjson",
)
