"""What the sources' service functions take, typed: the fields their create and update
schemas load (one type serves both: an update names only the fields it changes, and a
create's schema has already required its own), and the filters their lists' query schemas
load. tests/unit/test_inputs.py holds each type to its schemas."""

from __future__ import annotations

from typing import TypedDict

from service.core.dates import PartialDate
from service.core.vocabularies import Confidence, EntityType, Reliability, SourceKind


class SourceIn(TypedDict, total=False):
    url: str
    archived_url: str | None
    title: str
    publisher: str | None
    kind: SourceKind
    published_on: PartialDate | None
    language: str | None
    reliability: Reliability
    note: str | None


class CitationIn(TypedDict, total=False):
    source_id: int
    entity_type: EntityType
    entity_id: int
    field: str | None
    quote: str | None
    locator: str | None
    claimed_value: str | None
    confidence: Confidence | None
    note: str | None


class SourceFilters(TypedDict, total=False):
    kind: SourceKind
    reliability: Reliability
    publisher: str
    q: str


class CitationFilters(TypedDict, total=False):
    source: int
    entity_type: EntityType
    entity_id: int
