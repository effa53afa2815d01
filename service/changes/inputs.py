"""What the change feed's list takes: the filters its query schema loads, typed
(tests/unit/test_inputs.py holds the type to its schema)."""

from __future__ import annotations

from typing import TypedDict

from service.core.vocabularies import EntityType


class ChangeFilters(TypedDict, total=False):
    after: int
    entity: EntityType
    entity_id: int
    # How long to wait for a change when there is none yet: shapes the answer, not what it
    # holds (api.NOT_FILTERS).
    wait: int
    actor: str
    actor_key_id: int
