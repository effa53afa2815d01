"""Filling a PostgreSQL database with the benchmark's data through the service's own paths:
agreements through the API, commitments and assessments through its bulk imports (in process,
through the Flask test client, and each import's job run in process as a worker runs it, so
each goes through routing, validation and the change feed exactly as a client's would,
without a server to start)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bench.dataset import Scale, agreements, assessments_csv, commitments_csv
from service import create_app
from service.agreements.models import Agreement
from service.assessments.models import StatusAssessment
from service.auth.services import create_api_key
from service.commitments.models import Commitment
from service.core.config import Settings
from service.core.vocabularies import Role
from service.jobs.running import run_pending
from service.migrations import upgrade
from service.seeding.loader import load_seeds

# Agreements per commitment file, and per assessment file (about 10,000 and 50,000 rows).
COMMITMENT_FILE_AGREEMENTS = 100
ASSESSMENT_FILE_AGREEMENTS = 50


def create_database(url: str, *, fresh: bool) -> None:
    """Create the benchmark's database (dropping it first when `fresh`)."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
        )
        if exists and fresh:
            connection.execute(text(f'DROP DATABASE "{target.database}" WITH (FORCE)'))
            exists = False
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def counts(app: Any) -> dict[str, int]:
    with app.extensions["database"].session_factory() as session:
        return {
            "agreements": session.scalar(select(func.count()).select_from(Agreement)) or 0,
            "commitments": session.scalar(select(func.count()).select_from(Commitment)) or 0,
            "assessments": session.scalar(select(func.count()).select_from(StatusAssessment)) or 0,
        }


def is_generated(app: Any, scale: Scale) -> bool:
    """The data is there when the last assessment file's rows are (files commit one by one)."""
    with app.extensions["database"].session_factory() as session:
        generated = session.scalar(
            select(func.count())
            .select_from(Agreement)
            .where(Agreement.slug.like("bench-agreement-%"), Agreement.progress.is_not(None))
        )
    return bool(generated == scale.agreements)


def generate(url: str, scale: Scale, *, fresh: bool, secret_key: str) -> dict[str, int]:
    """Bring the database at `url` to the benchmark's data; return what it then holds."""
    create_database(url, fresh=fresh)
    upgrade(url)
    app = create_app(
        Settings(
            database_url=url,
            secret_key=secret_key,
            rate_limit_per_minute=0,
            anonymous_rate_limit_per_minute=0,
            # One import file's statements may take a while; the server keeps its timeout.
            statement_timeout_ms=0,
        )
    )
    if is_generated(app, scale):
        click.echo(f"the data is already there: {counts(app)}", err=True)
        return counts(app)
    if counts(app)["agreements"]:
        raise click.ClickException(
            "the database holds a partial or different data set; run with --fresh"
        )
    database = app.extensions["database"]
    with database.session_factory() as session:
        load_seeds(session, _seeds_dir())
        session.commit()
    with database.session_factory() as session:
        key = create_api_key(session, data={"name": "bench generator", "role": Role.EDITOR}).key
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"

    with _bar(scale.agreements, "agreements (API)") as bar:
        for body in agreements(scale):
            _expect(client.post("/api/v1/agreements", json=body), 201)
            bar.update(1)
    with _bar(scale.commitments, "commitments (CSV import)") as bar:
        for first in range(0, scale.agreements, COMMITMENT_FILE_AGREEMENTS):
            count = min(COMMITMENT_FILE_AGREEMENTS, scale.agreements - first)
            _import(client, "commitments", commitments_csv(scale, first, count))
            bar.update(count * scale.commitments_per_agreement)
    with _bar(scale.assessments, "assessments (CSV import)") as bar:
        for first in range(0, scale.agreements, ASSESSMENT_FILE_AGREEMENTS):
            count = min(ASSESSMENT_FILE_AGREEMENTS, scale.agreements - first)
            _import(client, "assessments", assessments_csv(scale, first, count))
            bar.update(count * scale.commitments_per_agreement * scale.assessments_per_commitment)
    with database.engine.connect() as connection:
        # What autovacuum would do a little later: fresh statistics for the planner, and the
        # visibility map that lets index-only scans skip the table.
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    return counts(app)


def _import(client: Any, kind: str, body: str) -> None:
    """Submit the file, then run the job it became here, as `flask worker` would."""
    response = client.post(f"/api/v1/imports/{kind}", data=body.encode(), content_type="text/csv")
    _expect(response, 202)
    app = client.application
    run_pending(app.extensions["database"].session_factory, app.extensions["job_settings"])
    job = client.get(response.headers["Location"])
    _expect(job, 200)
    if job.json["state"] != "succeeded":
        raise click.ClickException(f"the {kind} import failed: {job.get_data(as_text=True)[:2000]}")


def _expect(response: Any, status: int) -> None:
    if response.status_code != status:
        raise click.ClickException(
            f"{response.status_code}: {response.get_data(as_text=True)[:2000]}"
        )


@contextmanager
def _bar(length: int, label: str) -> Iterator[Any]:
    """A progress bar for one phase, then how long the phase took."""
    started = time.monotonic()
    with click.progressbar(
        length=length, label=f"{label:<26}", file=sys.stderr, show_pos=True
    ) as bar:
        yield bar
    click.echo(f"{label}: {length} in {time.monotonic() - started:.0f} s", err=True)


def _seeds_dir() -> Any:
    from pathlib import Path

    return Path(__file__).resolve().parents[1] / "seeds"
