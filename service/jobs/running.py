"""Running background jobs: the claim, the heartbeat and the finish that make each job's work
apply once (service/jobs/__init__.py says how)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import Counter
from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.orm import Session, sessionmaker, undefer

from service.core.db import begin_write, utcnow
from service.core.vocabularies import JobKind, JobState
from service.exchange.csv_files import ImportRefused, ImportReport
from service.jobs.models import Job
from service.jobs.services import RUNNERS, JobSettings

log = logging.getLogger(__name__)

# Counted in every process that runs jobs; under PROMETHEUS_MULTIPROC_DIR (shared with
# gunicorn, as `make run` does) /metrics sums them with the app's own.
JOBS = Counter(
    "policy_tracker_jobs_total",
    "Background jobs finished, by kind and outcome (succeeded or failed).",
    ["kind", "outcome"],
)


def worker_name() -> str:
    """Who holds a claim: host, process and a random part, unique among live workers."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Claim:
    job_id: int
    kind: JobKind
    attempt: int
    worker: str


class LeaseLost(Exception):
    """Another worker has claimed the job since (this one's lease expired): its work must
    not commit."""


def claim_next(
    session: Session,
    settings: JobSettings,
    *,
    worker: str,
    now: Callable[[], datetime] = utcnow,
) -> Claim | None:
    """Claim the oldest job that is queued, or running under an expired lease; None when
    there is none. Jobs claimed `max_attempts` times already are failed on the way."""
    begin_write(session)
    given_up: list[Job] = []
    while True:
        moment = now()
        job = session.scalars(
            select(Job)
            .where(
                or_(
                    Job.state == JobState.QUEUED,
                    and_(Job.state == JobState.RUNNING, Job.lease_expires_at <= moment),
                )
            )
            .order_by(Job.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if job is None or job.attempts < settings.max_attempts:
            break
        _finish(
            job,
            JobState.FAILED,
            error=(
                f"Given up after {job.attempts} attempts: each time, the worker running it "
                "stopped before the end (it was killed, or ran out of memory). Nothing was "
                "written. Split the file, or ask an operator to look at the workers' logs."
            ),
            moment=moment,
        )
        given_up.append(job)
    claim = None
    if job is not None:
        job.state = JobState.RUNNING
        job.attempts += 1
        job.claimed_by = worker
        job.lease_expires_at = moment + timedelta(seconds=settings.lease_seconds)
        job.started_at = moment
        job.rows_done = 0
        claim = Claim(job.id, job.kind, job.attempts, worker)
    session.commit()
    for failed in given_up:
        _count(failed.kind, JobState.FAILED)
        log.error(
            "job %s given up after %s attempts",
            failed.id,
            failed.attempts,
            extra={"fields": {"job_id": failed.id, "kind": failed.kind.value}},
        )
    return claim


def _finish(
    job: Job,
    state: JobState,
    *,
    moment: datetime,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    job.state = state
    job.result = result
    job.error = error[:2000] if error else None
    job.finished_at = moment
    job.lease_expires_at = None
    # The file is not needed any more: a finished job is never run again.
    job.payload = None


def _count(kind: JobKind, outcome: JobState) -> None:
    JOBS.labels(kind.value, outcome.value).inc()


def _claimed(claim: Claim) -> Any:
    """The job's row, while this claim is still its latest."""
    return and_(
        Job.id == claim.job_id,
        Job.state == JobState.RUNNING,
        Job.claimed_by == claim.worker,
        Job.attempts == claim.attempt,
    )


class Heartbeat:
    """The progress callback of a running job: counts the import's steps (two a row) and,
    at most every `progress_interval_seconds`, writes the rows done and extends the lease
    in a short transaction of its own. Raises LeaseLost once another worker has the job."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        claim: Claim,
        settings: JobSettings,
        *,
        rows_total: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session_factory = session_factory
        self.claim = claim
        self.settings = settings
        self.rows_total = rows_total
        self.clock = clock
        self.steps = 0
        self.last_beat = clock()
        # On SQLite the import's transaction holds the database's one write lock: a write
        # beside it would wait for it. No other worker can claim the job meanwhile either.
        bind = session_factory.kw.get("bind")
        self.enabled = bind is None or bind.dialect.name != "sqlite"

    def __call__(self, steps: int) -> None:
        self.steps += steps
        if self.clock() - self.last_beat >= self.settings.progress_interval_seconds:
            self.beat()

    @property
    def rows_done(self) -> int:
        return min(self.steps // 2, self.rows_total)

    @contextmanager
    def keeping_the_lease(self) -> Iterator[None]:
        """While the block runs, extend the lease every third of it from a thread of its
        own as well: an import's longer steps (resolving references, recomputing progress)
        call no progress callback, and a lease that ran out meanwhile would let another
        worker start the job over."""
        stop = threading.Event()

        def keep() -> None:
            while not stop.wait(self.settings.lease_seconds / 3):
                try:
                    self.beat()
                except LeaseLost:
                    return  # the import finds out at its next step, or at its finish
                except Exception:
                    log.warning("job %s: the lease could not be extended", self.claim.job_id)

        keeper = threading.Thread(target=keep, name=f"job-{self.claim.job_id}-lease", daemon=True)
        if self.enabled:
            keeper.start()
        try:
            yield
        finally:
            stop.set()
            if keeper.is_alive():
                keeper.join()

    def beat(self, **values: Any) -> None:
        self.last_beat = self.clock()
        if not self.enabled and not values:
            return
        lease = utcnow() + timedelta(seconds=self.settings.lease_seconds)
        with self.session_factory() as session:
            result = session.execute(
                update(Job)
                .where(_claimed(self.claim))
                .values(rows_done=self.rows_done, lease_expires_at=lease, **values)
            )
            session.commit()
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise LeaseLost


def run_claimed(
    session_factory: sessionmaker[Session], claim: Claim, settings: JobSettings
) -> JobState | None:
    """Run a claimed job to its end: succeeded or failed, or None when the claim was lost
    (another worker runs the job now) and this run wrote nothing."""
    with session_factory() as session:
        job = session.get(Job, claim.job_id, options=[undefer(Job.payload)])
        assert job is not None
        body, dry_run, options = job.payload or b"", job.dry_run, job.options or {}
        who = {
            "actor": job.actor,
            "actor_key_id": job.actor_key_id,
            "request_id": job.request_id,
            "service_request_id": job.service_request_id,
        }
    rows_total = RUNNERS[claim.kind].count(body)
    heartbeat = Heartbeat(session_factory, claim, settings, rows_total=rows_total)
    fields = {"job_id": claim.job_id, "kind": claim.kind.value, "attempt": claim.attempt}
    try:
        heartbeat.beat(rows_total=heartbeat.rows_total)
        with heartbeat.keeping_the_lease(), session_factory() as session:
            session.info.update(who)
            begin_write(session)
            if session.get_bind().dialect.name == "postgresql":
                session.execute(
                    text("SELECT set_config('statement_timeout', :ms, true)"),
                    {"ms": str(settings.statement_timeout_ms)},
                )

            def succeed(report: ImportReport) -> None:
                # In the import's own transaction: its writes and this commit together. (A
                # dry run's was rolled back: this one only finishes the job.)
                begin_write(session)
                job = session.scalars(select(Job).where(_claimed(claim)).with_for_update()).first()
                if job is None:
                    raise LeaseLost
                _finish(job, JobState.SUCCEEDED, moment=utcnow(), result=_report(report))
                job.rows_done = heartbeat.rows_total

            RUNNERS[claim.kind].run(
                session, body, dry_run=dry_run, on_row=heartbeat, finish=succeed, **options
            )
    except LeaseLost:
        log.warning(
            "job %s: claimed by another worker; this run wrote nothing",
            claim.job_id,
            extra={"fields": fields},
        )
        return None
    except ImportRefused as refused:
        return _fail(session_factory, claim, refused.detail, _report(refused.report), heartbeat)
    except Exception:
        log.exception("job %s failed", claim.job_id, extra={"fields": fields})
        return _fail(
            session_factory,
            claim,
            "The job failed unexpectedly and nothing was written; the service's log says why "
            f"(job {claim.job_id}).",
            None,
            heartbeat,
        )
    _count(claim.kind, JobState.SUCCEEDED)
    log.info("job %s succeeded", claim.job_id, extra={"fields": fields})
    return JobState.SUCCEEDED


def _fail(
    session_factory: sessionmaker[Session],
    claim: Claim,
    error: str,
    result: dict[str, Any] | None,
    heartbeat: Heartbeat,
) -> JobState | None:
    with session_factory() as session:
        job = session.scalars(select(Job).where(_claimed(claim)).with_for_update()).first()
        if job is None:
            return None
        _finish(job, JobState.FAILED, moment=utcnow(), result=result, error=error)
        job.rows_done = heartbeat.rows_done
        session.commit()
    _count(claim.kind, JobState.FAILED)
    return JobState.FAILED


def _report(report: ImportReport) -> dict[str, Any]:
    document = asdict(report)
    document["row_errors"] = document.pop("errors")
    return document


def run_pending(
    session_factory: sessionmaker[Session],
    settings: JobSettings,
    *,
    worker: str | None = None,
    limit: int | None = None,
) -> int:
    """Claim and run the jobs that are due, one at a time, until none is left (or `limit`
    have run); return how many ran. The worker's loop, and what tests and the benchmark
    call to run what they submitted."""
    worker = worker or worker_name()
    ran = 0
    while limit is None or ran < limit:
        with session_factory() as session:
            claim = claim_next(session, settings, worker=worker)
        if claim is None:
            break
        run_claimed(session_factory, claim, settings)
        ran += 1
    return ran
