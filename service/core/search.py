"""Full-text `q`: PostgreSQL full-text search where available, a word match on SQLite."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal_column, or_
from sqlalchemy.orm import Session


def text_match(
    session: Session, document_sql: str, columns: list[Any], query: str
) -> ColumnElement[bool]:
    """A condition true for rows whose text matches `query`.

    On PostgreSQL, `document_sql` is the same expression as the table's GIN index, so the
    index serves the search, and `query` has web-search syntax ("space -launch", quotes).
    On SQLite every word must appear, in any of `columns`, ignoring case.
    """
    if session.get_bind().dialect.name == "postgresql":
        return literal_column(document_sql).op("@@")(func.websearch_to_tsquery("english", query))
    words = query.split() or [query]
    return and_(
        *(or_(*(column.icontains(word, autoescape=True) for column in columns)) for word in words)
    )
