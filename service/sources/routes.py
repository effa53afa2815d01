from __future__ import annotations

from service.core import writes
from service.core.pagination import Page, PageRequest
from service.http.api import Blueprint, get_session
from service.http.resources import ResourceRoutes
from service.sources import services
from service.sources.inputs import CitationFilters, CitationIn, SourceFilters, SourceIn
from service.sources.models import Citation, Source
from service.sources.schemas import (
    CitationCreateSchema,
    CitationQuerySchema,
    CitationSchema,
    CitationUpdateSchema,
    SourceCreateSchema,
    SourceQuerySchema,
    SourceSchema,
    SourceUpdateSchema,
)

blp = Blueprint(
    "sources",
    __name__,
    url_prefix="/api/v1",
    description="Where facts come from: statements, press reports, agreement texts.",
)
citations_blp = Blueprint(
    "citations",
    __name__,
    url_prefix="/api/v1",
    description="A source's support for one record or field, and what it claims.",
)

sources = ResourceRoutes(
    blp,
    name="source",
    identity={"source_id": "id"},
    plural="sources",
    schema=SourceSchema,
    create_schema=SourceCreateSchema,
    update_schema=SourceUpdateSchema,
    query_schema=SourceQuerySchema,
)


@sources.list("/sources")
def list_sources(page: PageRequest, filters: SourceFilters) -> Page[Source]:
    """List sources."""
    return services.list_sources(get_session(), page=page, filters=filters)


@sources.create("/sources", location=lambda source: f"/sources/{source.id}")
def create_source(body: SourceIn) -> Source:
    """Register a source."""
    return services.create_source(get_session(), data=body)


@sources.get("/sources/<int:source_id>")
def get_source(source_id: int) -> Source:
    """Get a source."""
    return services.get_source(get_session(), source_id=source_id)


@sources.update("/sources/<int:source_id>")
def update_source(source_id: int, body: SourceIn, check: writes.Check) -> Source:
    """Change a source's fields."""
    return services.update_source(get_session(), source_id=source_id, data=body, check=check)


@sources.delete("/sources/<int:source_id>")
def delete_source(source_id: int, check: writes.Check) -> None:
    """Delete a source (soft)."""
    services.delete_source(get_session(), source_id=source_id, check=check)


citations = ResourceRoutes(
    citations_blp,
    name="citation",
    identity={"citation_id": "id"},
    plural="citations",
    schema=CitationSchema,
    create_schema=CitationCreateSchema,
    update_schema=CitationUpdateSchema,
    query_schema=CitationQuerySchema,
)


@citations.list("/citations", more_errors=[422])
def list_citations(page: PageRequest, filters: CitationFilters) -> Page[Citation]:
    """List citations, by source or by the record they support."""
    return services.list_citations(get_session(), page=page, filters=filters)


@citations.create("/citations", location=lambda citation: f"/citations/{citation.id}")
def create_citation(body: CitationIn) -> Citation:
    """Cite a source for a record (and optionally one field)."""
    return services.create_citation(get_session(), data=body)


@citations.get("/citations/<int:citation_id>")
def get_citation(citation_id: int) -> Citation:
    """Get a citation."""
    return services.get_citation(get_session(), citation_id=citation_id)


@citations.update("/citations/<int:citation_id>")
def update_citation(citation_id: int, body: CitationIn, check: writes.Check) -> Citation:
    """Change a citation's fields."""
    return services.update_citation(get_session(), citation_id=citation_id, data=body, check=check)


@citations.delete("/citations/<int:citation_id>")
def delete_citation(citation_id: int, check: writes.Check) -> None:
    """Delete a citation (soft)."""
    services.delete_citation(get_session(), citation_id=citation_id, check=check)
