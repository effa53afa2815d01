from __future__ import annotations

from typing import Any

from service.auth.http import current_caller
from service.core.pagination import Page, PageRequest
from service.core.vocabularies import Role
from service.http.api import Blueprint, get_session
from service.http.resources import ResourceRoutes
from service.jobs import services
from service.jobs.inputs import JobFilters
from service.jobs.models import Job
from service.jobs.schemas import JobQuerySchema, JobSchema

blp = Blueprint(
    "jobs",
    __name__,
    url_prefix="/api/v1",
    description="Long work run in the background (imports): its state, progress and report. "
    "A key sees the jobs it submitted; an admin sees all.",
)


def _caller() -> dict[str, Any]:
    caller = current_caller()
    return {
        "key_id": caller.key_id if caller else None,
        "role": caller.role if caller else None,
    }


jobs = ResourceRoutes(
    blp,
    name="job",
    plural="jobs",
    identity={"job_id": "id"},
    schema=JobSchema,
    query_schema=JobQuerySchema,
    # Jobs are submitted by writes: only editors (and admins) have any to read.
    read_role=Role.EDITOR,
)


@jobs.list("/jobs")
def list_jobs(page: PageRequest, filters: JobFilters) -> Page[Job]:
    """List the background jobs this key submitted (an admin's: all)."""
    return services.list_jobs(get_session(), page=page, filters=filters, **_caller())


@jobs.get("/jobs/<int:job_id>")
def get_job(job_id: int) -> Job:
    """Get a background job: its state, rows done of rows total, and its report or errors."""
    return services.get_job(get_session(), job_id=job_id, **_caller())
