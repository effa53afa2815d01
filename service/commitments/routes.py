from __future__ import annotations

from datetime import date

from service.commitments import services
from service.commitments.inputs import (
    CommitmentActorFilters,
    CommitmentActorIn,
    CommitmentFilters,
    CommitmentIn,
)
from service.commitments.models import CommitmentActor
from service.commitments.rows import CommitmentRow
from service.commitments.schemas import (
    AllCommitmentsQuerySchema,
    CommitmentActorCreateSchema,
    CommitmentActorQuerySchema,
    CommitmentActorSchema,
    CommitmentActorUpdateSchema,
    CommitmentAsOfSchema,
    CommitmentCreateSchema,
    CommitmentQuerySchema,
    CommitmentSchema,
    CommitmentUpdateSchema,
)
from service.core import writes
from service.core.pagination import Page, PageRequest
from service.http.api import Blueprint, get_session
from service.http.resources import ResourceRoutes

blp = Blueprint(
    "commitments",
    __name__,
    url_prefix="/api/v1",
    description="Provisions, commitments and actions: the tree under each agreement.",
)
actors_blp = Blueprint(
    "commitment-actors",
    __name__,
    url_prefix="/api/v1",
    description="Organizations responsible for, implementing or benefiting from a commitment.",
)

COMMITMENT = "/commitments/<int:commitment_id>"

commitments = ResourceRoutes(
    blp,
    name="commitment",
    identity={"commitment_id": "id"},
    plural="commitments",
    schema=CommitmentSchema,
    create_schema=CommitmentCreateSchema,
    update_schema=CommitmentUpdateSchema,
    query_schema=CommitmentQuerySchema,
)


@commitments.list("/commitments", query_schema=AllCommitmentsQuerySchema, more_errors=[422])
def list_commitments(page: PageRequest, filters: CommitmentFilters) -> Page[CommitmentRow]:
    """List commitments across agreements."""
    return services.list_commitments(get_session(), page=page, filters=filters)


@commitments.list("/agreements/<agreement_ref>/commitments", nested=True, more_errors=[422])
def list_agreement_commitments(
    agreement_ref: str, page: PageRequest, filters: CommitmentFilters
) -> Page[CommitmentRow]:
    """List an agreement's commitments."""
    return services.list_agreement_commitments(
        get_session(), page=page, filters=filters, agreement_ref=agreement_ref
    )


@commitments.create(
    "/agreements/<agreement_ref>/commitments",
    nested=True,
    location=lambda commitment: f"/commitments/{commitment.id}",
    next_operations=[
        "create_commitment_assessment",
        "list_commitment_assessments",
        "create_commitment_actor",
        "list_commitment_actors",
        "list_commitment_children",
    ],
)
def create_agreement_commitment(agreement_ref: str, body: CommitmentIn) -> CommitmentRow:
    """Add a commitment to an agreement."""
    return services.create_agreement_commitment(
        get_session(), agreement_ref=agreement_ref, data=body
    )


@commitments.list(COMMITMENT + "/children", nested=True, more_errors=[422])
def list_commitment_children(
    commitment_id: int, page: PageRequest, filters: CommitmentFilters
) -> Page[CommitmentRow]:
    """List the commitments directly under one."""
    return services.list_commitment_children(
        get_session(), page=page, filters=filters, commitment_id=commitment_id
    )


@commitments.get(COMMITMENT, query_schema=CommitmentAsOfSchema)
def get_commitment(commitment_id: int, as_of: date | None = None) -> CommitmentRow:
    """Get a commitment with its current (or `as_of`) status and progress."""
    return services.get_commitment(get_session(), commitment_id=commitment_id, as_of=as_of)


@commitments.update(COMMITMENT)
def update_commitment(commitment_id: int, body: CommitmentIn, check: writes.Check) -> CommitmentRow:
    """Change a commitment's fields."""
    return services.update_commitment(
        get_session(), commitment_id=commitment_id, data=body, check=check
    )


@commitments.delete(COMMITMENT)
def delete_commitment(commitment_id: int, check: writes.Check) -> None:
    """Delete a commitment and those under it (soft)."""
    services.delete_commitment(get_session(), commitment_id=commitment_id, check=check)


actors = ResourceRoutes(
    actors_blp,
    name="commitment_actor",
    identity={"commitment_id": "commitment_id", "actor_id": "id"},
    plural="commitment_actors",
    schema=CommitmentActorSchema,
    create_schema=CommitmentActorCreateSchema,
    update_schema=CommitmentActorUpdateSchema,
    query_schema=CommitmentActorQuerySchema,
)
ACTOR = COMMITMENT + "/actors/<int:actor_id>"


@actors.list(COMMITMENT + "/actors", nested=True)
def list_commitment_actors(
    commitment_id: int, page: PageRequest, filters: CommitmentActorFilters
) -> Page[CommitmentActor]:
    """List a commitment's actors."""
    return services.list_commitment_actors(
        get_session(), page=page, filters=filters, commitment_id=commitment_id
    )


@actors.create(
    COMMITMENT + "/actors",
    nested=True,
    location=lambda actor: f"/commitments/{actor.commitment_id}/actors/{actor.id}",
)
def create_commitment_actor(commitment_id: int, body: CommitmentActorIn) -> CommitmentActor:
    """Name an organization as an actor."""
    return services.create_commitment_actor(get_session(), commitment_id=commitment_id, data=body)


@actors.get(ACTOR)
def get_commitment_actor(commitment_id: int, actor_id: int) -> CommitmentActor:
    """Get one of a commitment's actors."""
    return services.get_commitment_actor(
        get_session(), commitment_id=commitment_id, actor_id=actor_id
    )


@actors.update(ACTOR)
def update_commitment_actor(
    commitment_id: int, actor_id: int, body: CommitmentActorIn, check: writes.Check
) -> CommitmentActor:
    """Change an actor's organization or role."""
    return services.update_commitment_actor(
        get_session(), commitment_id=commitment_id, actor_id=actor_id, data=body, check=check
    )


@actors.delete(ACTOR)
def delete_commitment_actor(commitment_id: int, actor_id: int, check: writes.Check) -> None:
    """Remove an actor (soft)."""
    services.delete_commitment_actor(
        get_session(), commitment_id=commitment_id, actor_id=actor_id, check=check
    )
