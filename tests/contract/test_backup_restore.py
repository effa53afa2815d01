"""A backup is only a backup once it has been restored: pg_dump a populated database,
pg_restore it into a new one, and the copy serves the same data and takes new writes."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from service import create_app
from service.core.config import Settings
from service.core.vocabularies import Role
from tests.contract.conftest import LIVE_SECRET_KEY, make_keys, provisioned_database
from tests.helpers import scratch_database

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


def post_agreement(url: str, key: str, slug: str) -> Any:
    """Create an agreement through the API of an app on `url`: its response."""
    app = create_app(Settings(database_url=url, secret_key=LIVE_SECRET_KEY))
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    response = client.post(
        "/api/v1/agreements", json={"slug": slug, "title": slug.title(), "doc_type": "mou"}
    )
    app.extensions["database"].engine.dispose()
    return response


def test_a_dump_restores_into_a_copy_that_serves_the_same_data(
    database_url: str, engine: object, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    with provisioned_database(database_url, tmp_path_factory) as original:
        # Beyond the seed: writes through the API, so the feed and the sequences move on.
        key = make_keys(original)[Role.EDITOR]
        made = post_agreement(original, key, "backed-up")
        assert made.status_code == 201
        before = answers(original)

        dump = tmp_path / "policy_tracker.dump"
        subprocess.run(
            ["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", libpq(original)],
            check=True,
        )
        with scratch_database(database_url, "pt_restored") as copy:
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
            again = post_agreement(copy, key, "after-restore")
            assert again.status_code == 201, again.get_data(as_text=True)
            assert again.json["id"] > made.json["id"]
