"""Importing the results of Decidim's accountability module into an agreement
(docs/csv-format.md, "Decidim results").

Decidim exports a component's results as CSV: cells separated by `;` (`,` where an instance
is set so), nested fields flattened with `/` (`parent/id`, `status/key`), a column per
locale for translated text (`title/en`, `description/ca`, machine translations under
`title/machine_translations/es`), descriptions as the HTML of its editor, and a `'` before
any text a spreadsheet would read as a formula. Columns are read by name: Decidim writes the
union of every row's keys, so their order and number vary between instances and versions.

Each result becomes a commitment of the agreement, its parent kept, its title and
description (reduced to text) in the chosen locale, its end date as the due date, keyed on
its Decidim id (`external_id` "decidim:<host>:result:<id>"), so that running the same file
again creates nothing twice. A result with a progress gets an assessment citing its page on
the platform as the source: the step of the scale the progress has reached (0 not started,
above 0 initiated, from 60 advanced, 100 completed: `status_for`), the
progress itself as stated, and Decidim's own status in the rationale. One whose commitment
already stands at that status and progress gets none. All rows or none, as every import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import marshmallow as ma
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.agreements.models import Agreement
from service.assessments.models import StatusAssessment
from service.assessments.schemas import AssessmentCreateSchema
from service.assessments.services import rule_errors
from service.commitments.models import Commitment
from service.commitments.services import commitment_values, ensure_within_depth
from service.core import records, writes
from service.core.dates import PartialDate
from service.core.errors import Conflict, InvalidInput, flatten_errors
from service.core.identifiers import HTTP_URL_PATTERN
from service.core.vocabularies import (
    AssessorKind,
    CommitmentKind,
    Confidence,
    EntityType,
    ImplementationStatus,
    Reliability,
    SourceKind,
)
from service.exchange.assessment_writes import write_assessments
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
from service.progress.rules import DEFAULT_PROGRESS
from service.sources.models import Source

REQUIRED_COLUMNS = ("id", "parent/id", "progress", "url")
# Decidim writes a column per locale of every translated field (machine translations too)
# and per taxonomy and locale: an instance with many of each has hundreds.
MAX_COLUMNS = 2000
# What a commitment takes: longer Decidim text is cut there, with an ellipsis.
MAX_TITLE = 500
MAX_SUMMARY = 20_000
_URL = re.compile(HTTP_URL_PATTERN)
_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})")


def status_for(progress: float) -> ImplementationStatus:
    """The step of the scale a progress (0-100) has reached, by the steps' default progress
    (rules.DEFAULT_PROGRESS: advanced from 60, completed at 100); above 0 it has begun."""
    for status in (ImplementationStatus.COMPLETED, ImplementationStatus.ADVANCED):
        if progress >= DEFAULT_PROGRESS[status]:
            return status
    return ImplementationStatus.INITIATED if progress > 0 else ImplementationStatus.NOT_STARTED


@dataclass
class _Result:
    number: int  # its row in the file
    decidim_id: int
    parent_id: int | None  # the parent's Decidim id
    key: str  # the commitment's external_id
    title: str
    summary: str | None
    due_date: PartialDate | None
    progress: float | None
    url: str | None
    status_text: str  # Decidim's own status, for the rationale
    as_of: date


def _parent_key(result: _Result) -> str:
    """The external_id its parent has: the same instance's result of `parent_id`."""
    return f"{result.key.rsplit(':', 1)[0]}:{result.parent_id}"


