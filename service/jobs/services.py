"""Submitting and reading background jobs (jobs/running.py runs them; service/jobs/__init__.py
says how each job's work applies once)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.auth.permissions import OTHERS_JOBS_ROLE, allows
from service.core import writes
from service.core.errors import NotFound
from service.core.identifiers import MAX_ID
from service.core.pagination import Page, PageRequest, keyset_page
from service.core.vocabularies import JobKind, Role
from service.exchange import assessment_imports, decidim, imports, indicator_imports
from service.exchange.csv_files import ImportReport, count_rows
from service.jobs.inputs import JobFilters
from service.jobs.models import Job

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobSettings:
    # How long a claim lasts without a heartbeat; a worker that dies is replaced after it.
    lease_seconds: float = 60.0
    # Claims before a job is failed instead of being tried again.
    max_attempts: int = 3
    # The least time between two progress writes (each is a transaction of its own).
    progress_interval_seconds: float = 0.5
    # A job's statements may run longer than a request's (STATEMENT_TIMEOUT_MS): a large
    # file is checked and written in a few set-wide statements. Still bounded. 0: none.
    statement_timeout_ms: int = 600_000


@dataclass(frozen=True)
class _Runner:
    # Checks what can be checked at once (the header): raises ImportRefused.
    check: Callable[..., None]
    run: Callable[..., ImportReport]
    # How many rows the file holds, for the progress a job shows.
    count: Callable[[bytes], int] = count_rows


RUNNERS: dict[JobKind, _Runner] = {
    JobKind.IMPORT_COMMITMENTS: _Runner(imports.check_commitments_file, imports.import_commitments),
    JobKind.IMPORT_ASSESSMENTS: _Runner(
        assessment_imports.check_assessments_file, assessment_imports.import_assessments
    ),
    JobKind.IMPORT_DECIDIM_RESULTS: _Runner(
        decidim.check_decidim_file, decidim.import_decidim_results
    ),
    JobKind.IMPORT_INDICATORS: _Runner(
        indicator_imports.check_indicators_file,
        indicator_imports.import_indicators,
        indicator_imports.count_lines,
    ),
}


# --- submitting and reading ------------------------------------------------------------------


def submit_job(
    session: Session,
    *,
    kind: JobKind,
    body: bytes,
    dry_run: bool,
    options: dict[str, Any] | None = None,
) -> Job:
    """Check what can be checked of the file at once, then queue it as a job, on behalf of
    the session's actor (whose name the change events of the work will carry). `options`:
    plain JSON values, passed to the check and the run as keyword arguments."""
    RUNNERS[kind].check(body, **(options or {}))
    job = Job(
        kind=kind,
        dry_run=dry_run,
        options=options,
        payload=body,
        actor=session.info.get("actor"),
        actor_key_id=session.info.get("actor_key_id"),
        request_id=session.info.get("request_id"),
        service_request_id=session.info.get("service_request_id"),
    )
    session.add(job)
    writes.commit(session)
    return job


def _visible(statement: Any, key_id: int | None, role: Role | None) -> Any:
    """Only the jobs the caller submitted, unless its role may see everyone's: a job holds
    the file its submitter sent, and its errors quote it."""
    if allows(role, OTHERS_JOBS_ROLE):
        return statement
    return statement.where(Job.actor_key_id == key_id, Job.actor_key_id.is_not(None))


def get_job(session: Session, *, job_id: int, key_id: int | None, role: Role | None) -> Job:
    """The job, if the caller may see it; NotFound as well when it may not (never a 403,
    which would say that the job exists)."""
    job: Job | None = None
    if 1 <= job_id <= MAX_ID:
        job = session.scalars(_visible(select(Job).where(Job.id == job_id), key_id, role)).first()
    if job is None:
        raise NotFound(f"No job with id {job_id}.")
    return job


def list_jobs(
    session: Session,
    *,
    page: PageRequest,
    filters: JobFilters,
    key_id: int | None,
    role: Role | None,
) -> Page[Job]:
    statement = _visible(select(Job), key_id, role)
    for name in ("state", "kind"):
        if name in filters:
            statement = statement.where(getattr(Job, name) == filters[name])
    return keyset_page(session, statement, Job.id, page)


def count_jobs(session: Session) -> dict[tuple[str, ...], float]:
    """Jobs by (kind, state): the queue's depth, and the failures, whichever worker (on
    whichever host) ran them."""
    rows = session.execute(select(Job.kind, Job.state, func.count()).group_by(Job.kind, Job.state))
    return {(kind.value, state.value): float(count) for kind, state, count in rows}
