"""Background jobs for real: gunicorn takes the file, `flask --app service worker` processes
run it, one of them is killed (SIGKILL) in the middle of an import, and another takes the
job up once its lease has expired and applies every row exactly once, while writes elsewhere
go on and their webhooks are delivered."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from service.assessments.models import StatusAssessment
from service.core.db import make_engine
from service.core.vocabularies import Role
from tests.contract.conftest import (
    LIVE_SECRET_KEY,
    ROOT,
    a_source_id,
    make_keys,
    provisioned_database,
    start_gunicorn,
)
from tests.contract.webhook_receiver import WebhookReceiver, running_receiver

# Enough rows that the import takes a few seconds: long enough to be killed in the middle,
# and for writes elsewhere and a webhook's delivery to happen while it runs. PostgreSQL's
# import copies its rows in and recomputes set-wide (exchange.assessment_writes), so it
# needs ten times as many as SQLite's. (Its change events are written behind a fence, not
# under the feed's lock: writes elsewhere do not wait for them, whatever the file's size.)
POSTGRESQL_ROWS = 100_000
SQLITE_ROWS = 10_000
LEASE_SECONDS = 3


@pytest.fixture(scope="module")
def jobs_database(database_url: str, engine: object, tmp_path_factory: Any) -> Iterator[str]:
    """A database of its own: no other test's jobs for these workers to run."""
    with provisioned_database(database_url, tmp_path_factory) as url:
        yield url


def start_worker(database_url: str, log_path: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": LIVE_SECRET_KEY,
        "JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
    }
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "service", "worker", *args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with running_receiver() as server:
        yield server


def wait_for(
    what: str, check: Callable[[], Any], *, timeout: float, log_path: Path | None = None
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    logs = log_path.read_text() if log_path and log_path.exists() else ""
    pytest.fail(f"timed out waiting for {what}\n{logs[-3000:]}", pytrace=False)


def new_commitment(client: httpx.Client, name: str) -> int:
    agreement = client.post(
        "/agreements", json={"slug": name, "title": name, "doc_type": "mou"}
    ).json()
    commitment = client.post(
        f"/agreements/{agreement['id']}/commitments", json={"title": f"{name} commitment"}
    )
    assert commitment.status_code == 201, commitment.text
    return int(commitment.json()["id"])


def count_assessments(database_url: str, commitment_id: int) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            counted = select(func.count()).where(StatusAssessment.commitment_id == commitment_id)
            return int(connection.scalar(counted) or 0)
    finally:
        engine.dispose()


def test_a_job_survives_its_worker_being_killed_and_applies_once(
    jobs_database: str, tmp_path_factory: Any, is_postgresql: bool, receiver: WebhookReceiver
) -> None:
    rows = POSTGRESQL_ROWS if is_postgresql else SQLITE_ROWS
    keys = make_keys(jobs_database)
    logs = tmp_path_factory.mktemp("workers") / "workers.log"
    with start_gunicorn(
        jobs_database,
        tmp_path_factory,
        {
            "RATE_LIMIT_PER_MINUTE": "0",
            "ANONYMOUS_RATE_LIMIT_PER_MINUTE": "0",
            "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        },
    ) as base_url:
        client = httpx.Client(
            base_url=f"{base_url}/api/v1",
            headers={"Authorization": f"Bearer {keys[Role.EDITOR]}"},
            timeout=30,
        )
        source_id = a_source_id(client)
        imported_id = new_commitment(client, "imported-agreement")
        elsewhere_id = new_commitment(client, "written-meanwhile")
        line = f"{imported_id},advanced,2024-03,official,{source_id}\n"
        body = "commitment_id,status,as_of,assessor_kind,source_ids\n" + line * rows
        submitted = client.post(
            "/imports/assessments", content=body.encode(), headers={"Content-Type": "text/csv"}
        )
        assert submitted.status_code == 202, submitted.text
        location = submitted.headers["Location"]
        assert location.startswith("/api/v1/jobs/")

        def job() -> dict[str, Any]:
            return dict(httpx.get(base_url + location, headers=client.headers).json())

        first = start_worker(jobs_database, logs, "--interval", "0.2")
        try:
            # In the middle of the import: on PostgreSQL its progress shows; on SQLite the
            # import holds the database's one write lock, so only its start does.
            running = wait_for(
                "the import to be under way",
                lambda: (
                    (state := job())["state"] == "running"
                    and (state["rows_done"] > 0 if is_postgresql else state["rows_total"])
                    and state
                ),
                timeout=60,
                log_path=logs,
            )
            if not is_postgresql:
                time.sleep(0.5)
            assert running["rows_total"] == rows and running["rows_done"] < rows
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            if first.poll() is None:
                first.kill()
        # Nothing of the killed worker's import is applied, and the job waits for its lease.
        assert job()["state"] == "running"
        assert count_assessments(jobs_database, imported_id) == 0

        # The writes elsewhere below are heard by a webhook: the worker delivers them while
        # its job runs, not after it. (Each moves its commitment's current assessment; the
        # import moves its one commitment once, where its rows are each an assessment
        # created: a delivery each would outlast the `--once` run below.)
        subscribed = client.post(
            "/webhooks",
            json={
                "url": receiver.url,
                "secret": "jobs-live-receiver-secret-0123456789",
                "event_types": ["commitment.updated"],
            },
        )
        assert subscribed.status_code == 201, subscribed.text
        second = start_worker(jobs_database, logs, "--interval", "0.2")
        try:
            latencies = []
            while job()["state"] in ("queued", "running"):
                if is_postgresql:
                    # A write elsewhere must not wait for the import.
                    started = time.monotonic()
                    written = client.post(
                        f"/commitments/{elsewhere_id}/assessments",
                        json={
                            "status": "initiated",
                            "as_of": "2024-03",
                            "assessor_kind": "official",
                            "source_ids": [source_id],
                        },
                    )
                    latencies.append(time.monotonic() - started)
                    assert written.status_code == 201, written.text
                time.sleep(0.1)
                assert second.poll() is None, logs.read_text()[-3000:]
            done = job()
            assert done["state"] == "succeeded", done
            assert done["attempts"] == 2
            assert done["rows_done"] == done["rows_total"] == rows
            assert done["result"]["created"] == rows
            # Every row applied, and only once.
            assert count_assessments(jobs_database, imported_id) == rows
            if is_postgresql:
                assert latencies and max(latencies) < 1.0, sorted(latencies)[-5:]
                # Between this worker's claim and the job's end (finished_at is stamped in the
                # job's own transaction, before it commits).
                claimed = datetime.fromisoformat(done["started_at"])
                finished = datetime.fromisoformat(done["finished_at"])
                arrived = [delivery.arrived for delivery in receiver.received]
                assert [at for at in arrived if claimed < at < finished], (
                    claimed,
                    finished,
                    arrived,
                )
            # SIGTERM: the worker stops cleanly, between items.
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=15) == 0, logs.read_text()[-3000:]
        finally:
            if second.poll() is None:
                second.kill()

        # `--once` runs what is due and stops: here a dry run.
        dry = client.post(
            "/imports/assessments",
            params={"dry_run": "true"},
            content=(body.splitlines(keepends=True)[0] + line).encode(),
            headers={"Content-Type": "text/csv"},
        )
        assert dry.status_code == 202
        once = start_worker(jobs_database, logs, "--once")
        assert once.wait(timeout=60) == 0, logs.read_text()[-3000:]
        checked = httpx.get(base_url + dry.headers["Location"], headers=client.headers).json()
        assert checked["state"] == "succeeded" and checked["result"]["created"] == 1
        assert count_assessments(jobs_database, imported_id) == rows
