"""A commitment's assessments: its implementation history, append-only."""

from __future__ import annotations

from service.api import Blueprint
from service.assessments import services
from service.assessments.schemas import (
    AssessmentCreateSchema,
    AssessmentQuerySchema,
    AssessmentSchema,
)
from service.resources import ResourceRoutes

blp = Blueprint(
    "assessments",
    __name__,
    url_prefix="/api/v1",
    description="Judgements of a commitment's implementation, append-only.",
)

COMMITMENT = "/commitments/<int:commitment_id>"

assessments = ResourceRoutes(
    blp,
    name="assessment",
    identity={"assessment_id": "id"},
    plural="assessments",
    schema=AssessmentSchema,
    create_schema=AssessmentCreateSchema,
    query_schema=AssessmentQuerySchema,
)
assessments.list(
    COMMITMENT + "/assessments",
    services.list_commitment_assessments,
    "List a commitment's assessments: its implementation history.",
    operation_id="list_commitment_assessments",
    nested=True,
)
assessments.create(
    COMMITMENT + "/assessments",
    services.create_commitment_assessment,
    "Assess a commitment; to correct an assessment, post a new one that supersedes it.",
    operation_id="create_commitment_assessment",
    location=lambda assessment: f"/assessments/{assessment.id}",
    nested=True,
)
assessments.get("/assessments/<int:assessment_id>", services.get_assessment, "Get an assessment.")
