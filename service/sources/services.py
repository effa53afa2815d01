from __future__ import annotations

from typing import Any

from sqlalchemy import or_
from sqlalchemy.orm import Session

from service.core import records, writes
from service.core.dates import unknown_if_cleared
from service.core.errors import InvalidInput
from service.core.pagination import Page, PageRequest, keyset_page
from service.core.vocabularies import EntityType
from service.schemas import SHOWN_FIELDS
from service.sources.inputs import CitationFilters, CitationIn, SourceFilters, SourceIn
from service.sources.models import Citation, Source

SOURCE = EntityType.SOURCE
CITATION = EntityType.CITATION


def list_sources(session: Session, *, page: PageRequest, filters: SourceFilters) -> Page[Source]:
    statement = records.live(Source)
    if "kind" in filters:
        statement = statement.where(Source.kind == filters["kind"])
    if "publisher" in filters:
        statement = statement.where(Source.publisher == filters["publisher"])
    if "reliability" in filters:
        statement = statement.where(Source.reliability == filters["reliability"])
    if "q" in filters:
        statement = statement.where(
            or_(
                Source.title.icontains(filters["q"], autoescape=True),
                Source.publisher.icontains(filters["q"], autoescape=True),
            )
        )
    return keyset_page(session, statement, Source.id, page)


def get_source(session: Session, *, source_id: int) -> Source:
    return records.find(session, Source, SOURCE, source_id)


def _source_values(data: SourceIn) -> dict[str, Any]:
    values: dict[str, Any] = dict(data)
    unknown_if_cleared(values, "published_on")
    return values


def create_source(session: Session, *, data: SourceIn) -> Source:
    records.ensure_unique(session, Source, SOURCE, "url", data["url"])
    source = writes.add(session, Source(**_source_values(data)), SOURCE)
    writes.commit(session)
    return source


def update_source(
    session: Session, *, source_id: int, data: SourceIn, check: writes.Check
) -> Source:
    source = records.find(session, Source, SOURCE, source_id, for_update=True)
    check(source)
    if "url" in data:
        records.ensure_unique(session, Source, SOURCE, "url", data["url"], exclude_id=source.id)
    writes.record_update(session, source, SOURCE, writes.assign(source, _source_values(data)))
    writes.commit(session)
    return source


def delete_source(session: Session, *, source_id: int, check: writes.Check) -> None:
    source = records.find(session, Source, SOURCE, source_id, for_update=True)
    check(source)
    writes.soft_delete(session, source, SOURCE)
    writes.commit(session)


def list_citations(
    session: Session, *, page: PageRequest, filters: CitationFilters
) -> Page[Citation]:
    statement = records.live(Citation)
    if "source" in filters:
        # A source that does not exist is the client's error, not an empty list.
        source = records.referenced(session, Source, SOURCE, filters["source"], "source")
        statement = statement.where(Citation.source_id == source.id)
    if "entity_type" in filters:
        statement = statement.where(Citation.entity_type == filters["entity_type"])
    if "entity_id" in filters:
        statement = statement.where(Citation.entity_id == filters["entity_id"])
    return keyset_page(session, statement, Citation.id, page)


def get_citation(session: Session, *, citation_id: int) -> Citation:
    return records.find(session, Citation, CITATION, citation_id)


def _check_citation(session: Session, values: CitationIn, current: Citation | None) -> None:
    from service.models import MODEL_BY_ENTITY

    if "source_id" in values:
        records.referenced(session, Source, SOURCE, values["source_id"], "source_id")
    entity_type = values.get("entity_type", current.entity_type if current else None)
    entity_id = values.get("entity_id", current.entity_id if current else None)
    if entity_type is None or entity_id is None:
        raise InvalidInput(
            "A citation names the record it supports.", errors={"entity_id": ["Required."]}
        )
    if entity_type in (EntityType.API_KEY, EntityType.WEBHOOK):
        message = "Citations support data, not the service's own settings."
        raise InvalidInput(message, errors={"entity_type": [message]})
    records.referenced(session, MODEL_BY_ENTITY[entity_type], entity_type, entity_id, "entity_id")
    field = values.get("field", current.field if current else None)
    if field is not None and field not in SHOWN_FIELDS[entity_type]:
        message = f"The {records.entity_label(entity_type)} record has no field {field!r}."
        raise InvalidInput(message, errors={"field": [message]})


def create_citation(session: Session, *, data: CitationIn) -> Citation:
    _check_citation(session, data, None)
    citation = writes.add(session, Citation(**data), CITATION)
    writes.commit(session)
    return citation


def update_citation(
    session: Session, *, citation_id: int, data: CitationIn, check: writes.Check
) -> Citation:
    citation = records.find(session, Citation, CITATION, citation_id, for_update=True)
    check(citation)
    _check_citation(session, data, citation)
    writes.record_update(session, citation, CITATION, writes.assign(citation, data))
    writes.commit(session)
    return citation


def delete_citation(session: Session, *, citation_id: int, check: writes.Check) -> None:
    citation = records.find(session, Citation, CITATION, citation_id, for_update=True)
    check(citation)
    writes.soft_delete(session, citation, CITATION)
    writes.commit(session)
