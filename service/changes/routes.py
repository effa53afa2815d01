from __future__ import annotations

import logging
import threading

from flask import current_app
from sqlalchemy.orm import Session

from service.api import Blueprint
from service.auth.http import caller_role, refuse_unless
from service.auth.permissions import read_role
from service.changes import services
from service.changes.inputs import ChangeFilters
from service.changes.models import ChangeEvent
from service.changes.schemas import ChangeEventQuerySchema, ChangeEventSchema
from service.errors import AtCapacity
from service.observability import LONG_POLL_REFUSALS
from service.pagination import Page, PageRequest
from service.resources import ResourceRoutes

blp = Blueprint(
    "changes",
    __name__,
    url_prefix="/api/v1",
    description="Every committed change, in commit order: the audit trail and the feed to mirror.",
)


LOG = logging.getLogger(__name__)
# Seconds a caller past the bound is told to wait before it asks again.
LONG_POLL_RETRY_AFTER = 5


class LongPollGate:
    """How many long polls this process holds at once (LONG_POLLS_PER_PROCESS). Past the
    bound a caller is told to come back (503 with Retry-After) rather than left to wait for
    a place: a long poll holds its worker thread or greenlet for up to `wait` seconds."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._places = threading.BoundedSemaphore(limit)

    def enter(self) -> None:
        if not self._places.acquire(blocking=False):
            LONG_POLL_REFUSALS.inc()
            LOG.warning("long poll refused: %d already held by this process", self.limit)
            raise AtCapacity(
                f"This server already holds {self.limit} long polls; ask again in "
                f"{LONG_POLL_RETRY_AFTER} seconds, or without `wait`.",
                retry_after=LONG_POLL_RETRY_AFTER,
            )

    def leave(self) -> None:
        self._places.release()


def list_changes(
    session: Session, *, page: PageRequest, filters: ChangeFilters
) -> Page[ChangeEvent]:
    # Without the filter, the changes of records the caller may not read are left out;
    # asking for them by name is refused, so an empty page never stands for "none".
    if "entity" in filters:
        entity = filters["entity"]
        refuse_unless(read_role(entity), f"Filtering the feed by entity={entity.value}")
    if not filters.get("wait"):
        return services.list_changes(session, page=page, filters=filters, reader=caller_role())
    gate: LongPollGate = current_app.extensions["long_polls"]
    gate.enter()
    try:
        return services.list_changes(
            session,
            page=page,
            filters=filters,
            reader=caller_role(),
            waiter=current_app.extensions["change_feed_head"],
        )
    finally:
        gate.leave()


changes = ResourceRoutes(
    blp,
    name="change",
    plural="changes",
    schema=ChangeEventSchema,
    query_schema=ChangeEventQuerySchema,
    # A long poll waits for the head to move: an answer kept for the same head would end it.
    # (And the answer depends on the caller's role, which the read cache does not key on.)
    cache_reads=False,
)
changes.list(
    "/changes",
    list_changes,
    "List changes in commit order; resume with `after`. Changes to API keys are listed to "
    "admins only, changes to webhooks to editors and admins. A long poll (`wait`) past the "
    "server's bound (LONG_POLLS_PER_PROCESS) is a 503 with Retry-After.",
    more_errors=[403],
)
