"""Appending status assessments in bulk from a CSV: the path for loading a history (or a
benchmark's million rows) without a request per assessment.

Every row is checked first, with the API's own schema and rules and a few queries for the
whole file (never a query a row); if any row fails, nothing is written and every problem is
reported with its row and column. Then the assessments are inserted in multi-row INSERTs,
with their `create` ChangeEvents, and each commitment touched has its status and every
roll-up above it recomputed once, in one transaction (a dry run rolls it back).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from service import crud
from service.agreements.models import Agreement
from service.assessments.models import StatusAssessment, assessment_sources
from service.assessments.schemas import AssessmentCreateSchema
from service.assessments.services import rule_errors
from service.changes.services import RecordRef, record_change
from service.commitments.models import Commitment
from service.errors import flatten_errors
from service.exchange.columns import LIST_SEPARATOR
from service.exchange.imports import (
    Finish,
    ImportRefused,
    ImportReport,
    Progress,
    RowError,
    in_one_transaction,
    read_rows,
)
from service.meetings.models import Meeting
from service.organizations.models import Organization
from service.progress import upkeep
from service.sources.models import Source
from service.vocabularies import ChangeOperation, EntityType

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
# Rows inserted per statement: large enough to amortize the round trip, small enough to
# keep each statement's parameters bounded.
INSERT_BATCH = 5000


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
    """Reads and checks the rows; then looks up, for the whole file at once, what they name."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        self.schema = AssessmentCreateSchema()
        self.rows: list[tuple[int, dict[str, Any], tuple[str, Any]]] = []

    def error(self, row: int, column: str, message: str) -> None:
        self.report.errors.append(RowError(row, column, message))

    def check(self, number: int, cells: dict[str, str]) -> None:
        before = len(self.report.errors)
        try:
            values = self.schema.load(_row_input(cells))
        except ma.ValidationError as invalid:
            for column, messages in flatten_errors(invalid.messages).items():
                for message in messages:
                    self.error(number, column.split(".")[0], message)
            values = None
        if values is not None:
            for column, message in rule_errors(values).items():
                self.error(number, column, message)
        key: tuple[str, Any] | None = None
        if cells.get("commitment_external_id"):
            key = ("external_id", cells["commitment_external_id"])
        elif cells.get("commitment_id"):
            commitment_id = crud.parse_id(cells["commitment_id"])
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
        if len(self.report.errors) == before and values is not None and key is not None:
            self.rows.append((number, values, key))

    def resolve(self, session: Session) -> list[tuple[int, dict[str, Any]]]:
        """Each checked row with its commitment's id, after a query per kind of reference."""
        by_id = _existing(session, Commitment, {k[1] for _, _, k in self.rows if k[0] == "id"})
        external = {k[1] for _, _, k in self.rows if k[0] == "external_id"}
        by_external: dict[str | None, int] = {}
        for chunk in _chunks(sorted(external)):
            by_external.update(
                session.execute(
                    select(Commitment.external_id, Commitment.id).where(
                        Commitment.external_id.in_(chunk), Commitment.deleted_at.is_(None)
                    )
                ).all()  # a list: update() would take the result for a mapping
            )
        organizations = _existing(
            session, Organization, {v.get("assessor_organization_id") for _, v, _ in self.rows}
        )
        meetings = _existing(session, Meeting, {v.get("meeting_id") for _, v, _ in self.rows})
        sources = _existing(
            session, Source, {s for _, v, _ in self.rows for s in v.get("source_ids", [])}
        )
        resolved = []
        for number, values, (kind, ref) in self.rows:
            commitment_id = by_external.get(ref) if kind == "external_id" else ref
            if (kind == "id" and ref not in by_id) or commitment_id is None:
                column = "commitment_id" if kind == "id" else "commitment_external_id"
                self.error(number, column, f"No commitment with {kind} {ref!r}.")
                continue
            for column, known in (
                ("assessor_organization_id", organizations),
                ("meeting_id", meetings),
            ):
                if values.get(column) is not None and values[column] not in known:
                    self.error(number, column, f"No record with id {values[column]}.")
            for source_id in values.get("source_ids", []):
                if source_id not in sources:
                    self.error(number, "source_ids", f"No source with id {source_id}.")
            if values.get("supersedes_id") is not None:
                self.error(number, "supersedes_id", "Correct an assessment through the API.")
            resolved.append((number, {**values, "commitment_id": commitment_id}))
        return resolved


