"""Importing indicators in bulk from JSON lines (docs/csv-format.md, "Indicators").

One indicator a line, as the API creates one (`POST /commitments/{id}/indicators`: the
same fields, periods and rules), naming its commitment by `commitment_id` or
`commitment_external_id`, and keyed on its `external_id`: a line whose key a live indicator
has updates it (a line states it whole: what the line leaves out is cleared, its periods
replaced), any other creates one. Every line is read and
checked first; if any fails, nothing is written and each problem is reported with its line
and field. Then the lines are written in one transaction (a dry run rolls it back).
"""

from __future__ import annotations

import codecs
import json
from typing import Any

import marshmallow as ma
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.agreements.models import Agreement
from service.commitments.models import Commitment
from service.core import records
from service.core.errors import Conflict, InvalidInput, flatten_errors
from service.core.identifiers import parse_id
from service.exchange.csv_files import (
    MAX_ROW_ERRORS,
    Finish,
    ImportRefused,
    ImportReport,
    Progress,
    RowError,
    decoded,
    in_one_transaction,
)
from service.indicators.inputs import IndicatorIn
from service.indicators.models import Indicator
from service.indicators.schemas import IndicatorCreateSchema
from service.indicators.services import add_indicator, change_indicator, refresh_if_driven

COMMITMENT_KEYS = ("commitment_id", "commitment_external_id")
# A line states its indicator whole: what it leaves out is cleared on an update.
CLEARED: dict[str, Any] = {
    "description": None,
    "unit_label": None,
    "baseline_value": None,
    "baseline_date": None,
    "baseline_comment": None,
    "baseline_source_ids": [],
    "periods": [],
}


def count_lines(body: bytes) -> int:
    """How many indicators a file holds: its lines that are not blank."""
    text = body.removeprefix(codecs.BOM_UTF8).decode("utf-8", errors="replace")
    return sum(1 for line in text.splitlines() if line.strip())


def check_indicators_file(body: bytes, **_options: Any) -> None:
    """What can be checked of the file at once: that it is UTF-8. Raise ImportRefused."""
    decoded(body, ImportReport(dry_run=True))


def import_indicators(
    session: Session,
    body: bytes,
    *,
    dry_run: bool,
    on_row: Progress | None = None,
    finish: Finish | None = None,
) -> ImportReport:
    """Create and update indicators from JSON lines in one transaction, or only report what
    it would change (`dry_run`). Raise ImportRefused, having written nothing, when any line
    fails."""
    return in_one_transaction(
        session,
        lambda: _import(session, body, dry_run=dry_run, on_row=on_row),
        dry_run=dry_run,
        finish=finish,
    )


