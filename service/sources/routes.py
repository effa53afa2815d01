from __future__ import annotations

from service.api import Blueprint
from service.resources import ResourceRoutes
from service.sources import services
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
sources.list("/sources", services.list_sources, "List sources.")
sources.create(
    "/sources",
    services.create_source,
    "Register a source.",
    location=lambda source: f"/sources/{source.id}",
)
sources.get("/sources/<int:source_id>", services.get_source, "Get a source.")
sources.update("/sources/<int:source_id>", services.update_source, "Change a source's fields.")
sources.delete("/sources/<int:source_id>", services.delete_source, "Delete a source (soft).")

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
citations.list(
    "/citations",
    services.list_citations,
    "List citations, by source or by the record they support.",
    more_errors=[422],
)
citations.create(
    "/citations",
    services.create_citation,
    "Cite a source for a record (and optionally one field).",
    location=lambda citation: f"/citations/{citation.id}",
)
citations.get("/citations/<int:citation_id>", services.get_citation, "Get a citation.")
citations.update(
    "/citations/<int:citation_id>", services.update_citation, "Change a citation's fields."
)
citations.delete(
    "/citations/<int:citation_id>", services.delete_citation, "Delete a citation (soft)."
)
