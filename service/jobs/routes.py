from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service.api import Blueprint
from service.auth.http import current_caller
from service.jobs import services
from service.jobs.inputs import JobFilters
from service.jobs.models import Job
from service.jobs.schemas import JobQuerySchema, JobSchema
from service.pagination import Page, PageRequest
from service.resources import ResourceRoutes
from service.vocabularies import Role

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


def get_job(session: Session, *, job_id: int) -> Job:
    return services.get_job(session, job_id=job_id, **_caller())


def list_jobs(session: Session, *, page: PageRequest, filters: JobFilters) -> Page[Job]:
    return services.list_jobs(session, page=page, filters=filters, **_caller())


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
jobs.list("/jobs", list_jobs, "List the background jobs this key submitted (an admin's: all).")
jobs.get(
    "/jobs/<int:job_id>",
    get_job,
    "Get a background job: its state, rows done of rows total, and its report or errors.",
)
