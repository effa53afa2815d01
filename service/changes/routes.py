from __future__ import annotations

from service.api import Blueprint
from service.changes import services
from service.changes.schemas import ChangeEventQuerySchema, ChangeEventSchema
from service.resources import ResourceRoutes

blp = Blueprint(
    "changes",
    __name__,
    url_prefix="/api/v1",
    description="Every committed change, in commit order: the audit trail and the feed to mirror.",
)

changes = ResourceRoutes(
    blp,
    name="change",
    plural="changes",
    schema=ChangeEventSchema,
    query_schema=ChangeEventQuerySchema,
    # A long poll waits for the head to move: an answer kept for the same head would end it.
    cache_reads=False,
)
changes.list(
    "/changes", services.list_changes, "List changes in commit order; resume with `after`."
)
