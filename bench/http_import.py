"""`python -m bench http-import`: the benchmark's whole assessment file imported as a client
imports it (issue 16): one request to `POST /api/v1/imports/assessments` on gunicorn with
the production config, then the job it became followed to its end while one
`flask --app service worker` runs it.

It runs on a scratch copy of the benchmark's database (`CREATE DATABASE ... TEMPLATE`), so
the data every other benchmark measures stay as they are; the copy is dropped at the end,
whatever happened."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import httpx
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bench.dataset import Scale, assessments_csv
from bench.run import ROOT, gunicorn, service_env

LOGS = ROOT / "var" / "bench"
IMPORT_PATH = "/api/v1/imports/assessments"
# Sessions on the source database may be closing (the generator's pool, say): how long to
# wait for them to go before refusing to copy it.
QUIET_SECONDS = 10.0
POLL_SECONDS = 1.0
WRITE_EVERY_SECONDS = 0.2
ENDED = {"succeeded", "failed"}


@dataclass(frozen=True)
class Outcome:
    """What one import through the API did, and how long each part of it took."""

    job_id: int
    state: str
    rows_done: int
    rows_total: int | None
    megabytes: float
    upload_seconds: float
    queue_seconds: float | None
    run_seconds: float | None
    total_seconds: float
    assessments_before: int
    assessments_after: int
    result: dict[str, Any] | None
    error: str | None
    # How long each write elsewhere (a theme created through the API every
    # WRITE_EVERY_SECONDS while the import ran) took, in seconds.
    write_seconds: tuple[float, ...] = ()
    # The statuses of those that did not answer 201 (0: no answer).
    write_failures: tuple[int, ...] = ()

    @property
    def added(self) -> int:
        return self.assessments_after - self.assessments_before

    def summary(self, expected_rows: int) -> str:
        def seconds(value: float | None) -> str:
            return "-" if value is None else f"{value:.1f} s"

        total = "?" if self.rows_total is None else f"{self.rows_total:,}"
        line = (
            f"http-import: job {self.job_id} {self.state}, {self.rows_done:,} of {total} rows; "
            f"upload {self.megabytes:.1f} MB in {seconds(self.upload_seconds)}, "
            f"queued {seconds(self.queue_seconds)}, ran {seconds(self.run_seconds)}, "
            f"total {seconds(self.total_seconds)}; assessments {self.assessments_before:,} -> "
            f"{self.assessments_after:,} ({self.added:+,}, expected {expected_rows:+,})"
        )
        if self.write_seconds:
            waits = sorted(self.write_seconds)
            line += (
                f"; writes elsewhere meanwhile: {len(waits)}, slowest {waits[-1]:.2f} s, "
                f"median {waits[len(waits) // 2]:.3f} s, not created {len(self.write_failures)}"
                + (f" {sorted(set(self.write_failures))}" if self.write_failures else "")
            )
        return line if self.error is None else f"{line}; error: {self.error}"


def is_generated(database_url: str, scale: Scale) -> bool:
    """Whether the benchmark's data are there, read without writing anything (the generator
    would first bring the database's schema up to date)."""
    target = make_url(database_url)
    admin = create_engine(target.set(database="postgres"))
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
        )
    admin.dispose()
    if not exists:
        return False
    engine = create_engine(target)
    try:
        with engine.connect() as connection:
            generated = connection.scalar(
                text(
                    "SELECT count(*) FROM agreements "
                    "WHERE slug LIKE 'bench-agreement-%' AND progress IS NOT NULL"
                )
            )
    except DBAPIError:
        return False  # no tables yet
    finally:
        engine.dispose()
    return bool(generated == scale.agreements)


