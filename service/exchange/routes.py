"""Bulk data out and in: streamed exports of commitments and agreements, and the CSV import
of commitments that round-trips with the export."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from flask import Response, request, stream_with_context
from sqlalchemy.orm import Session

from service.api import Blueprint, get_session
from service.exchange import export, imports
from service.exchange.schemas import (
    AgreementExportQuerySchema,
    CommitmentExportQuerySchema,
    ImportQuerySchema,
    ImportReportSchema,
)
from service.resources import _document_errors, register_operation
from service.vocabularies import Role

blp = Blueprint(
    "exchange",
    __name__,
    url_prefix="/api/v1",
    description="Bulk data: exports as CSV or JSON lines, and the CSV import of commitments.",
)

MEDIA_TYPES = {"csv": "text/csv", "jsonl": "application/x-ndjson"}
CSV_FORMAT = "The columns are described in docs/csv-format.md."


def _streamed(
    lines: Callable[[Session, dict[str, Any], str], Iterator[str]], fmt: str, filename: str
) -> Any:
    def view(query_args: dict[str, Any]) -> Response:
        chunks = lines(get_session(), query_args, fmt)
        response = Response(stream_with_context(chunks), mimetype=MEDIA_TYPES[fmt])
        if fmt == "csv":
            response.mimetype_params["charset"] = "utf-8"
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
        return response

    return view


def _export_operation(
    name: str, lines: Callable[[Session, dict[str, Any], str], Iterator[str]], query: Any, doc: str
) -> None:
    for fmt in ("csv", "jsonl"):
        view = _streamed(lines, fmt, name)
        view = blp.doc(
            responses={
                200: {
                    "description": f"The {name}, one per {'row' if fmt == 'csv' else 'line'}. {CSV_FORMAT}",
                    "content": {MEDIA_TYPES[fmt]: {"schema": {"type": "string"}}},
                }
            }
        )(view)
        view = _document_errors(blp, view, [400, 500, 503])
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


def import_view(query_args: dict[str, Any]) -> Any:
    text = request.get_data(as_text=True)
    return imports.import_commitments(get_session(), text, dry_run=query_args["dry_run"])


import_view.accepted_media_types = frozenset({"text/csv"})  # type: ignore[attr-defined]
import_view.max_body_bytes = "MAX_IMPORT_BYTES"  # type: ignore[attr-defined]
_view: Any = blp.response(200, ImportReportSchema)(import_view)
_view = _document_errors(blp, _view, [400, 413, 415, 422, 500, 503])
_view = blp.doc(
    requestBody={
        "required": True,
        "description": f"A CSV of commitments with exactly the export's columns. {CSV_FORMAT}",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
)(_view)
_view = blp.arguments(
    ImportQuerySchema, location="query", arg_name="query_args", error_status_code=400
)(_view)
register_operation(
    blp,
    "/imports/commitments",
    "POST",
    "import_commitments",
    "Create and update commitments from a CSV keyed on external_id; all rows or none.",
    _view,
    Role.EDITOR,
)
