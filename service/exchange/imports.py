"""Importing commitments from a CSV with exactly the export's columns.

Each row is keyed on `external_id` (updated when a commitment has it, created when none has),
or on `id` when it has no external id. Every row is read and checked first; if any fails,
nothing is written and every error is reported with its row and column. Then the rows are
written in one transaction (a dry run rolls it back), and each agreement touched has its
derived values recomputed once, not once a row: the bulk path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.agreements.models import Agreement
from service.commitments.models import Commitment
from service.commitments.schemas import CommitmentCreateSchema
from service.commitments.services import commitment_values, ensure_within_depth
from service.core import records, writes
from service.core.errors import Conflict, InvalidInput, flatten_errors
from service.core.identifiers import parse_id
from service.core.vocabularies import EntityType
from service.exchange.columns import COMMITMENT_COLUMNS, LIST_SEPARATOR
from service.exchange.csv_files import (
    Finish,
    ImportRefused,
    ImportReport,
    Progress,
    RowError,
    in_one_transaction,
    read_rows,
)
from service.progress import upkeep
from service.themes.models import Theme

COLUMN_NAMES = [column.name for column in COMMITMENT_COLUMNS]
WRITABLE = [column.name for column in COMMITMENT_COLUMNS if column.writable]
REQUIRED_NAMES = [column.name for column in COMMITMENT_COLUMNS if not column.optional]


@dataclass
class _Row:
    number: int
    key: tuple[str, Any] | None  # ("external_id", "x") or ("id", 12); None to create
    agreement_id: int
    parent: tuple[str, Any] | None
    values: dict[str, Any]
    themes: list[Theme]


def _cells_to_input(cells: dict[str, str]) -> dict[str, Any]:
    """The row's writable cells as the API's create schema takes them."""
    data: dict[str, Any] = {}
    for name in ("external_id", "kind", "ref", "title", "text", "summary", "due_date"):
        if cells[name] != "":
            data[name] = cells[name]
        elif name in ("external_id", "ref", "text", "summary", "due_date"):
            data[name] = None
    data["verifiable"] = _boolean(cells["verifiable"]) if cells["verifiable"] != "" else None
    if cells.get("progress_from_indicators", "") != "":
        data["progress_from_indicators"] = _boolean(cells["progress_from_indicators"])
    if cells["weight"] != "":
        try:
            data["weight"] = float(cells["weight"])
        except ValueError:
            data["weight"] = cells["weight"]
    data["themes"] = [slug for slug in cells["themes"].split(LIST_SEPARATOR) if slug]
    return data


def _boolean(cell: str) -> Any:
    """A true/false cell as the schema takes it (any other text, for the schema to refuse)."""
    return {"true": True, "false": False}.get(cell.strip().lower(), cell)


class _Importer:
    def __init__(self, session: Session, report: ImportReport) -> None:
        self.session = session
        self.report = report
        self.agreements = dict(
            session.execute(
                select(Agreement.slug, Agreement.id).where(Agreement.deleted_at.is_(None))
            ).all()
        )
        self.themes = {theme.slug: theme for theme in session.scalars(records.live(Theme))}
        self.file_external_ids: set[str] = set()

    def error(self, row: int, column: str, message: str) -> None:
        self.report.errors.append(RowError(row, column, message))

    def check(self, number: int, cells: dict[str, str]) -> _Row | None:
        before = len(self.report.errors)
        try:
            values = CommitmentCreateSchema().load(_cells_to_input(cells))
        except ma.ValidationError as invalid:
            for column, messages in flatten_errors(invalid.messages).items():
                for message in messages:
                    self.error(number, column, message)
            values = {}
        if cells.get("progress_from_indicators", "") == "":
            # Left empty or out: unchanged (off for a new commitment), not turned off.
            values.pop("progress_from_indicators", None)
        agreement_id = self.agreements.get(cells["agreement"])
        if agreement_id is None:
            self.error(number, "agreement", f"No agreement with slug {cells['agreement']!r}.")
        themes = []
        for slug in values.pop("themes", []):
            if slug in self.themes:
                themes.append(self.themes[slug])
            else:
                self.error(number, "themes", f"No theme with slug {slug!r}.")
        key: tuple[str, Any] | None = None
        if values.get("external_id"):
            if values["external_id"] in self.file_external_ids:
                self.error(number, "external_id", "Another row of the file has this external_id.")
            self.file_external_ids.add(values["external_id"])
            key = ("external_id", values["external_id"])
        elif cells["id"]:
            key = ("id", parse_id(cells["id"]))
            if key[1] is None:
                self.error(number, "id", "Must be a record id, or empty to create.")
        parent: tuple[str, Any] | None = None
        if cells["parent_external_id"]:
            parent = ("external_id", cells["parent_external_id"])
        elif cells["parent_id"]:
            parent = ("id", parse_id(cells["parent_id"]))
            if parent[1] is None:
                self.error(number, "parent_id", "Must be a record id.")
        if len(self.report.errors) > before or agreement_id is None:
            return None
        return _Row(number, key, agreement_id, parent, values, themes)

    def find(self, key: tuple[str, Any]) -> Commitment | None:
        column = Commitment.external_id if key[0] == "external_id" else Commitment.id
        return self.session.scalars(records.live(Commitment).where(column == key[1])).first()

    def apply(self, row: _Row) -> tuple[Commitment, str]:
        existing = self.find(row.key) if row.key else None
        if row.key and row.key[0] == "id" and existing is None:
            self.error(row.number, "id", f"No commitment with id {row.key[1]}.")
            raise _RowFailed
        if existing is not None and existing.agreement_id != row.agreement_id:
            self.error(row.number, "agreement", "A commitment cannot move to another agreement.")
            raise _RowFailed
        values = commitment_values(row.values)
        values.pop("parent_id", None)
        parent_id = None
        if row.parent is not None:
            parent = self.find(row.parent)
            if parent is None or parent.agreement_id != row.agreement_id:
                column = "parent_external_id" if row.parent[0] == "external_id" else "parent_id"
                self.error(
                    row.number,
                    column,
                    "No commitment of the same agreement is this parent (it must come earlier).",
                )
                raise _RowFailed
            parent_id = parent.id
            self.check_parent(row, existing.id if existing else None, parent_id)
        values["parent_id"] = parent_id
        if existing is None:
            commitment = Commitment(agreement_id=row.agreement_id, themes=row.themes, **values)
            writes.add(
                self.session,
                commitment,
                EntityType.COMMITMENT,
                extra={"themes": [theme.slug for theme in row.themes]},
            )
            return commitment, "created"
        changes = writes.list_change(
            "themes", existing.theme_slugs, [theme.slug for theme in row.themes]
        )
        if changes:
            existing.themes = row.themes
        changes.update(writes.assign(existing, values))
        writes.record_update(self.session, existing, EntityType.COMMITMENT, changes)
        visible = {name for name in changes if name not in {"due_by"}}
        return existing, "updated" if visible else "unchanged"

    def check_parent(self, row: _Row, commitment_id: int | None, parent_id: int) -> None:
        """The rules of the API's own parent checks: no loop, no tree deeper than allowed."""
        try:
            if commitment_id is not None:
                records.ensure_no_cycle(
                    self.session, Commitment, EntityType.COMMITMENT, commitment_id, parent_id
                )
            ensure_within_depth(self.session, commitment_id, parent_id)
        except (Conflict, InvalidInput) as refused:
            column = (
                "parent_external_id"
                if row.parent and row.parent[0] == "external_id"
                else "parent_id"
            )
            self.error(row.number, column, refused.detail)
            raise _RowFailed from refused