class _HTMLText(HTMLParser):
    """The text of a rich-text editor's HTML: blocks on lines of their own, list items
    marked, entities read, scripts and styles left out."""

    BLOCKS = frozenset(
        {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr",
         "blockquote", "pre", "table", "section", "article"}
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n- " if tag == "li" else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Decidim's HTML as plain text: a paragraph a line, spaces collapsed."""
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _delimiter(body: bytes) -> str:
    """`;`, Decidim's default, unless the header line holds none and has commas."""
    header = body.split(b"\n", 1)[0]
    return "," if b";" not in header and b"," in header else ";"


def _locales(header: list[str]) -> list[str]:
    """The locales the file has titles in, in the header's order."""
    return [name.split("/", 1)[1] for name in header if re.fullmatch(r"title/[^/]+", name)]


def _check_header(
    header: list[str], report: ImportReport, locale: str | None, default: str | None
) -> str:
    """The locale to read (the one asked for; else the agreement's language, or the first the
    file has); raise ImportRefused when a needed column is missing."""
    for name in REQUIRED_COLUMNS:
        if name not in header:
            report.errors.append(RowError(1, name, "Missing column: Decidim's export has it."))
    locales = _locales(header)
    if not locales:
        report.errors.append(
            RowError(1, "title", "No title/<locale> column: no result has a title.")
        )
    elif locale is not None and locale not in locales:
        message = f"No title/{locale} column; the file has titles in: {', '.join(locales)}."
        report.errors.append(RowError(1, f"title/{locale}", message))
    if report.errors:
        raise ImportRefused(report)
    if locale is not None:
        return locale
    return default if default in locales else locales[0]


def _translated(cells: dict[str, str], field: str, locale: str, locales: list[str]) -> str:
    """A translated field in `locale`; else its machine translation; else the first other
    locale that has it."""
    for name in (
        f"{field}/{locale}",
        f"{field}/machine_translations/{locale}",
        *(f"{field}/{other}" for other in locales),
    ):
        if cells.get(name, "").strip():
            return cells[name]
    return ""


class _Reader:
    def __init__(
        self, report: ImportReport, header: list[str], locale: str, as_of: date | None
    ) -> None:
        self.report, self.locale, self.as_of = report, locale, as_of
        self.locales = _locales(header)
        self.seen: set[int] = set()

    def error(self, row: int, column: str, message: str) -> None:
        self.report.errors.append(RowError(row, column, message))

    def read(self, number: int, cells: dict[str, str], host: str | None) -> _Result | None:
        before = len(self.report.errors)
        decidim_id = self._integer(number, cells, "id", required=True)
        if decidim_id is not None:
            if decidim_id in self.seen:
                self.error(number, "id", "Another row of the file has this id.")
            self.seen.add(decidim_id)
        parent_id = self._integer(number, cells, "parent/id", required=False)
        title = html_to_text(_translated(cells, "title", self.locale, self.locales))
        if not title:
            self.error(number, f"title/{self.locale}", "The result has no title in any locale.")
        description = html_to_text(_translated(cells, "description", self.locale, self.locales))
        due_date = None
        if end := cells.get("end_date", "").strip():
            try:
                due_date = PartialDate.parse(end)
            except ValueError as wrong:
                self.error(number, "end_date", f"Not a date: {wrong}.")
        progress = None
        if text := cells["progress"].strip():
            try:
                progress = float(text)
            except ValueError:
                progress = -1.0
            if not 0 <= progress <= 100:
                self.error(number, "progress", "Must be a number from 0 to 100, or empty.")
        url = cells["url"].strip() or None
        if url is not None and not _URL.fullmatch(url):
            self.error(number, "url", "Must be an http(s) URL (characters beyond ASCII encoded).")
        if progress is not None and url is None:
            self.error(number, "url", "A result with a progress needs its URL: the source.")
        if len(self.report.errors) > before or decidim_id is None:
            return None
        row_host = urlsplit(url).hostname if url else host
        status_key = cells.get("status/key", "").strip()
        status_name = _translated(cells, "status/name", self.locale, self.locales).strip()
        return _Result(
            number=number,
            decidim_id=decidim_id,
            parent_id=parent_id,
            key=f"decidim:{row_host}:result:{decidim_id}"
            if row_host
            else f"decidim:result:{decidim_id}",
            title=_cut(" ".join(title.split()), MAX_TITLE),
            summary=_cut(description, MAX_SUMMARY) or None,
            due_date=due_date,
            progress=progress,
            url=url,
            status_text=" ".join(
                part for part in (status_name, f"({status_key})" if status_key else "") if part
            ),
            as_of=self.as_of or _updated_on(cells) or date.today(),
        )

    def _integer(
        self, number: int, cells: dict[str, str], column: str, *, required: bool
    ) -> int | None:
        text = cells[column].strip()
        if not text:
            if required:
                self.error(number, column, "Missing: every result has one.")
            return None
        if not text.isdigit() or not 1 <= int(text) <= 2**31 - 1:
            self.error(number, column, "Must be a Decidim result id: a positive whole number.")
            return None
        return int(text)


def _updated_on(cells: dict[str, str]) -> date | None:
    """The day a result was last updated, where the export says (newer Decidim versions):
    the date its progress stands at."""
    found = _DAY.match(cells.get("updated_at", "").strip())
    if not found:
        return None
    try:
        return date.fromisoformat(found.group(1))
    except ValueError:
        return None


def check_decidim_file(body: bytes, *, locale: str | None = None, **_options: Any) -> None:
    """What can be checked of a Decidim file at once: UTF-8, and the columns it needs (the
    chosen locale's titles among them). Raise ImportRefused when not."""
    report = ImportReport(dry_run=True)
    header, _rows = read_rows(body, report, delimiter=_delimiter(body), max_columns=MAX_COLUMNS)
    _check_header(header, report, locale, None)


def import_decidim_results(
    session: Session,
    body: bytes,
    *,
    agreement_id: int,
    locale: str | None = None,
    as_of: str | None = None,
    dry_run: bool,
    on_row: Progress | None = None,
    finish: Finish | None = None,
) -> ImportReport:
    """Import a Decidim results export into the agreement's commitment tree and assessments,
    in one transaction, or only report what it would change (`dry_run`). `as_of`: the date
    the progress is of (YYYY-MM-DD); by default the day each result was last updated where
    the file says, else today. Raise ImportRefused, having written nothing, when any row
    fails."""
    return in_one_transaction(
        session,
        lambda: _import(
            session,
            body,
            agreement_id=agreement_id,
            locale=locale,
            as_of=date.fromisoformat(as_of) if as_of else None,
            dry_run=dry_run,
            on_row=on_row,
        ),
        dry_run=dry_run,
        finish=finish,
    )


def _import(
    session: Session,
    body: bytes,
    *,
    agreement_id: int,
    locale: str | None,
    as_of: date | None,
    dry_run: bool,
    on_row: Progress | None,
) -> ImportReport:
    report = ImportReport(dry_run=dry_run)
    agreement = session.scalars(
        records.live(Agreement).where(Agreement.id == agreement_id).with_for_update()
    ).first()
    if agreement is None:
        raise InvalidInput(
            f"No agreement with id {agreement_id}.", errors={"agreement": ["No such agreement."]}
        )
    header, rows = read_rows(body, report, delimiter=_delimiter(body), max_columns=MAX_COLUMNS)
    language = (agreement.language or "").split("-")[0] or None
    reader = _Reader(report, header, _check_header(header, report, locale, language), as_of)
    cells_of = list(rows)
    host = next(
        (urlsplit(cells["url"]).hostname for _, cells in cells_of if cells.get("url", "").strip()),
        None,
    )
    results: list[_Result] = []
    for number, cells in cells_of:
        report.rows += 1
        if (result := reader.read(number, cells, host)) is not None:
            results.append(result)
        if on_row is not None:
            on_row(1)
    if report.errors:
        raise ImportRefused(report)
    writer = _Writer(session, report, agreement)
    ordered = writer.parents_first(results)
    if report.errors:
        raise ImportRefused(report)
    commitments = writer.commitments(ordered, on_row)
    if report.errors:
        raise ImportRefused(report)
    writer.assessments(ordered, commitments)
    return report


class _Writer:
    def __init__(self, session: Session, report: ImportReport, agreement: Agreement) -> None:
        self.session, self.report, self.agreement = session, report, agreement

    def error(self, row: int, column: str, message: str) -> None:
        self.report.errors.append(RowError(row, column, message))

    def parents_first(self, results: list[_Result]) -> list[_Result]:
        """The results with each parent before its children; a parent neither in the file nor
        imported before, or a loop, is a row error."""
        by_id = {result.decidim_id: result for result in results}
        known = self._existing(
            {_parent_key(r) for r in results if r.parent_id} - {r.key for r in results}
        )
        ordered: list[_Result] = []
        placed: set[int] = set()
        for result in results:
            chain, current = [], result
            while current.decidim_id not in placed:
                if current in chain:
                    self.error(result.number, "parent/id", "The results' parents form a loop.")
                    return []
                chain.append(current)
                parent = by_id.get(current.parent_id) if current.parent_id else None
                if parent is None:
                    if current.parent_id and _parent_key(current) not in known:
                        self.error(
                            current.number,
                            "parent/id",
                            f"No result {current.parent_id} in the file or imported before.",
                        )
                    break
                current = parent
            for item in reversed(chain):
                if item.decidim_id not in placed:
                    placed.add(item.decidim_id)
                    ordered.append(item)
        return ordered

    def _existing(self, keys: Iterable[str]) -> dict[str, Commitment]:
        wanted = sorted(set(keys))
        found: dict[str, Commitment] = {}
        for start in range(0, len(wanted), 500):
            statement = records.live(Commitment).where(
                Commitment.external_id.in_(wanted[start : start + 500])
            )
            found.update((str(c.external_id), c) for c in self.session.scalars(statement))
        return found

    def commitments(self, ordered: list[_Result], on_row: Progress | None) -> dict[int, Commitment]:
        """Each result's commitment, created or brought up to date, by Decidim id."""
        existing = self._existing(
            [result.key for result in ordered] + [_parent_key(r) for r in ordered if r.parent_id]
        )
        made: dict[int, Commitment] = {}
        changed = False
        for result in ordered:
            if on_row is not None:
                on_row(1)
            commitment = existing.get(result.key)
            if commitment is not None and commitment.agreement_id != self.agreement.id:
                self.error(
                    result.number,
                    "id",
                    "This result is imported into another agreement "
                    f"(commitment {commitment.id}); a commitment cannot move.",
                )
                continue
            parent = made.get(result.parent_id) if result.parent_id else None
            if parent is None and result.parent_id:
                parent = existing.get(_parent_key(result))
            values = commitment_values(
                {
                    "title": result.title,
                    "summary": result.summary,
                    "due_date": result.due_date,
                    "parent_id": parent.id if parent is not None else None,
                }
            )
            if not self._parent_allowed(result, commitment, values["parent_id"]):
                continue
            if commitment is None:
                commitment = Commitment(
                    agreement_id=self.agreement.id,
                    kind=CommitmentKind.COMMITMENT,
                    weight=1.0,
                    external_id=result.key,
                    themes=[],
                    **values,
                )
                writes.add(self.session, commitment, EntityType.COMMITMENT, extra={"themes": []})
                self.report.created += 1
                changed = True
            else:
                changes = writes.assign(commitment, values)
                writes.record_update(self.session, commitment, EntityType.COMMITMENT, changes)
                shown = set(changes) - {"due_by"}
                self.report.updated += bool(shown)
                self.report.unchanged += not shown
                changed = changed or bool(changes)
            made[result.decidim_id] = commitment
        if changed and not self.report.errors:
            upkeep.refresh_progress(self.session, self.agreement.id)
        return made

    def _parent_allowed(
        self, result: _Result, commitment: Commitment | None, parent_id: int | None
    ) -> bool:
        """The API's own rules for a parent: no loop, no tree deeper than allowed."""
        if parent_id is None:
            return True
        try:
            if commitment is not None:
                records.ensure_no_cycle(
                    self.session, Commitment, EntityType.COMMITMENT, commitment.id, parent_id
                )
            ensure_within_depth(
                self.session, commitment.id if commitment is not None else None, parent_id
            )
        except (Conflict, InvalidInput) as refused:
            self.error(result.number, "parent/id", refused.detail)
            return False
        return True

    def assessments(self, ordered: list[_Result], made: dict[int, Commitment]) -> None:
        """An assessment for each result with a progress, citing its page, unless its
        commitment already stands at that status and progress."""
        wanted = [result for result in ordered if result.progress is not None]
        if not wanted:
            return
        sources = self._sources(wanted)
        current = self._standing({made[r.decidim_id].current_assessment_id for r in wanted})
        schema = AssessmentCreateSchema()
        rows: list[tuple[dict[str, Any], int]] = []
        for result in wanted:
            assert result.progress is not None and result.url is not None
            commitment = made[result.decidim_id]
            status = status_for(result.progress)
            standing = commitment.current_assessment_id
            if standing is not None and current.get(standing) == (status, result.progress):
                continue
            said = f"Decidim says {result.status_text}; " if result.status_text else "Decidim says "
            data = {
                "status": status.value,
                "progress_pct": result.progress,
                "as_of": result.as_of.isoformat(),
                "assessor_kind": AssessorKind.OFFICIAL.value,
                "confidence": Confidence.MEDIUM.value,
                "rationale": f"{said}progress {result.progress:g}% (result {result.decidim_id}).",
                "source_ids": [sources[result.url].id],
            }
            try:
                values = schema.load(data)
            except ma.ValidationError as invalid:  # a rule of ours the row breaks
                for column, messages in flatten_errors(invalid.messages).items():
                    self.error(result.number, column, "; ".join(messages))
                continue
            for column, message in rule_errors(values).items():
                self.error(result.number, column, message)
            rows.append((values, commitment.id))
        if self.report.errors:
            raise ImportRefused(self.report)
        write_assessments(self.session, rows, None)

    def _standing(
        self, ids: set[int | None]
    ) -> dict[int, tuple[ImplementationStatus, float | None]]:
        """The status and stated progress of these (current) assessments."""
        wanted = sorted(i for i in ids if i is not None)
        if not wanted:
            return {}
        rows = self.session.execute(
            select(
                StatusAssessment.id, StatusAssessment.status, StatusAssessment.progress_pct
            ).where(StatusAssessment.id.in_(wanted))
        )
        return {row.id: (row.status, row.progress_pct) for row in rows}

    def _sources(self, results: list[_Result]) -> dict[str, Source]:
        """Each result page as a source: the live one with its URL, or a new one."""
        urls = sorted({result.url for result in results if result.url})
        found: dict[str, Source] = {}
        for start in range(0, len(urls), 500):
            statement = records.live(Source).where(Source.url.in_(urls[start : start + 500]))
            for source in self.session.scalars(statement.order_by(Source.id)):
                found.setdefault(source.url, source)
        for result in results:
            if result.url is None or result.url in found:
                continue
            source = Source(
                url=result.url,
                title=_cut(f"{result.title} (Decidim result {result.decidim_id})", 500),
                publisher=urlsplit(result.url).hostname,
                kind=SourceKind.OFFICIAL_STATEMENT,
                reliability=Reliability.UNKNOWN,
                language=None,
                published_on=PartialDate.unknown(),
            )
            writes.add(self.session, source, EntityType.SOURCE)
            found[result.url] = source
        return found
