"""A commitment as the API shows it: every answer that holds commitments (a read of one, a
page, the same as of a date, the answer to a create or an update) is made of
`CommitmentRow`s, and `CommitmentSchema` dumps nothing else. They are read with the columns
the schema shows and the live themes joined in the same statement, through SQLAlchemy
Core: loading ORM records (the identity map, instrumented attributes, a second statement or
a joined eager load for the themes) was most of a computed read's time (bench/notes.md).

Every value comes from the stored columns, as on a loaded `Commitment`. A test holds each
commitment shown equal to the same record loaded through the ORM (tests/api/test_commitments.py).
Writes change the ORM record, then answer with the row read back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from service.commitments.models import Commitment
from service.core.dates import PartialDate
from service.core.identifiers import MAX_ID
from service.core.pagination import Page, PageRequest, keyset_limited, page_of_rows
from service.core.vocabularies import ImplementationStatus
from service.progress.tables import COMMITMENTS, THEMES
from service.themes.models import commitment_themes

# What a commitment shows (CommitmentSchema): every column but the bookkeeping ones
# (deleted_at, status_progress, depth, due_by).
COLUMNS = tuple(
    COMMITMENTS.c[name]
    for name in (
        "id",
        "created_at",
        "updated_at",
        "agreement_id",
        "parent_id",
        "kind",
        "ref",
        "title",
        "text",
        "summary",
        "due_date",
        "due_date_precision",
        "verifiable",
        "weight",
        "progress_from_indicators",
        "external_id",
        "current_status",
        "current_progress",
        "current_assessment_id",
    )
)
# Their attribute names on the model: the table's `due_date` is `due_date_value` there.
_ATTRIBUTES = tuple("due_date_value" if c.key == "due_date" else c.key for c in COLUMNS)
_ID, _DUE_DATE, _PRECISION = (
    _ATTRIBUTES.index(name) for name in ("id", "due_date_value", "due_date_precision")
)


class ThemeName(NamedTuple):
    """A live theme of a commitment, as ThemeSummarySchema shows it."""

    id: int
    slug: str
    name: str


class CommitmentRow:
    """A commitment as the API shows it: its columns under the model's attribute names, its
    due date (the composite), its live themes in slug order (`live_themes`, and their
    `theme_slugs`), and the date its status is of (`as_of`: None for today's, the stored
    one)."""

    # Set from the row (every attribute of COLUMNS); these are the ones code reads by name.
    id: int
    agreement_id: int
    current_status: ImplementationStatus | None
    current_progress: float | None
    current_assessment_id: int | None
    live_themes: list[ThemeName]
    as_of: date | None = None

    def __init__(self, row: Sequence[Any], live_themes: list[ThemeName]) -> None:
        values = dict(zip(_ATTRIBUTES, row, strict=True))
        values["due_date"] = PartialDate(row[_DUE_DATE], row[_PRECISION])
        values["live_themes"] = live_themes
        self.__dict__ = values

    @property
    def theme_slugs(self) -> list[str]:
        return [theme.slug for theme in self.live_themes]

    def as_it_stood(
        self,
        when: date,
        *,
        status: ImplementationStatus | None,
        assessment_id: int | None,
        progress: float | None,
    ) -> CommitmentRow:
        """The same commitment with the status, assessment and progress it had on `when`."""
        past = object.__new__(CommitmentRow)
        past.__dict__ = {
            **self.__dict__,
            "current_status": status,
            "current_assessment_id": assessment_id,
            "current_progress": progress,
            "as_of": when,
        }
        return past


# Commitments with three more columns, the id, slug and name of each of their live themes: a
# commitment comes once per theme, in slug order, and once with nulls when it has none (a
# deleted theme's are null too). Built once, as the statements below: building a statement costs
# about as much as running it (service/core/records.py). A read adds which commitments it wants.
_WITH_THEMES = (
    select(*COLUMNS, THEMES.c.id, THEMES.c.slug, THEMES.c.name)
    .select_from(
        COMMITMENTS.outerjoin(
            commitment_themes, commitment_themes.c.commitment_id == COMMITMENTS.c.id
        ).outerjoin(
            THEMES, (THEMES.c.id == commitment_themes.c.theme_id) & THEMES.c.deleted_at.is_(None)
        )
    )
    .order_by(COMMITMENTS.c.id, THEMES.c.slug)
)
_THEME = len(COLUMNS)  # where a row's theme columns start
_ONE = _WITH_THEMES.where(
    COMMITMENTS.c.id == bindparam("commitment_id"), COMMITMENTS.c.deleted_at.is_(None)
)


def _commitments(rows: Sequence[Sequence[Any]]) -> list[CommitmentRow]:
    """One CommitmentRow per commitment, from rows as `_WITH_THEMES` gives them (grouped by
    commitment, a theme a row)."""
    found: list[CommitmentRow] = []
    last_id = None
    themes: list[ThemeName] = []
    for row in rows:
        if row[_ID] != last_id:
            last_id, themes = row[_ID], []
            found.append(CommitmentRow(row[:_THEME], themes))
        if row[_THEME] is not None:
            themes.append(ThemeName(*row[_THEME:]))
    return found


def read_commitment(session: Session, commitment_id: int) -> CommitmentRow | None:
    """The live commitment with this id, or None: one statement. A write answers with it
    too, read back after its commit."""
    if not 1 <= commitment_id <= MAX_ID:
        return None
    rows = session.connection().execute(_ONE, {"commitment_id": commitment_id})
    found = _commitments(rows.all())
    return found[0] if found else None


def read_page(session: Session, statement: Select[Any], page: PageRequest) -> Page[CommitmentRow]:
    """One page of the commitments `statement` selects (live ones, filtered), in id order
    after `page.after`: one statement, the page's ids chosen in a subquery."""
    limited = keyset_limited(statement.with_only_columns(Commitment.id), Commitment.id, page)
    if limited is None:
        return Page(items=[], next_key=None)
    query = _WITH_THEMES.where(COMMITMENTS.c.id.in_(limited))
    rows = session.connection().execute(query).all()
    return page_of_rows(_commitments(rows), "id", page.size)
