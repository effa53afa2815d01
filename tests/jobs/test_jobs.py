"""Imports as background jobs: 202 and a Location, the job's state and report, who may read
it, retries, and the claim and lease that make each file apply once."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.assessments.models import StatusAssessment
from service.auth.services import create_api_key
from service.changes.models import ChangeEvent
from service.core.config import Settings, SettingsError
from service.core.db import utcnow
from service.core.vocabularies import EntityType, JobKind, JobState, Role
from service.jobs import running as job_running
from service.jobs import services as jobs
from service.jobs.models import Job
from service.jobs.running import claim_next, run_claimed, run_pending
from service.jobs.services import JobSettings
from tests import builders as build
from tests.conftest import client_with_key
from tests.jobs.running import run_jobs, submit

HEADER = "commitment_id,status,as_of,assessor_kind,source_ids\n"


def assessment_file(session: Session, rows: int = 3) -> tuple[bytes, int]:
    """A file of `rows` assessments of one new commitment, and that commitment's id."""
    commitment = build.make_commitment(session)
    source = build.make_source(session)
    line = f"{commitment.id},advanced,2024-03,official,{source.id}\n"
    return (HEADER + line * rows).encode(), commitment.id


def assessments_of(session: Session, commitment_id: int) -> int:
    session.expire_all()
    counted = select(func.count()).where(StatusAssessment.commitment_id == commitment_id)
    return session.scalar(counted) or 0


def job_row(session: Session, job_id: int) -> Job:
    session.expire_all()
    job = session.get(Job, job_id)
    assert job is not None
    return job


def settings_of(app: Flask) -> JobSettings:
    settings: JobSettings = app.extensions["job_settings"]
    return settings


def jobs_counted(kind: str, outcome: str) -> float:
    labels = {"kind": kind, "outcome": outcome}
    return REGISTRY.get_sample_value("policy_tracker_jobs_total", labels) or 0.0


def test_an_import_answers_202_with_the_job_and_runs_in_the_background(
    app: Flask, keys: dict[Role, str], session: Session
) -> None:
    editor = client_with_key(app, keys[Role.EDITOR])
    body, commitment_id = assessment_file(session, rows=3)
    response = submit(editor, "assessments", body, headers={"X-Request-ID": "bulk-load-7"})
    assert response.status_code == 202, response.json
    location = response.headers["Location"]
    assert location == f"/api/v1/jobs/{response.json['id']}"
    queued = response.json
    assert (queued["state"], queued["kind"], queued["dry_run"]) == (
        "queued",
        "import_assessments",
        False,
    )
    assert (queued["rows_total"], queued["rows_done"], queued["result"]) == (None, 0, None)
    assert queued["started_at"] is None and queued["finished_at"] is None
    assert editor.get(location).json["state"] == "queued"
    assert assessments_of(session, commitment_id) == 0  # nothing yet: the job has not run

    succeeded_before = jobs_counted("import_assessments", "succeeded")
    assert run_jobs(app) == 1
    job = editor.get(location).json
    assert job["state"] == "succeeded", job
    assert (job["rows_total"], job["rows_done"], job["attempts"], job["error"]) == (3, 3, 1, None)
    assert job["result"] == {
        "dry_run": False,
        "rows": 3,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "row_errors": [],
    }
    assert job["started_at"] <= job["finished_at"]
    assert assessments_of(session, commitment_id) == 3
    assert jobs_counted("import_assessments", "succeeded") == succeeded_before + 1
    # The file is dropped once the job has finished.
    assert job_row(session, job["id"]).payload is None
    # The change events name the key and the request that submitted the file, as a
    # synchronous import's did.
    created = session.scalars(
        select(StatusAssessment.id).where(StatusAssessment.commitment_id == commitment_id)
    ).all()
    events = session.scalars(
        select(ChangeEvent).where(
            ChangeEvent.entity == EntityType.ASSESSMENT, ChangeEvent.entity_id.in_(created)
        )
    ).all()
    assert {(e.actor, e.request_id) for e in events} == {("test editor", "bulk-load-7")}
    assert {e.actor_key_id for e in events} == {job_row(session, job["id"]).actor_key_id}
    assert all(e.actor_key_id is not None for e in events)


