from __future__ import annotations

from service.api import Blueprint
from service.commitments import services
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
from service.resources import ResourceRoutes

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
commitments.list(
    "/commitments",
    services.list_commitments,
    "List commitments across agreements.",
    query_schema=AllCommitmentsQuerySchema,
    more_errors=[422],
)
commitments.list(
    "/agreements/<agreement_ref>/commitments",
    services.list_agreement_commitments,
    "List an agreement's commitments.",
    operation_id="list_agreement_commitments",
    nested=True,
    more_errors=[422],
)
commitments.create(
    "/agreements/<agreement_ref>/commitments",
    services.create_agreement_commitment,
    "Add a commitment to an agreement.",
    operation_id="create_agreement_commitment",
    location=lambda commitment: f"/commitments/{commitment.id}",
    nested=True,
    next_operations=[
        "create_commitment_assessment",
        "list_commitment_assessments",
        "create_commitment_actor",
        "list_commitment_actors",
        "list_commitment_children",
    ],
)
commitments.list(
    COMMITMENT + "/children",
    services.list_commitment_children,
    "List the commitments directly under one.",
    operation_id="list_commitment_children",
    nested=True,
    more_errors=[422],
)
commitments.get(
    COMMITMENT,
    services.get_commitment,
    "Get a commitment with its current (or `as_of`) status and progress.",
    query_schema=CommitmentAsOfSchema,
)
commitments.update(COMMITMENT, services.update_commitment, "Change a commitment's fields.")
commitments.delete(
    COMMITMENT, services.delete_commitment, "Delete a commitment and those under it (soft)."
)

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
actors.list(
    COMMITMENT + "/actors",
    services.list_commitment_actors,
    "List a commitment's actors.",
    nested=True,
)
actors.create(
    COMMITMENT + "/actors",
    services.create_commitment_actor,
    "Name an organization as an actor.",
    location=lambda actor: f"/commitments/{actor.commitment_id}/actors/{actor.id}",
    nested=True,
)
actors.get(ACTOR, services.get_commitment_actor, "Get one of a commitment's actors.")
actors.update(ACTOR, services.update_commitment_actor, "Change an actor's organization or role.")
actors.delete(ACTOR, services.delete_commitment_actor, "Remove an actor (soft).")
