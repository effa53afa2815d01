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
    session: Session, statement: Select[Any], key: InstrumentedAttribute[Any], page: PageRequest
) -> Page[Any]:
    """One page of `statement` ordered by the unique `key`, after `page.after`."""
    if page.after is not None:
        if not isinstance(page.after, int):
            return Page(items=[], next_key=None)
        statement = statement.where(key > page.after)
    rows = list(session.scalars(statement.order_by(key).limit(page.size + 1)))
    if len(rows) > page.size:
        rows = rows[: page.size]
        return Page(items=rows, next_key=getattr(rows[-1], key.key))
    return Page(items=rows, next_key=None)
