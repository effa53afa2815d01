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


def keyset_limited(
    statement: Select[Any], key: InstrumentedAttribute[Any], page: PageRequest
) -> Select[Any] | None:
    """`statement` ordered by the unique `key`, after `page.after`, limited to one row more
    than the page (which tells whether a next page exists); None when `page.after` cannot
    be a key (the page is empty)."""
    if page.after is not None:
        if not isinstance(page.after, int):
            return None
        statement = statement.where(key > page.after)
    return statement.order_by(key).limit(page.size + 1)


def page_of_rows(rows: list[T], key: str, size: int) -> Page[T]:
    """The page of a `keyset_limited` statement's results: at most `size` of them, and the
    key (the attribute `key` of the last) to continue from when there are more."""
    if len(rows) > size:
        rows = rows[:size]
        return Page(items=rows, next_key=getattr(rows[-1], key))
    return Page(items=rows, next_key=None)


def keyset_page(
    session: Session,
    statement: Select[Any],
    key: InstrumentedAttribute[Any],
    page: PageRequest,
) -> Page[Any]:
    """One page of `statement`'s records, ordered by the unique `key`, after `page.after`."""
    limited = keyset_limited(statement, key, page)
    if limited is None:
        return Page(items=[], next_key=None)
    return page_of_rows(list(session.scalars(limited)), key.key, page.size)