def _import(
    session: Session, body: bytes, *, dry_run: bool, on_row: Progress | None
) -> ImportReport:
    report = ImportReport(dry_run=dry_run)

    def error(line: int, field: str, message: str) -> None:
        report.errors.append(RowError(line, field, message))

    schema = IndicatorCreateSchema()
    lines: list[tuple[int, tuple[str, Any], IndicatorIn]] = []
    for number, text in enumerate(decoded(body, report).splitlines(), start=1):
        if len(report.errors) >= MAX_ROW_ERRORS:
            break
        if not text.strip():
            continue
        report.rows += 1
        if on_row is not None:
            on_row(1)
        try:
            given = json.loads(text)
        except ValueError as wrong:
            error(number, "_row", f"Not JSON: {getattr(wrong, 'msg', wrong)}.")
            continue
        if not isinstance(given, dict):
            error(number, "_row", "Must be a JSON object: one indicator.")
            continue
        key = _commitment_key(given, number, error)
        for name in COMMITMENT_KEYS:
            given.pop(name, None)
        try:
            values = schema.load(given)
        except ma.ValidationError as invalid:
            for field, messages in flatten_errors(invalid.messages).items():
                for message in messages:
                    error(number, field, message)
            continue
        if key is not None:
            lines.append((number, key, values))
    if report.errors:
        raise ImportRefused(report)
    commitments = _commitments(session, [key for _, key, _ in lines])
    keys = [str(values["external_id"]) for _, _, values in lines if values.get("external_id")]
    existing = _indicators(session, keys)
    seen: set[str] = set()
    for number, key, values in lines:
        if on_row is not None:
            on_row(1)
        commitment_id = commitments.get(key)
        if commitment_id is None:
            error(
                number,
                key[0],
                f"No commitment with {key[0].removeprefix('commitment_')} {key[1]!r}.",
            )
            continue
        external_id = values.get("external_id")
        if external_id is not None:
            if external_id in seen:
                error(number, "external_id", "Another line of the file has this external_id.")
                continue
            seen.add(external_id)
        indicator = existing.get(external_id) if external_id is not None else None
        if indicator is not None and indicator.commitment_id != commitment_id:
            error(number, key[0], "An indicator cannot move to another commitment.")
            continue
        try:
            if indicator is None:
                add_indicator(session, commitment_id, values)
                report.created += 1
            elif change_indicator(session, indicator, {**CLEARED, **values}):  # type: ignore[typeddict-item]
                report.updated += 1
            else:
                report.unchanged += 1
        except (InvalidInput, Conflict) as refused:
            for field, messages in (refused.errors or {"_row": [refused.detail]}).items():
                for message in messages:
                    error(number, field, message)
    if report.errors:
        raise ImportRefused(report)
    refresh_if_driven(session, commitments.values())
    return report


def _commitment_key(given: dict[str, Any], number: int, error: Any) -> tuple[str, Any] | None:
    """The commitment a line names: ("commitment_external_id", text) or ("commitment_id", id)."""
    external = given.get("commitment_external_id")
    if isinstance(external, str) and external:
        return ("commitment_external_id", external)
    raw = given.get("commitment_id")
    commitment_id = (
        parse_id(str(raw)) if isinstance(raw, int) and not isinstance(raw, bool) else None
    )
    if commitment_id is not None:
        return ("commitment_id", commitment_id)
    error(
        number,
        "commitment_id",
        "Name the commitment: commitment_id (an id) or commitment_external_id.",
    )
    return None


def _commitments(session: Session, keys: list[tuple[str, Any]]) -> dict[tuple[str, Any], int]:
    """The live commitments the lines name, by key, locked in id order after their
    agreements (as the API's writes lock the agreement, then the commitment they add to)."""
    ids = {ref for kind, ref in keys if kind == "commitment_id"}
    externals = {ref for kind, ref in keys if kind == "commitment_external_id"}
    found: dict[tuple[str, Any], int] = {}
    if not ids and not externals:
        return found
    named = Commitment.id.in_(ids) | Commitment.external_id.in_(externals)
    # Their agreements' rows first, in id order, as the API's writes lock them.
    session.execute(
        select(Agreement.id)
        .where(
            Agreement.id.in_(
                records.live(Commitment).with_only_columns(Commitment.agreement_id).where(named)
            )
        )
        .order_by(Agreement.id)
        .with_for_update()
    ).all()
    rows = session.execute(
        records.live(Commitment)
        .with_only_columns(Commitment.id, Commitment.external_id)
        .where(named)
        .order_by(Commitment.id)
        .with_for_update()
    )
    for commitment_id, external_id in rows:
        if commitment_id in ids:
            found[("commitment_id", commitment_id)] = commitment_id
        if external_id in externals:
            found[("commitment_external_id", external_id)] = commitment_id
    return found


def _indicators(session: Session, external_ids: list[str]) -> dict[str, Indicator]:
    if not external_ids:
        return {}
    statement = records.live(Indicator).where(Indicator.external_id.in_(set(external_ids)))
    return {str(indicator.external_id): indicator for indicator in session.scalars(statement)}
