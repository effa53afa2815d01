"""A commitment's assessments: its implementation history, append-only."""

from __future__ import annotations

from service.assessments import services
from service.assessments.inputs import AssessmentFilters, AssessmentIn
from service.assessments.models import StatusAssessment
from service.assessments.schemas import (
    AssessmentCreateSchema,
    AssessmentQuerySchema,
    AssessmentSchema,
    AssessmentSearchSchema,
)
from service.core.pagination import Page, PageRequest
from service.http.api import Blueprint, get_session
from service.http.resources import ResourceRoutes

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


@assessments.list(COMMITMENT + "/assessments", nested=True, more_errors=[422])
def list_commitment_assessments(
    commitment_id: int, page: PageRequest, filters: AssessmentFilters
) -> Page[StatusAssessment]:
    """List a commitment's assessments: its implementation history."""
    return services.list_commitment_assessments(
        get_session(), page=page, filters=filters, commitment_id=commitment_id
    )


@assessments.list("/assessments", query_schema=AssessmentSearchSchema, more_errors=[422])
def list_assessments(page: PageRequest, filters: AssessmentFilters) -> Page[StatusAssessment]:
    """List every assessment, of any commitment: those a meeting reviewed (`meeting`), of an
    agreement, of a commitment. A filter naming no record is a 422."""
    return services.list_assessments(get_session(), page=page, filters=filters)


@assessments.create(
    COMMITMENT + "/assessments",
    nested=True,
    location=lambda assessment: f"/assessments/{assessment.id}",
)
def create_commitment_assessment(commitment_id: int, body: AssessmentIn) -> StatusAssessment:
    """Assess a commitment; to correct an assessment, post a new one that supersedes it."""
    return services.create_commitment_assessment(
        get_session(), commitment_id=commitment_id, data=body
    )


@assessments.get("/assessments/<int:assessment_id>")
def get_assessment(assessment_id: int) -> StatusAssessment:
    """Get an assessment."""
    return services.get_assessment(get_session(), assessment_id=assessment_id)
