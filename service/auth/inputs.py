"""What the API keys' service functions take, typed: the fields their create and update
schemas load (one type serves both: an update names only the fields it changes, and a
create's schema has already required its own), and the filters their lists' query schemas
load. tests/unit/test_inputs.py holds each type to its schemas."""

from __future__ import annotations

from typing import TypedDict

from service.core.vocabularies import Role


class ApiKeyIn(TypedDict, total=False):
    name: str
    role: Role


class ApiKeyFilters(TypedDict, total=False):
    role: Role
    active: bool
