"""What the people's service functions take, typed: the fields their create and update
schemas load (one type serves both: an update names only the fields it changes, and a
create's schema has already required its own), and the filters their lists' query schemas
load. tests/unit/test_inputs.py holds each type to its schemas."""

from __future__ import annotations

from datetime import date
from typing import TypedDict

from service.core.dates import PartialDate


class PersonIn(TypedDict, total=False):
    slug: str
    name: str
    sort_name: str | None


class MembershipIn(TypedDict, total=False):
    person_id: int
    post_id: int | None
    organization_id: int | None
    role: str | None
    start_date: PartialDate | None
    end_date: PartialDate | None


class PersonFilters(TypedDict, total=False):
    q: str


class MembershipFilters(TypedDict, total=False):
    person: str
    organization: str
    post: int
    as_of: date