def test_bad_rows_fail_the_job_with_per_row_errors_and_write_nothing(
    client: FlaskClient, session: Session
) -> None:
    body, commitment_id = assessment_file(session, rows=2)
    bad = body + f"{commitment_id},finished,2024-03,official,\n".encode()
    response = submit(client, "assessments", bad)
    assert response.status_code == 202
    run_jobs(client.application)
    job = client.get(response.headers["Location"]).json
    assert job["state"] == "failed"
    assert job["error"] == "1 problem in the file; nothing was imported."
    assert [(e["row"], e["column"]) for e in job["result"]["row_errors"]] == [(4, "status")]
    assert (job["rows_total"], job["result"]["created"]) == (3, 0)
    assert assessments_of(session, commitment_id) == 0
    assert job_row(session, job["id"]).payload is None


def test_metrics_count_the_jobs_in_the_database_by_kind_and_state(
    client: FlaskClient, session: Session
) -> None:
    """Read from the jobs table at each scrape, so that any instance shows the failures of
    workers on any host, and the queue's depth."""

    def gauge(state: str) -> float:
        metrics = client.get("/metrics").get_data(as_text=True)
        line = f'policy_tracker_jobs{{kind="import_assessments",state="{state}"}} '
        found = [row for row in metrics.splitlines() if row.startswith(line)]
        return float(found[0].split()[-1]) if found else 0.0

    failed, queued = gauge("failed"), gauge("queued")
    body, commitment_id = assessment_file(session, rows=1)
    bad = body + f"{commitment_id},finished,2024-03,official,\n".encode()
    assert submit(client, "assessments", bad).status_code == 202
    assert gauge("queued") == queued + 1
    run_jobs(client.application)
    assert (gauge("queued"), gauge("failed")) == (queued, failed + 1)


def test_a_dry_run_is_a_job_that_reports_and_writes_nothing(
    client: FlaskClient, session: Session
) -> None:
    body, commitment_id = assessment_file(session, rows=4)
    response = submit(client, "assessments", body, dry_run="true")
    assert response.status_code == 202 and response.json["dry_run"] is True
    run_jobs(client.application)
    job = client.get(response.headers["Location"]).json
    assert job["state"] == "succeeded"
    assert job["result"]["dry_run"] is True and job["result"]["created"] == 4
    assert assessments_of(session, commitment_id) == 0


