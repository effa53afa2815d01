"""Appending status assessments in bulk from a CSV: the path for loading a history (or a
benchmark's million rows) without a request per assessment.

Every row is checked first, with the API's own schema and rules and a few queries for the
whole file (never a query a row); if any row fails, nothing is written and every problem is
reported with its row and column. Then, in one transaction (a dry run rolls it back), the
assessments are written with their `create` ChangeEvents, and each commitment touched has
its status and every roll-up above it recomputed once (exchange.assessment_writes).
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

import marshmallow as ma
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.assessments.schemas import AssessmentCreateSchema
from service.assessments.services import rule_errors
from service.commitments.models import Commitment
from service.core import records
from service.core.errors import flatten_errors
from service.core.identifiers import parse_id
from service.exchange.assessment_writes import among, chunks, write_assessments
from service.exchange.columns import LIST_SEPARATOR
from service.exchange.csv_files import (
    Finish,
    ImportRefused,
    ImportReport,
    Progress,
    RowError,
    in_one_transaction,
    read_records,
    read_rows,
)
from service.meetings.models import Meeting
from service.organizations.models import Organization
from service.sources.models import Source

ASSESSMENT_COLUMNS = [
    "commitment_id",
    "commitment_external_id",
    "status",
    "progress_pct",
    "as_of",
    "assessed_at",
    "assessor_kind",
    "assessor_organization_id",
    "confidence",
    "rationale",
    "meeting_id",
    "source_ids",
]
# The columns a file must have; the others may be left out.
REQUIRED_COLUMNS = {"status", "as_of", "assessor_kind"}
# The columns of a row that the API's schema and rules check: every column but the
# commitment's reference.
CHECKED_COLUMNS = tuple(
    name for name in ASSESSMENT_COLUMNS if name not in {"commitment_id", "commitment_external_id"}
)


def _row_input(cells: dict[str, str]) -> dict[str, Any]:
    """The row's cells as the API's create schema takes them (empty means absent)."""
    data: dict[str, Any] = {}
    for name in ("status", "as_of", "assessed_at", "assessor_kind", "confidence", "rationale"):
        if cells.get(name):
            data[name] = cells[name]
    for name in ("progress_pct", "assessor_organization_id", "meeting_id"):
        text = cells.get(name, "")
        if text:
            data[name] = _number(text)
    sources = cells.get("source_ids", "")
    data["source_ids"] = [_number(part) for part in sources.split(LIST_SEPARATOR) if part]
    return data


def _number(text: str) -> Any:
    """A cell as a number when it is one; as itself otherwise, for the schema to refuse."""
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


class _Checker:
    """Reads and checks the rows; then looks up, for the whole file at once, what they name.

    A row's values are checked once for each different set of them: the schema and the
    rules depend on the cells alone, and a history repeats them (the same statuses, dates
    and sources for many commitments). Rows with the same cells share one checked dict."""

    def __init__(self, report: ImportReport, header: list[str]) -> None:
        self.report = report
        self.header = header
        self.schema = AssessmentCreateSchema()
        self.rows: list[tuple[int, dict[str, Any], tuple[str, Any]]] = []
        self.checked: dict[tuple[str, ...], tuple[dict[str, Any] | None, list[tuple[str, str]]]]
        self.checked = {}
        # The cells the schema and the rules read, as one tuple (the file's REQUIRED_COLUMNS
        # are more than one, so itemgetter gives a tuple).
        self.checked_cells = itemgetter(*(header.index(n) for n in CHECKED_COLUMNS if n in header))
        self.external_at = _position(header, "commitment_external_id")
        self.id_at = _position(header, "commitment_id")

    def error(self, row: int, column: str, message: str) -> None:
        self.report.errors.append(RowError(row, column, message))

    def check(self, number: int, cells: list[str]) -> None:
        """Check a row (its cells in the header's order); keep it when it passes."""
        cached = self.checked_cells(cells)
        known = self.checked.get(cached)
        if known is None:
            known = self.checked[cached] = self._checked_values(cells)
        values, problems = known
        for column, message in problems:
            self.error(number, column, message)
        key: tuple[str, Any] | None = None
        external = cells[self.external_at] if self.external_at is not None else ""
        given = cells[self.id_at] if self.id_at is not None else ""
        if external:
            key = ("external_id", external)
        elif given:
            commitment_id = parse_id(given)
            if commitment_id is not None:
                key = ("id", commitment_id)
            else:
                self.error(number, "commitment_id", "Must be a record id.")
        else:
            self.error(
                number,
                "commitment_id",
                "Name the commitment: commitment_id or commitment_external_id.",
            )
        if not problems and values is not None and key is not None:
            self.rows.append((number, values, key))

    def _checked_values(
        self, cells: list[str]
    ) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
        """The values of a row's cells as the API's schema loads them (None if it refuses
        them), and what is wrong with them, by column."""
        problems: list[tuple[str, str]] = []
        try:
            values = self.schema.load(_row_input(dict(zip(self.header, cells, strict=True))))
        except ma.ValidationError as invalid:
            for column, messages in flatten_errors(invalid.messages).items():
                for message in messages:
                    problems.append((column.split(".")[0], message))
            return None, problems
        problems += rule_errors(values).items()
        return values, problems

    def resolve(self, session: Session) -> list[tuple[dict[str, Any], int]]:
        """Each checked row's values with its commitment's id, after a query per kind of
        reference."""
        by_id = _existing(session, Commitment, {k[1] for _, _, k in self.rows if k[0] == "id"})
        external = {k[1] for _, _, k in self.rows if k[0] == "external_id"}
        by_external: dict[str | None, int] = {}
        for chunk in chunks(sorted(external)):
            by_external.update(
                session.execute(
                    select(Commitment.external_id, Commitment.id).where(
                        among(session, Commitment.external_id, chunk),
                        Commitment.deleted_at.is_(None),
                    )
                ).all()  # a list: update() would take the result for a mapping
            )
        distinct = {id(values): values for _, values, _ in self.rows}.values()
        organizations = _existing(
            session, Organization, {v.get("assessor_organization_id") for v in distinct}
        )
        meetings = _existing(session, Meeting, {v.get("meeting_id") for v in distinct})
        sources = _existing(session, Source, {s for v in distinct for s in v.get("source_ids", [])})
        # What is wrong with each set of values, by column: the same for every row that has it.
        wrong: dict[int, list[tuple[str, str]]] = {}
        for values in distinct:
            problems = wrong[id(values)] = []
            for column, known in (
                ("assessor_organization_id", organizations),
                ("meeting_id", meetings),
            ):
                if values.get(column) is not None and values[column] not in known:
                    problems.append((column, f"No record with id {values[column]}."))
            for source_id in values.get("source_ids", []):
                if source_id not in sources:
                    problems.append(("source_ids", f"No source with id {source_id}."))
            if values.get("supersedes_id") is not None:
                problems.append(("supersedes_id", "Correct an assessment through the API."))
        resolved = []
        for number, values, (kind, ref) in self.rows:
            commitment_id = by_external.get(ref) if kind == "external_id" else ref
            if (kind == "id" and ref not in by_id) or commitment_id is None:
                column = "commitment_id" if kind == "id" else "commitment_external_id"
                self.error(number, column, f"No commitment with {kind} {ref!r}.")
                continue
            for column, message in wrong[id(values)]:
                self.error(number, column, message)
            resolved.append((values, commitment_id))
        return resolved


def _position(header: list[str], name: str) -> int | None:
    return header.index(name) if name in header else None


def _existing(session: Session, model: Any, ids: set[Any]) -> set[int]:
    """Which of these ids name a live record of `model`."""
    wanted = sorted(i for i in ids if isinstance(i, int))
    found: set[int] = set()
    for chunk in chunks(wanted):
        found.update(
            session.scalars(
                records.live(model)
                .with_only_columns(model.id)
                .where(among(session, model.id, chunk))
            )
        )
    return found


def import_assessments(
    session: Session,
    body: bytes,
    *,
    dry_run: bool,
    on_row: Progress | None = None,
    finish: Finish | None = None,
) -> ImportReport:
    """Append the assessments of a CSV file in one transaction, or only report what it would
    do (`dry_run`). Raise ImportRefused, having written nothing, when any row fails."""
    return in_one_transaction(
        session,
        lambda: _import(session, body, on_row=on_row, dry_run=dry_run),
        dry_run=dry_run,
        finish=finish,
    )


def check_assessments_file(body: bytes) -> None:
    """What can be checked of an assessments file without reading its rows: that it is UTF-8
    and its header names the columns it needs and no others. Raise ImportRefused when not."""
    report = ImportReport(dry_run=True)
    header, _records = read_rows(body, report)
    _check_header(header, report)


def _check_header(header: list[str], report: ImportReport) -> None:
    for name in sorted(REQUIRED_COLUMNS - set(header)):
        report.errors.append(RowError(1, name, "Missing column."))
    for name in sorted(set(header) - set(ASSESSMENT_COLUMNS)):
        report.errors.append(RowError(1, name, "Unknown column."))
    if not {"commitment_id", "commitment_external_id"} & set(header):
        report.errors.append(
            RowError(1, "commitment_id", "Missing column: commitment_id or commitment_external_id.")
        )
    if report.errors:
        raise ImportRefused(report)


def _import(
    session: Session, body: bytes, *, dry_run: bool, on_row: Progress | None
) -> ImportReport:
    report = ImportReport(dry_run=dry_run)
    header, records = read_records(body, report)
    _check_header(header, report)
    checker = _Checker(report, header)
    for number, cells in records:
        report.rows += 1
        checker.check(number, cells)
        if on_row is not None:
            on_row(1)
    rows = checker.resolve(session)
    if report.errors:
        raise ImportRefused(report)
    write_assessments(session, rows, on_row)
    report.created = len(rows)
    return report
