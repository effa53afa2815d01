"""The columns of the bulk files: what each commitment or agreement becomes in a CSV row or a
JSON line, and how a CSV row is read back. docs/csv-format.md describes each column."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from service.agreements.models import Agreement
from service.commitments.models import Commitment

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
    Column("id", lambda c, _: c.id, writable=False),
    Column("external_id", lambda c, _: c.external_id),
    Column("agreement", lambda c, lookups: lookups["agreement_slugs"][c.agreement_id]),
    Column("parent_external_id", lambda c, lookups: lookups["external_ids"].get(c.parent_id)),
    Column("parent_id", lambda c, _: c.parent_id),
    Column("kind", lambda c, _: c.kind.value),
    Column("ref", lambda c, _: c.ref),
    Column("title", lambda c, _: c.title),
    Column("text", lambda c, _: c.text),
    Column("summary", lambda c, _: c.summary),
    Column("themes", lambda c, _: c.theme_slugs),
    Column("due_date", lambda c, _: c.due_date.isoformat()),
    Column("verifiable", lambda c, _: c.verifiable),
    Column("weight", lambda c, _: c.weight),
    Column("current_status", lambda c, _: c.current_status.value, writable=False),
    Column("current_progress", lambda c, _: c.current_progress, writable=False),
]

AGREEMENT_COLUMNS: list[Column] = [
    Column("id", lambda a, _: a.id, writable=False),
    Column("slug", lambda a, _: a.slug),
    Column("external_id", lambda a, _: a.external_id),
    Column("title", lambda a, _: a.title),
    Column("short_title", lambda a, _: a.short_title),
    Column("aliases", lambda a, _: a.aliases),
    Column("doc_type", lambda a, _: a.doc_type.value),
    Column("binding", lambda a, _: a.binding.value),
    Column("text_availability", lambda a, _: a.text_availability.value),
    Column("summary", lambda a, _: a.summary),
    Column("text_url", lambda a, _: a.text_url),
    Column("language", lambda a, _: a.language),
    Column("themes", lambda a, _: a.theme_slugs),
    Column(
        "participants", lambda a, lookups: lookups["participants"].get(a.id, []), writable=False
    ),
    Column("lifecycle_status", lambda a, _: a.lifecycle_status.value, writable=False),
    Column("progress", lambda a, _: a.progress, writable=False),
]


def as_json(
    record: Commitment | Agreement, columns: list[Column], lookups: dict[str, Any]
) -> dict[str, Any]:
    return {column.name: column.read(record, lookups) for column in columns}


def as_csv_cells(
    record: Commitment | Agreement, columns: list[Column], lookups: dict[str, Any]
) -> list[str]:
    return [_text(column.read(record, lookups)) for column in columns]