@pytest.mark.parametrize(
    ("body", "column"),
    [(b"commitment_id,status,as_of\n", "assessor_kind"), (b"status,\xff\n", "_row")],
    ids=["header", "not-utf8"],
)
def test_what_can_be_checked_at_once_is_a_422_and_no_job(
    client: FlaskClient, session: Session, body: bytes, column: str
) -> None:
    before = session.scalar(select(func.count()).select_from(Job))
    response = submit(client, "assessments", body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert column in {error["column"] for error in response.json["row_errors"]}
    assert session.scalar(select(func.count()).select_from(Job)) == before


def test_a_job_is_read_by_the_key_that_submitted_it_and_by_admins_only(
    app: Flask, keys: dict[Role, str], session: Session
) -> None:
    other_key = create_api_key(session, data={"name": "other editor", "role": Role.EDITOR}).key
    editor, other = client_with_key(app, keys[Role.EDITOR]), client_with_key(app, other_key)
    body, _commitment_id = assessment_file(session)
    location = submit(editor, "assessments", body).headers["Location"]
    job_id = int(location.rsplit("/", 1)[1])

    assert editor.get(location).status_code == 200
    assert [job["id"] for job in editor.get("/api/v1/jobs").json["items"]] == [job_id]
    # Another editor is told there is no such job, and does not see it listed.
    hidden = other.get(location)
    assert hidden.status_code == 404 and hidden.mimetype == "application/problem+json"
    assert other.get("/api/v1/jobs").json["items"] == []
    admin = client_with_key(app, keys[Role.ADMIN])
    assert admin.get(location).json["id"] == job_id
    assert job_id in [job["id"] for job in admin.get("/api/v1/jobs").json["items"]]
    assert client_with_key(app, keys[Role.READER]).get(location).status_code == 403
    assert client_with_key(app, None).get(location).status_code == 401
    # An id past the id column's range is a job that does not exist, not a database error.
    assert admin.get("/api/v1/jobs/1177003427653").status_code == 404


def test_the_job_list_is_paged_and_filtered(client: FlaskClient, session: Session) -> None:
    body, _commitment_id = assessment_file(session)
    for _ in range(3):
        assert submit(client, "assessments", body).status_code == 202
    first = client.get("/api/v1/jobs", query_string={"page_size": 2, "state": "queued"})
    assert len(first.json["items"]) == 2 and first.json["next_page_token"]
    rest = client.get(
        "/api/v1/jobs",
        query_string={
            "page_size": 2,
            "state": "queued",
            "page_token": first.json["next_page_token"],
        },
    )
    ids = [job["id"] for job in first.json["items"] + rest.json["items"]]
    assert len(ids) == 3 and ids == sorted(ids)
    assert client.get("/api/v1/jobs", query_string={"state": "done"}).status_code == 400


def test_a_retried_post_returns_the_same_job(client: FlaskClient, session: Session) -> None:
    body, commitment_id = assessment_file(session, rows=2)
    headers = {"Idempotency-Key": "nightly-load-1"}
    first = submit(client, "assessments", body, headers=headers)
    again = submit(client, "assessments", body, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert again.json["id"] == first.json["id"]
    assert run_jobs(client.application) == 1
    assert assessments_of(session, commitment_id) == 2


def test_a_job_whose_worker_died_is_taken_up_again_once_its_lease_expires(
    client: FlaskClient, session: Session
) -> None:
    body, commitment_id = assessment_file(session, rows=2)
    job_id = submit(client, "assessments", body).json["id"]
    settings = settings_of(client.application)
    factory = client.application.extensions["database"].session_factory
    # A worker claims the job, then dies without a word.
    dead = claim_next(session, settings, worker="dead-worker")
    assert dead is not None and dead.job_id == job_id
    # Within the lease nobody else takes it...
    assert run_pending(factory, settings) == 0
    assert job_row(session, job_id).state is JobState.RUNNING
    # ...after it, another worker does, and applies the file once.
    job_row(session, job_id).lease_expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    assert run_pending(factory, settings, worker="live-worker") == 1
    job = job_row(session, job_id)
    assert (job.state, job.attempts, job.claimed_by) == (JobState.SUCCEEDED, 2, "live-worker")
    assert assessments_of(session, commitment_id) == 2


def test_a_worker_that_lost_its_claim_writes_nothing(client: FlaskClient, session: Session) -> None:
    body, commitment_id = assessment_file(session, rows=2)
    job_id = submit(client, "assessments", body).json["id"]
    settings = settings_of(client.application)
    factory = client.application.extensions["database"].session_factory
    slow = claim_next(session, settings, worker="slow-worker")
    assert slow is not None
    # The slow worker's lease runs out and another worker claims the job...
    job_row(session, job_id).lease_expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    fast = claim_next(session, settings, worker="fast-worker")
    assert fast is not None and fast.attempt == 2
    # ...so when the slow one gets to the end, its work is rolled back.
    assert run_claimed(factory, slow, settings) is None
    assert assessments_of(session, commitment_id) == 0
    assert run_claimed(factory, fast, settings) is JobState.SUCCEEDED
    assert assessments_of(session, commitment_id) == 2


def test_a_job_is_given_up_after_its_attempts(client: FlaskClient, session: Session) -> None:
    body, commitment_id = assessment_file(session, rows=2)
    job_id = submit(client, "assessments", body).json["id"]
    settings = settings_of(client.application)
    failed_before = jobs_counted("import_assessments", "failed")
    for attempt in range(settings.max_attempts):
        claim = claim_next(session, settings, worker=f"crashing-{attempt}")
        assert claim is not None and claim.attempt == attempt + 1
        job_row(session, job_id).lease_expires_at = utcnow() - timedelta(seconds=1)
        session.commit()
    assert claim_next(session, settings, worker="one-more") is None
    job = client.get(f"/api/v1/jobs/{job_id}").json
    assert job["state"] == "failed" and job["attempts"] == settings.max_attempts
    assert f"Given up after {settings.max_attempts} attempts" in job["error"]
    assert "Nothing was written" in job["error"]
    assert assessments_of(session, commitment_id) == 0
    assert jobs_counted("import_assessments", "failed") == failed_before + 1


def test_an_unexpected_failure_fails_the_job_and_is_logged_with_its_id(
    client: FlaskClient,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body, commitment_id = assessment_file(session, rows=2)
    job_id = submit(client, "assessments", body).json["id"]

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    runner = jobs.RUNNERS[JobKind.IMPORT_ASSESSMENTS]
    monkeypatch.setitem(
        jobs.RUNNERS, JobKind.IMPORT_ASSESSMENTS, jobs._Runner(runner.check, broken)
    )
    failed_before = jobs_counted("import_assessments", "failed")
    with caplog.at_level(logging.ERROR, logger="service.jobs.running"):
        assert run_jobs(client.application) == 1
    job = client.get(f"/api/v1/jobs/{job_id}").json
    assert job["state"] == "failed" and "unexpectedly" in job["error"]
    assert "a bug" not in job["error"]  # no internals reach a client
    (record,) = [r for r in caplog.records if getattr(r, "fields", {}).get("job_id") == job_id]
    assert record.exc_info is not None
    assert jobs_counted("import_assessments", "failed") == failed_before + 1
    assert assessments_of(session, commitment_id) == 0


@pytest.mark.postgres_only
def test_the_heartbeat_writes_progress_and_extends_the_lease(
    client: FlaskClient, session: Session
) -> None:
    body, _commitment_id = assessment_file(session, rows=10)
    job_id = submit(client, "assessments", body).json["id"]
    settings = JobSettings(lease_seconds=30, progress_interval_seconds=0)
    factory = client.application.extensions["database"].session_factory
    claim = claim_next(session, settings, worker="w")
    assert claim is not None
    first_lease = job_row(session, job_id).lease_expires_at
    assert first_lease is not None
    heartbeat = job_running.Heartbeat(factory, claim, settings, rows_total=10)
    heartbeat(10)  # every row checked: half the work
    job = job_row(session, job_id)
    assert job.rows_done == 5 and job.lease_expires_at is not None
    assert job.lease_expires_at >= first_lease
    heartbeat(10)
    assert job_row(session, job_id).rows_done == 10
    # Once another worker has the job, the heartbeat stops the import.
    job_row(session, job_id).claimed_by = "someone else"
    session.commit()
    with pytest.raises(job_running.LeaseLost):
        heartbeat(1)


def test_the_worker_command_is_documented(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["worker", "--help"])
    assert result.exit_code == 0
    assert "--once" in result.output and "SIGTERM" in result.output


@pytest.mark.parametrize(
    ("name", "value"),
    [("JOB_LEASE_SECONDS", "0"), ("JOB_LEASE_SECONDS", "soon"), ("JOB_MAX_ATTEMPTS", "0")],
)
def test_job_settings_are_checked_at_start_up(name: str, value: str) -> None:
    environ = {"SECRET_KEY": "a-secret-key-for-this-test", name: value}
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(environ)
    assert Settings.from_env({"SECRET_KEY": "a-secret-key-for-this-test"}).job_max_attempts == 3


def test_the_lease_is_kept_through_steps_that_report_no_progress() -> None:
    """An import's longer steps call no progress callback: a thread extends the lease every
    third of it meanwhile, and stops when the job does."""
    import time as clock

    from sqlalchemy.orm import sessionmaker

    class CountedBeats(job_running.Heartbeat):
        beats = 0

        def beat(self, **values: Any) -> None:
            CountedBeats.beats += 1

    claim = job_running.Claim(job_id=1, kind=JobKind.IMPORT_ASSESSMENTS, attempt=1, worker="w")
    heartbeat = CountedBeats(sessionmaker(), claim, JobSettings(lease_seconds=0.3), rows_total=1)
    with heartbeat.keeping_the_lease():
        clock.sleep(0.55)  # a step with no progress: about five lease-thirds
    assert CountedBeats.beats >= 3
    after = CountedBeats.beats
    clock.sleep(0.25)
    assert CountedBeats.beats == after  # stopped with the block