@contextmanager
def scratch_copy(database_url: str) -> Iterator[str]:
    """A copy of the database at `database_url`, dropped on the way out (on failure and on
    Ctrl-C as well); yields its URL."""
    source = make_url(database_url)
    copy = source.set(database=f"{source.database}_http_import_{uuid.uuid4().hex[:8]}")
    admin = create_engine(source.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            _wait_until_unused(connection, str(source.database))
            try:
                connection.execute(
                    text(f'CREATE DATABASE "{copy.database}" TEMPLATE "{source.database}"')
                )
            except DBAPIError as error:
                # Someone connected between the check and the copy.
                raise click.ClickException(
                    f"cannot copy {source.database}: {error.orig}. PostgreSQL copies a "
                    "database only while nobody is connected to it."
                ) from None
        click.echo(f"copied {source.database} to {copy.database}", err=True)
        try:
            yield copy.render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{copy.database}" WITH (FORCE)'))
            click.echo(f"dropped {copy.database}", err=True)
    finally:
        admin.dispose()


def _wait_until_unused(connection: Any, database: str) -> None:
    # The generator's engine may still hold pooled connections until it is collected.
    gc.collect()
    deadline = time.monotonic() + QUIET_SECONDS
    while True:
        sessions = connection.execute(
            text(
                "SELECT pid, coalesce(application_name, ''), coalesce(client_addr::text, 'local'),"
                " state FROM pg_stat_activity WHERE datname = :name"
            ),
            {"name": database},
        ).all()
        if not sessions:
            return
        if time.monotonic() > deadline:
            listed = "; ".join(
                f"pid {pid} {name or '(no name)'} from {address}, {state}"
                for pid, name, address, state in sessions
            )
            raise click.ClickException(
                f"{len(sessions)} session(s) are connected to {database}, and PostgreSQL "
                f"copies a database only while nobody is connected to it ({listed}). Stop "
                "them (a running benchmark, a psql) and try again."
            )
        time.sleep(0.5)


@contextmanager
def job_worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """One `flask --app service worker`, stopped on the way out: asked first, then killed (a
    killed worker's transaction rolls back; the scratch copy is dropped anyway)."""
    import os

    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "service", "worker"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            # Ctrl-C reaches this process only: the worker would otherwise finish the job
            # in hand first, which may take many minutes.
            start_new_session=True,
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def count_assessments(database_url: str) -> int:
    from service.assessments.models import StatusAssessment

    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).select_from(StatusAssessment)) or 0
    engine.dispose()
    return int(count)


def editor_key(database_url: str, secret_key: str) -> str:
    from service import create_app
    from service.auth.services import create_api_key
    from service.core.config import Settings
    from service.core.vocabularies import Role

    app = create_app(Settings(database_url=database_url, secret_key=secret_key))
    database = app.extensions["database"]
    with database.session_factory() as session:
        key = create_api_key(session, data={"name": "bench http import", "role": Role.EDITOR}).key
    database.engine.dispose()
    return key


def follow(
    client: httpx.Client, location: str, expected_rows: int, limit_seconds: float
) -> dict[str, Any]:
    """Poll the job until it ends, with a progress bar of its rows on stderr; its last
    state. A job still going after `limit_seconds` fails the command."""
    deadline = time.monotonic() + limit_seconds
    with click.progressbar(
        length=expected_rows, label="job queued ", file=sys.stderr, show_pos=True
    ) as bar:
        while True:
            response = client.get(location)
            if response.status_code != 200:
                raise click.ClickException(
                    f"GET {location}: {response.status_code} {response.text[:2000]}"
                )
            job: dict[str, Any] = response.json()
            bar.label = f"job {job['state']:<8}"
            bar.update(max(0, min(job["rows_done"], expected_rows) - bar.pos))
            if job["state"] in ENDED:
                return job
            if time.monotonic() > deadline:
                raise click.ClickException(
                    f"the job at {location} had not ended after {limit_seconds / 60:.0f} "
                    f"minutes: {job}"
                )
            time.sleep(POLL_SECONDS)


