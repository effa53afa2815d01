"""What the webhooks' service functions take, typed: the fields their create and update
schemas load (one type serves both: an update names only the fields it changes, and a
create's schema has already required its own), and the filters their lists' query schemas
load. tests/unit/test_inputs.py holds each type to its schemas."""

from __future__ import annotations

from typing import TypedDict

from service.core.vocabularies import DeliveryStatus


class WebhookIn(TypedDict, total=False):
    url: str
    secret: str
    # Members of webhooks.events.WebhookEventType, an enum built at import time from the
    # entity types, which a type checker cannot see: its members are strings.
    event_types: list[str]
    active: bool
    description: str | None


class WebhookFilters(TypedDict, total=False):
    active: bool


class WebhookDeliveryFilters(TypedDict, total=False):
    status: DeliveryStatus
