from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

from flask import current_app

from service.auth.http import caller_role, refuse_unless
from service.auth.permissions import read_role
from service.changes import services
from service.changes.inputs import ChangeFilters
from service.changes.models import ChangeEvent
from service.changes.schemas import ChangeEventQuerySchema, ChangeEventSchema, ChangeHeadSchema
from service.core.errors import AtCapacity
from service.core.pagination import Page, PageRequest
from service.http.api import Blueprint, get_session
from service.http.observability import LONG_POLL_REFUSALS
from service.http.resources import ResourceRoutes

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

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """A place for as long as the block runs, or AtCapacity at once."""
        self.enter()
        try:
            yield
        finally:
            self.leave()


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


# The feed's head: where a follower that wants only what comes next starts from. Not kept
# by the read cache: it moves with every change, and with the caller's role.
head = ResourceRoutes(
    blp, name="change_head", plural="changes", schema=ChangeHeadSchema, cache_reads=False
)


@head.get("/changes/head")
def get_change_head() -> dict[str, int]:
    """Get the seq of the latest change the caller may read, to follow the feed from."""
    return services.change_head(get_session(), reader=caller_role())


@changes.list("/changes", more_errors=[403])
def list_changes(page: PageRequest, filters: ChangeFilters) -> Page[ChangeEvent]:
    """List changes in commit order; resume with `after`. Changes to API keys are listed to admins only, changes to webhooks to editors and admins. A long poll (`wait`) past the server's bound (LONG_POLLS_PER_PROCESS) is a 503 with Retry-After."""
    # Without the filter, the changes of records the caller may not read are left out;
    # asking for them by name is refused, so an empty page never stands for "none".
    if "entity" in filters:
        entity = filters["entity"]
        refuse_unless(read_role(entity), f"Filtering the feed by entity={entity.value}")
    if not filters.get("wait"):
        return services.list_changes(
            get_session(), page=page, filters=filters, reader=caller_role()
        )
    gate: LongPollGate = current_app.extensions["long_polls"]
    with gate.held():
        return services.list_changes(
            get_session(),
            page=page,
            filters=filters,
            reader=caller_role(),
            waiter=current_app.extensions["change_feed_head"],
        )
