"""What the organizations' service functions take, typed: the fields their create and update
schemas load (one type serves both: an update names only the fields it changes, and a
create's schema has already required its own), and the filters their lists' query schemas
load. tests/unit/test_inputs.py holds each type to its schemas."""

from __future__ import annotations

from datetime import date
from typing import TypedDict

from service.core.vocabularies import OrganizationClassification


class OrganizationIn(TypedDict, total=False):
    slug: str
    name: str
    short_name: str | None
    classification: OrganizationClassification
    country_code: str | None
    parent_id: int | None


class PostIn(TypedDict, total=False):
    organization_id: int
    label: str


class OrganizationFilters(TypedDict, total=False):
    classification: OrganizationClassification
    country_code: str
    parent: str
    q: str


class PostFilters(TypedDict, total=False):
    organization: str
    as_of: date