class _RowFailed(Exception):
    pass


def import_commitments(
    session: Session,
    body: bytes,
    *,
    dry_run: bool,
    on_row: Progress | None = None,
    finish: Finish | None = None,
) -> ImportReport:
    """Import a CSV file of commitments in one transaction, or only report what it would
    change (`dry_run`). Raise ImportRefused, having written nothing, when any row fails."""
    return in_one_transaction(
        session,
        lambda: _import(session, body, dry_run=dry_run, on_row=on_row),
        dry_run=dry_run,
        finish=finish,
    )


def check_commitments_file(body: bytes) -> None:
    """What can be checked of a commitments file without reading its rows: that it is UTF-8
    and its header has the export's columns (those an import may leave out aside), and no
    other. Raise ImportRefused when not."""
    report = ImportReport(dry_run=True)
    header, _rows = read_rows(body, report)
    _check_header(header, report)


def _check_header(header: list[str], report: ImportReport) -> None:
    missing = sorted(set(REQUIRED_NAMES) - set(header))
    extra = sorted(set(header) - set(COLUMN_NAMES))
    if missing or extra:
        for name in missing:
            report.errors.append(
                RowError(1, name, "Missing column: the file needs exactly the export's columns.")
            )
        for name in extra:
            report.errors.append(RowError(1, name, "Unknown column."))
        raise ImportRefused(report)


def _import(
    session: Session, body: bytes, *, dry_run: bool, on_row: Progress | None
) -> ImportReport:
    report = ImportReport(dry_run=dry_run)
    header, rows = read_rows(body, report)
    _check_header(header, report)
    importer = _Importer(session, report)
    checked: list[_Row] = []
    for number, cells in rows:
        report.rows += 1
        row = importer.check(number, cells)
        if row is not None:
            checked.append(row)
        if on_row is not None:
            on_row(1)
    if report.errors:
        raise ImportRefused(report)
    # The agreements' rows first, in id order, as every writer to a tree locks them (the
    # API's writes, the other imports): a commitment row written first would wait for them
    # while a writer holding one waited for it.
    session.execute(
        select(Agreement.id)
        .where(Agreement.id.in_({row.agreement_id for row in checked}))
        .order_by(Agreement.id)
        .with_for_update()
    ).all()
    touched: set[int] = set()
    for row in checked:
        if on_row is not None:
            on_row(1)
        try:
            commitment, outcome = importer.apply(row)
        except _RowFailed:
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
        touched.add(commitment.agreement_id)
    if report.errors:
        raise ImportRefused(report)
    for agreement_id in sorted(touched):
        upkeep.refresh_progress(session, agreement_id)
    return report
