"""Reading an import's CSV file, for both imports: its rows numbered as a spreadsheet shows
them, bounded (cells, columns, problems), and undecodable bytes reported with their row; the
report of what an import did or refused; and running an import whole, in one transaction,
or not at all."""

from __future__ import annotations

import codecs
import csv
import gc
import io
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import repeat

from sqlalchemy.orm import Session

from service.core import writes
from service.core.errors import InvalidInput
from service.exchange.columns import TEXT_MARK, restored

# Row 1 is the header: data rows are numbered as a spreadsheet shows them.
FIRST_DATA_ROW = 2
# No column takes more (`text`, the longest, takes 50,000). The csv module stops at a limit of
# its own with an exception that names neither row nor column, so its limit is lifted and this
# one is checked on every cell instead.
MAX_CELL_CHARS = 131_072
csv.field_size_limit(2**31 - 1)
# Neither of our files has a tenth as many columns.
MAX_COLUMNS = 200
# Reading stops at this many problems: a file of bad rows must not cost a problem per cell
# held in memory, for an answer that lists only the first ones.
MAX_ROW_ERRORS = 1000


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str


@dataclass
class ImportReport:
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


class ImportRefused(InvalidInput):
    """The file cannot be imported; `report.errors` says where and why. Nothing was written."""

    def __init__(self, report: ImportReport) -> None:
        errors: dict[str, list[str]] = {}
        for error in report.errors:
            errors.setdefault(f"row {error.row}: {error.column}", []).append(error.message)
        problems = "1 problem" if len(report.errors) == 1 else f"{len(report.errors)} problems"
        detail = f"{problems} in the file; nothing was imported."
        if len(report.errors) >= MAX_ROW_ERRORS:
            detail = (
                f"At least {len(report.errors)} problems in the file, which was read no "
                "further; nothing was imported."
            )
        super().__init__(
            detail,
            errors=errors,
            extensions={"row_errors": [vars(error) for error in report.errors]},
        )
        self.report = report


def read_rows(
    body: bytes, report: ImportReport, *, delimiter: str = ",", max_columns: int = MAX_COLUMNS
) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The file's header, and its rows numbered as a spreadsheet shows them, each as a mapping
    of column to cell: `read_records`, by name."""
    header, records = read_records(body, report, delimiter=delimiter, max_columns=max_columns)
    return header, ((number, dict(zip(header, cells, strict=True))) for number, cells in records)


def read_records(
    body: bytes, report: ImportReport, *, delimiter: str = ",", max_columns: int = MAX_COLUMNS
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The file's header, and its rows numbered as a spreadsheet shows them, each row's cells
    in the header's order with their text mark taken off (see columns.neutralized). A row
    that is not a record of the header (another number of cells, a cell over MAX_CELL_CHARS)
    is reported in `report` and left out. Raise ImportRefused, before any row is read, when
    the file is not UTF-8 or its header cannot be one."""
    records = csv.reader(io.StringIO(decoded(body, report), newline=""), delimiter=delimiter)
    header = next(records, [])
    if len(header) > max_columns:
        report.errors.append(RowError(1, "_row", f"More than {max_columns} columns."))
        raise ImportRefused(report)
    for name in sorted(name for name, count in Counter(header).items() if count > 1):
        report.errors.append(RowError(1, name, "Another column has the same name."))
    if any(len(name) > MAX_CELL_CHARS for name in header):
        report.errors.append(RowError(1, "_row", f"A cell over {MAX_CELL_CHARS:,} characters."))
    if report.errors:
        raise ImportRefused(report)
    width = len(header)

    def rows() -> Iterator[tuple[int, list[str]]]:
        # Each test is written to run in C for the common row (a bulk file has a million):
        # the cells' lengths at once, then whether any cell starts with the mark.
        for number, cells in enumerate(records, start=FIRST_DATA_ROW):
            if len(report.errors) >= MAX_ROW_ERRORS:
                return
            if not cells:
                continue  # a blank line
            if len(cells) != width:
                message = "The row does not have as many cells as the header."
                report.errors.append(RowError(number, "_row", message))
                continue
            if max(map(len, cells)) > MAX_CELL_CHARS:
                for name, cell in zip(header, cells, strict=True):
                    if len(cell) > MAX_CELL_CHARS:
                        message = (
                            f"Over {MAX_CELL_CHARS:,} characters: longer than any column takes."
                        )
                        report.errors.append(RowError(number, name, message))
                continue
            if any(map(str.startswith, cells, repeat(TEXT_MARK, width))):
                cells = [restored(cell) for cell in cells]
            yield number, cells

    return header, rows()


def decoded(body: bytes, report: ImportReport) -> str:
    """The file's text (a CSV's, a JSON lines file's): UTF-8, after a byte-order mark if it has one. Any other encoding is
    refused, not guessed: its letters would be stored as replacement characters."""
    body = body.removeprefix(codecs.BOM_UTF8)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        report.errors.append(_undecodable(body, error.start))
        raise ImportRefused(report) from None


def _undecodable(body: bytes, start: int) -> RowError:
    """Where the first byte that is not UTF-8 is: its row and column as the import numbers
    them, and its line, for an editor that shows lines."""
    before = body[:start].decode("utf-8")
    # A character in its place, so that the reader opens the cell it is in.
    records = list(csv.reader(io.StringIO(before + "?", newline="")))
    row, cells = len(records), records[-1]
    header = records[0] if row > 1 else []
    column = header[len(cells) - 1] if len(cells) <= len(header) else "_row"
    line = before.count("\n") + before.count("\r") - before.count("\r\n") + 1
    return RowError(
        row,
        column,
        f"Not UTF-8: the byte 0x{body[start]:02x} on line {line} cannot be read. "
        "Save the file as UTF-8; nothing was imported.",
    )


# Called with the number of steps just done: each row is checked, then written, two steps a
# row (a progress bar, a background job's rows done).
Progress = Callable[[int], None]
# Called with the report inside the import's transaction, just before it commits (after the
# rollback of a dry run): what else must commit with the import, or not at all.
Finish = Callable[[ImportReport], None]


def count_rows(body: bytes) -> int:
    """How many data rows (blank lines aside) a file holds, as an import numbers them."""
    text = body.removeprefix(codecs.BOM_UTF8).decode("utf-8", errors="replace")
    records = csv.reader(io.StringIO(text, newline=""))
    next(records, None)
    return sum(1 for cells in records if cells)


def in_one_transaction(
    session: Session,
    run: Callable[[], ImportReport],
    *,
    dry_run: bool,
    finish: Finish | None = None,
) -> ImportReport:
    """Run an import: committed whole, or rolled back whole when it fails or is a dry run.
    `finish`, if given, runs in the transaction that commits (for a dry run, one of its own
    after the rollback), so that what it writes commits with the import or not at all."""
    try:
        with _without_cyclic_gc():
            report = run()
            if dry_run:
                session.rollback()
            if finish is not None:
                finish(report)
            if not dry_run or finish is not None:
                writes.commit(session)
    except BaseException:
        session.rollback()
        raise
    return report


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """No cyclic garbage collection while the block runs: an import holds millions of live
    objects (its rows, their checked values, their events), and each full collection walks
    them all again; what it allocates is freed by reference counting anyway."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