def _chunks(items: list[Any], size: int = 5000) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _existing(session: Session, model: Any, ids: set[Any]) -> set[int]:
    """Which of these ids name a live record of `model`."""
    wanted = sorted(i for i in ids if isinstance(i, int))
    found: set[int] = set()
    for chunk in _chunks(wanted):
        found.update(
            session.scalars(crud.live(model).with_only_columns(model.id).where(model.id.in_(chunk)))
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
    header, records = read_rows(body, report)
    _check_header(header, report)
    checker = _Checker(report)
    for number, cells in records:
        report.rows += 1
        checker.check(number, cells)
        if on_row is not None:
            on_row(1)
    rows = checker.resolve(session)
    if report.errors:
        raise ImportRefused(report)
    _write(session, [values for _, values in rows], on_row)
    report.created = len(rows)
    return report


def _write(session: Session, rows: list[dict[str, Any]], on_row: Progress | None) -> None:
    touched = {row["commitment_id"] for row in rows}
    # Lock the agreements first, in id order (as a single assessment's write does, one
    # agreement at a time): a concurrent writer waits for the import, never deadlocks with it.
    by_agreement: dict[int, set[int]] = defaultdict(set)
    for chunk in _chunks(sorted(touched)):
        for commitment_id, agreement_id in session.execute(
            select(Commitment.id, Commitment.agreement_id).where(Commitment.id.in_(chunk))
        ):
            by_agreement[agreement_id].add(commitment_id)
    agreement_ids = list(
        session.scalars(
            select(Agreement.id)
            .where(Agreement.id.in_(sorted(by_agreement)))
            .order_by(Agreement.id)
            .with_for_update()
        )
    )
    created_at = datetime.now(UTC)
    for batch in _chunks(rows, INSERT_BATCH):
        ids = _new_ids(session, len(batch))
        records = [
            {**_record(values, created_at), "id": new_id}
            for new_id, values in zip(ids, batch, strict=True)
        ]
        session.execute(insert(StatusAssessment), records)
        links = [
            {"assessment_id": new_id, "source_id": source_id}
            for new_id, values in zip(ids, batch, strict=True)
            for source_id in values.get("source_ids", [])
        ]
        if links:
            session.execute(insert(assessment_sources), links)
        for new_id, values, record in zip(ids, batch, records, strict=True):
            # The same `create` event as the API's: the record's fields and its sources.
            fields = crud.row_snapshot(
                StatusAssessment, {**record, "id": new_id, "as_of": values["as_of"]}
            )
            record_change(
                session,
                RecordRef(new_id),
                EntityType.ASSESSMENT,
                ChangeOperation.CREATE,
                {**fields, "source_ids": values.get("source_ids", [])},
            )
        if on_row is not None:
            on_row(len(batch))
    for agreement_id in agreement_ids:
        upkeep.refresh_progress(session, agreement_id, reassessed_ids=by_agreement[agreement_id])


def _new_ids(session: Session, count: int) -> list[int]:
    """Ids for `count` new assessments, taken before the INSERT: an INSERT ... RETURNING of
    thousands of rows, in parameter order, costs SQLAlchemy more than the insert itself."""
    if session.get_bind().dialect.name == "postgresql":
        return list(
            session.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence('status_assessments', 'id')) "
                    "FROM generate_series(1, :count)"
                ),
                {"count": count},
            )
        )
    # SQLite: a write transaction holds the database's write lock, so no one else takes these.
    last = session.scalar(select(func.max(StatusAssessment.id))) or 0
    return list(range(last + 1, last + 1 + count))


def _record(values: dict[str, Any], created_at: datetime) -> dict[str, Any]:
    """The row to insert: the mapped attributes of a StatusAssessment."""
    record = {
        key: value
        for key, value in values.items()
        if key not in {"as_of", "source_ids", "supersedes_id"}
    }
    record["as_of_value"] = values["as_of"].value
    record["as_of_precision"] = values["as_of"].precision
    record["created_at"] = created_at
    record.setdefault("assessed_at", created_at)
    return record
