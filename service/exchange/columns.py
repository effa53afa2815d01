"""The columns of the bulk files: what each commitment or agreement becomes in a CSV row or a
JSON line, and how a CSV row is read back. docs/csv-format.md describes each column."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from service.core.vocabularies import (
    AssessorKind,
    Binding,
    CommitmentKind,
    Confidence,
    DocType,
    EntityType,
    ImplementationStatus,
    IndicatorMeasure,
    LifecycleStatus,
    Reliability,
    SourceKind,
    TextAvailability,
)

LIST_SEPARATOR = ";"
# A cell that starts with one of these is read by a spreadsheet as a formula (OWASP, CSV
# injection). A text cell that does is written after a TEXT_MARK, which makes the spreadsheet
# read it as text; so is one that starts with the mark itself, so that an import can take the
# mark off again without guessing whether it was added.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARK = "'"
_MARKED = (*FORMULA_STARTS, TEXT_MARK)


@dataclass(frozen=True)
class Column:
    name: str
    read: Callable[[Any, dict[str, Any]], Any]  # (record, lookups) -> JSON value
    writable: bool = True  # read back on import; a read-only column is ignored there
    # An import may leave it out (files written before it was added): then it is unchanged.
    optional: bool = False
    # Its Table Schema field (datapackage.py): the type of its CSV cells, and their rules.
    field_type: str = "string"
    enum: type[Enum] | None = None
    pattern: str | None = None
    description: str = ""


def _vocabulary(name: str, enum: type[Enum], read: Callable[[Any], Enum | None]) -> Column:
    """A column holding a value of a closed vocabulary (or nothing)."""
    return Column(
        name, lambda record, _: None if (value := read(record)) is None else value.value, enum=enum
    )


# A date to the precision known: 2024, 2024-03 or 2024-03-15 (service/core/dates.py).
PARTIAL_DATE = r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?"
IDS = r"[0-9]+(;[0-9]+)*"


def neutralized(text: str) -> str:
    """A text cell as a spreadsheet must take it: as text, never as a formula."""
    return TEXT_MARK + text if text.startswith(_MARKED) else text


def restored(cell: str) -> str:
    """A cell as it was before `neutralized`: the mark is taken off only where it was put."""
    return cell[1:] if cell.startswith(TEXT_MARK) and cell[1:].startswith(_MARKED) else cell


def _text(value: Any) -> str:
    """A value as one CSV cell: lists joined by ";", booleans as true/false, none as empty.
    Text is neutralized; a number never is: "-2" is a number to a spreadsheet, not a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return neutralized(LIST_SEPARATOR.join(str(item) for item in value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    if isinstance(value, int | float):
        return str(value)
    return neutralized(str(value))


COMMITMENT_COLUMNS: list[Column] = [
    Column("id", lambda c, _: c.id, writable=False, field_type="integer"),
    Column("external_id", lambda c, _: c.external_id),
    Column("agreement", lambda c, lookups: lookups["agreement_slugs"][c.agreement_id]),
    Column("parent_external_id", lambda c, lookups: lookups["external_ids"].get(c.parent_id)),
    Column("parent_id", lambda c, _: c.parent_id, field_type="integer"),
    _vocabulary("kind", CommitmentKind, lambda c: c.kind),
    Column("ref", lambda c, _: c.ref),
    Column("title", lambda c, _: c.title),
    Column("text", lambda c, _: c.text),
    Column("summary", lambda c, _: c.summary),
    Column("themes", lambda c, _: c.theme_slugs, description="Theme slugs, separated by ;."),
    Column("due_date", lambda c, _: c.due_date.isoformat(), pattern=PARTIAL_DATE),
    Column("verifiable", lambda c, _: c.verifiable, field_type="boolean"),
    Column("weight", lambda c, _: c.weight, field_type="number"),
    Column(
        "progress_from_indicators",
        lambda c, _: c.progress_from_indicators,
        field_type="boolean",
        optional=True,
    ),
    Column(
        "current_status",
        lambda c, _: c.current_status.value,
        writable=False,
        enum=ImplementationStatus,
    ),
    Column(
        "current_progress", lambda c, _: c.current_progress, writable=False, field_type="number"
    ),
]

AGREEMENT_COLUMNS: list[Column] = [
    Column("id", lambda a, _: a.id, writable=False, field_type="integer"),
    Column("slug", lambda a, _: a.slug),
    Column("external_id", lambda a, _: a.external_id),
    Column("title", lambda a, _: a.title),
    Column("short_title", lambda a, _: a.short_title),
    Column("aliases", lambda a, _: a.aliases, description="Other names, separated by ;."),
    _vocabulary("doc_type", DocType, lambda a: a.doc_type),
    _vocabulary("binding", Binding, lambda a: a.binding),
    _vocabulary("text_availability", TextAvailability, lambda a: a.text_availability),
    Column("summary", lambda a, _: a.summary),
    Column("text_url", lambda a, _: a.text_url),
    Column("language", lambda a, _: a.language),
    Column("themes", lambda a, _: a.theme_slugs, description="Theme slugs, separated by ;."),
    Column(
        "participants",
        lambda a, lookups: lookups["participants"].get(a.id, []),
        writable=False,
        description="role:organization-slug, separated by ;.",
    ),
    Column(
        "lifecycle_status",
        lambda a, _: a.lifecycle_status.value,
        writable=False,
        enum=LifecycleStatus,
    ),
    Column("progress", lambda a, _: a.progress, writable=False, field_type="number"),
]

# Exports only: the evidence behind every status, in bulk.
ASSESSMENT_EXPORT_COLUMNS: list[Column] = [
    Column("id", lambda a, _: a.id, field_type="integer"),
    Column("commitment_id", lambda a, _: a.commitment_id, field_type="integer"),
    Column(
        "commitment_external_id",
        lambda a, lookups: lookups["commitments"][a.commitment_id][0],
    ),
    Column("agreement", lambda a, lookups: lookups["commitments"][a.commitment_id][1]),
    _vocabulary("status", ImplementationStatus, lambda a: a.status),
    Column("progress_pct", lambda a, _: a.progress_pct, field_type="number"),
    Column("as_of", lambda a, _: a.as_of.isoformat(), pattern=PARTIAL_DATE),
    Column("assessed_at", lambda a, _: a.assessed_at.isoformat(), field_type="datetime"),
    _vocabulary("assessor_kind", AssessorKind, lambda a: a.assessor_kind),
    Column(
        "assessor_organization_id", lambda a, _: a.assessor_organization_id, field_type="integer"
    ),
    _vocabulary("confidence", Confidence, lambda a: a.confidence),
    Column("rationale", lambda a, _: a.rationale),
    Column("meeting_id", lambda a, _: a.meeting_id, field_type="integer"),
    Column("supersedes_id", lambda a, _: a.supersedes_id, field_type="integer"),
    Column(
        "superseded_by_id",
        lambda a, _: a.superseded_by.id if a.superseded_by is not None else None,
        field_type="integer",
    ),
    Column(
        "source_ids",
        lambda a, _: a.source_ids,
        pattern=IDS,
        description="The sources cited, separated by ;.",
    ),
    Column(
        "source_titles",
        lambda a, _: [source.title for source in a.sources],
        description="Their titles, in the same order, separated by ; (a title with a ; of "
        "its own reads ambiguously here: the JSON lines give a list).",
    ),
    _vocabulary("evidence_reliability", Reliability, lambda a: a.evidence_reliability),
]

SOURCE_COLUMNS: list[Column] = [
    Column("id", lambda s, _: s.id, field_type="integer"),
    Column("url", lambda s, _: s.url),
    Column("archived_url", lambda s, _: s.archived_url),
    Column("title", lambda s, _: s.title),
    Column("publisher", lambda s, _: s.publisher),
    _vocabulary("kind", SourceKind, lambda s: s.kind),
    Column("published_on", lambda s, _: s.published_on.isoformat(), pattern=PARTIAL_DATE),
    Column("language", lambda s, _: s.language),
    _vocabulary("reliability", Reliability, lambda s: s.reliability),
    Column("note", lambda s, _: s.note),
]

CITATION_COLUMNS: list[Column] = [
    Column("id", lambda c, _: c.id, field_type="integer"),
    Column("source_id", lambda c, _: c.source_id, field_type="integer"),
    _vocabulary("entity_type", EntityType, lambda c: c.entity_type),
    Column("entity_id", lambda c, _: c.entity_id, field_type="integer"),
    Column("field", lambda c, _: c.field),
    Column("quote", lambda c, _: c.quote),
    Column("locator", lambda c, _: c.locator),
    Column("claimed_value", lambda c, _: c.claimed_value),
    _vocabulary("confidence", Confidence, lambda c: c.confidence),
    Column("note", lambda c, _: c.note),
]


INDICATOR_COLUMNS: list[Column] = [
    Column("id", lambda i, _: i.id, field_type="integer"),
    Column("external_id", lambda i, _: i.external_id),
    Column("commitment_id", lambda i, _: i.commitment_id, field_type="integer"),
    Column(
        "commitment_external_id",
        lambda i, lookups: lookups["commitments"][i.commitment_id][0],
    ),
    Column("agreement", lambda i, lookups: lookups["commitments"][i.commitment_id][1]),
    Column("title", lambda i, _: i.title),
    Column("description", lambda i, _: i.description),
    _vocabulary("measure", IndicatorMeasure, lambda i: i.measure),
    Column("unit_label", lambda i, _: i.unit_label),
    Column("ascending", lambda i, _: i.ascending, field_type="boolean"),
    Column("baseline_value", lambda i, _: i.baseline_value, field_type="number"),
    Column("baseline_date", lambda i, _: i.baseline_date.isoformat(), pattern=PARTIAL_DATE),
    Column("baseline_comment", lambda i, _: i.baseline_comment),
    Column("baseline_source_ids", lambda i, _: i.baseline_source_ids, pattern=IDS),
    Column(
        "progress",
        lambda i, _: i.progress,
        field_type="number",
        description="0-100, from its latest actual; empty when none can be said.",
    ),
]

# One row a period: the indicators file's periods (its key: indicator_id and period).
INDICATOR_PERIOD_COLUMNS: list[Column] = [
    Column("indicator_id", lambda p, _: p.indicator_id, field_type="integer"),
    Column(
        "period",
        lambda p, _: p.position + 1,
        field_type="integer",
        description="Its place in the indicator's periods, from 1.",
    ),
    Column("start_date", lambda p, _: p.start_date.isoformat(), pattern=PARTIAL_DATE),
    Column("end_date", lambda p, _: p.end_date.isoformat(), pattern=PARTIAL_DATE),
    Column("target_value", lambda p, _: p.target_value, field_type="number"),
    Column("target_comment", lambda p, _: p.target_comment),
    Column("target_as_of", lambda p, _: p.target_as_of.isoformat(), pattern=PARTIAL_DATE),
    Column("target_source_ids", lambda p, _: p.target_source_ids, pattern=IDS),
    Column("actual_value", lambda p, _: p.actual_value, field_type="number"),
    Column("actual_comment", lambda p, _: p.actual_comment),
    Column("actual_as_of", lambda p, _: p.actual_as_of.isoformat(), pattern=PARTIAL_DATE),
    Column("actual_source_ids", lambda p, _: p.actual_source_ids, pattern=IDS),
    Column("progress", lambda p, _: p.progress, field_type="number"),
]


Exported = Any


def as_json(record: Exported, columns: list[Column], lookups: dict[str, Any]) -> dict[str, Any]:
    return {column.name: column.read(record, lookups) for column in columns}


def as_csv_cells(record: Exported, columns: list[Column], lookups: dict[str, Any]) -> list[str]:
    return [_text(column.read(record, lookups)) for column in columns]
