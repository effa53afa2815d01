"""A backup is only a backup once it has been restored: pg_dump a populated database,
pg_restore it into a new one, and the copy serves the same data and takes new writes."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from service import create_app
from service.config import Settings
from service.db import make_engine
from service.vocabularies import Role
from tests.contract.conftest import LIVE_SECRET_KEY, make_keys, provisioned_database

pytestmark = pytest.mark.postgres_only

READS = [
    "/api/v1/exports/agreements.jsonl",
    "/api/v1/exports/commitments.jsonl",
    "/api/v1/stats/summary",
    "/api/v1/changes?page_size=200",
    "/api/v1/organizations?page_size=200",
    "/api/v1/meetings?page_size=200",
]


def libpq(url: str) -> str:
    """The URL as pg_dump and pg_restore take it (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def answers(url: str) -> dict[str, Any]:
    app = create_app(Settings(database_url=url, secret_key=LIVE_SECRET_KEY))
    client = app.test_client()
    found = {}
    for path in READS:
        response = client.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True))
        found[path] = response.get_data(as_text=True)
    app.extensions["database"].engine.dispose()
    return found


def test_a_dump_restores_into_a_copy_that_serves_the_same_data(
    database_url: str, engine: object, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    with provisioned_database(database_url, tmp_path_factory) as original:
        # Beyond the seed: writes through the API, so the feed and the sequences move on.
        key = make_keys(original)[Role.EDITOR]
        app = create_app(Settings(database_url=original, secret_key=LIVE_SECRET_KEY))
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
        made = client.post(
            "/api/v1/agreements",
            json={"slug": "backed-up", "title": "Backed up", "doc_type": "mou"},
        )
        assert made.status_code == 201
        app.extensions["database"].engine.dispose()
        before = answers(original)

        dump = tmp_path / "policy_tracker.dump"
        subprocess.run(
            ["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", libpq(original)],
            check=True,
        )
        copy_name = f"pt_restored_{uuid.uuid4().hex[:8]}"
        admin = make_engine(database_url).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{copy_name}"'))
        copy = make_url(original).set(database=copy_name).render_as_string(hide_password=False)
        try:
            subprocess.run(
                [
                    "pg_restore",
                    "--no-owner",
                    "--exit-on-error",
                    f"--dbname={libpq(copy)}",
                    str(dump),
                ],
                check=True,
            )
            assert answers(copy) == before
            # The copy goes on where the original stopped: its sequences came along.
            app = create_app(Settings(database_url=copy, secret_key=LIVE_SECRET_KEY))
            client = app.test_client()
            client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
            again = client.post(
                "/api/v1/agreements",
                json={"slug": "after-restore", "title": "New", "doc_type": "mou"},
            )
            assert again.status_code == 201, again.get_data(as_text=True)
            assert again.json["id"] > made.json["id"]
            app.extensions["database"].engine.dispose()
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{copy_name}" WITH (FORCE)'))
            admin.dispose()