@contextmanager
def writes_elsewhere(base_url: str, key: str) -> Iterator[tuple[list[float], list[int]]]:
    """While the block runs, create a theme through the API every WRITE_EVERY_SECONDS (a
    write that touches nothing the import does) and record how long each took: what an
    import costs the service's other writers."""
    took: list[float] = []
    failed: list[int] = []
    stop = threading.Event()

    def write() -> None:
        with httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60.0
        ) as client:
            while not stop.wait(WRITE_EVERY_SECONDS):
                started = time.monotonic()
                slug = f"elsewhere-{uuid.uuid4().hex[:12]}"
                try:
                    status = client.post(
                        "/api/v1/themes", json={"slug": slug, "name": slug}
                    ).status_code
                except httpx.HTTPError:
                    status = 0
                took.append(time.monotonic() - started)
                if status != 201:
                    # Refused (a 503 once the lock wait passed the statement timeout) or
                    # cut: counted apart, and as long as it took.
                    failed.append(status)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        yield took, failed
    finally:
        stop.set()
        writer.join(timeout=60)


def _between(start: str | None, end: str | None) -> float | None:
    if start is None or end is None:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def http_import(
    database_url: str,
    scale: Scale,
    *,
    secret_key: str,
    limit_minutes: float,
    agreements_in_file: int | None = None,
) -> Outcome:
    """Import the benchmark's assessment file (of every agreement, or of the first
    `agreements_in_file`) through the API into a scratch copy of the database at
    `database_url`, writing elsewhere meanwhile; what happened."""
    from service.migrations import upgrade

    LOGS.mkdir(parents=True, exist_ok=True)
    # `count` counts agreements, not rows: each has its commitments' assessments.
    agreements = scale.agreements if agreements_in_file is None else agreements_in_file
    rows = scale.assessments * agreements // scale.agreements
    click.echo(f"building the assessment file ({rows:,} rows)", err=True)
    body = assessments_csv(scale, 0, agreements).encode()
    with scratch_copy(database_url) as copy_url:
        # The copy takes the schema this checkout expects; the source keeps its own.
        upgrade(copy_url)
        before = count_assessments(copy_url)
        key = editor_key(copy_url, secret_key)
        env = service_env(copy_url, secret_key)
        with (
            gunicorn(
                "service.wsgi:app",
                env,
                ["--config", "service/gunicorn.conf.py"],
                LOGS / "http-import-service.log",
            ) as (base_url, _pid),
            job_worker(env, LOGS / "http-import-worker.log"),
            httpx.Client(
                base_url=base_url,
                headers={"Authorization": f"Bearer {key}"},
                timeout=httpx.Timeout(60.0, write=600.0, read=600.0),
            ) as client,
        ):
            click.echo(f"POST {IMPORT_PATH} ({len(body) / 1e6:.1f} MB)", err=True)
            started = time.monotonic()
            response = client.post(IMPORT_PATH, content=body, headers={"Content-Type": "text/csv"})
            uploaded = time.monotonic()
            if response.status_code != 202:
                raise click.ClickException(
                    f"POST {IMPORT_PATH} answered {response.status_code} after "
                    f"{uploaded - started:.1f} s: {response.text[:2000]}"
                )
            with writes_elsewhere(base_url, key) as (write_seconds, write_failures):
                job = follow(client, response.headers["Location"], rows, limit_minutes * 60)
            ended = time.monotonic()
        after = count_assessments(copy_url)
    return Outcome(
        job_id=job["id"],
        state=job["state"],
        rows_done=job["rows_done"],
        rows_total=job["rows_total"],
        megabytes=len(body) / 1e6,
        upload_seconds=uploaded - started,
        queue_seconds=_between(job["created_at"], job["started_at"]),
        run_seconds=_between(job["started_at"], job["finished_at"]),
        total_seconds=ended - started,
        assessments_before=before,
        assessments_after=after,
        result=job["result"],
        error=job["error"],
        write_seconds=tuple(write_seconds),
        write_failures=tuple(write_failures),
    )
