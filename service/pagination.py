"""Keyset pagination: each page continues after the last key of the previous one, on an
indexed order, so page 2,000 costs what page 1 does (never OFFSET)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    after: Any
    size: int


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_key: Any


def keyset_page(
    session: Session,
    statement: Select[Any],
    key: InstrumentedAttribute[Any],
    page: PageRequest,
    *,
    as_rows: bool = False,
) -> Page[Any]:
    """One page of `statement` ordered by the unique `key`, after `page.after`: its records,
    or (`as_rows`, for a statement of columns) its rows."""
    if page.after is not None:
        if not isinstance(page.after, int):
            return Page(items=[], next_key=None)
        statement = statement.where(key > page.after)
    result = session.execute(statement.order_by(key).limit(page.size + 1))
    rows = list(result if as_rows else result.scalars())
    if len(rows) > page.size:
        rows = rows[: page.size]
        return Page(items=rows, next_key=getattr(rows[-1], key.key))
    return Page(items=rows, next_key=None)
