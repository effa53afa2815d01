from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service.api import Blueprint
from service.auth.http import caller_role, refuse_unless
from service.auth.permissions import read_role
from service.changes import services
from service.changes.models import ChangeEvent
from service.changes.schemas import ChangeEventQuerySchema, ChangeEventSchema
from service.pagination import Page, PageRequest
from service.resources import ResourceRoutes

blp = Blueprint(
    "changes",
    __name__,
    url_prefix="/api/v1",
    description="Every committed change, in commit order: the audit trail and the feed to mirror.",
)


def list_changes(
    session: Session, *, page: PageRequest, filters: dict[str, Any]
) -> Page[ChangeEvent]:
    # Without the filter, the changes of records the caller may not read are left out;
    # asking for them by name is refused, so an empty page never stands for "none".
    if "entity" in filters:
        entity = filters["entity"]
        refuse_unless(read_role(entity), f"Filtering the feed by entity={entity.value}")
    return services.list_changes(session, page=page, filters=filters, reader=caller_role())


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
    "admins only, changes to webhooks to editors and admins.",
    more_errors=[403],
)
