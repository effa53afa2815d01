"""The read cache across gunicorn workers on PostgreSQL: each worker keeps its own answers,
and a write through one worker is seen at once by reads through every other."""

from __future__ import annotations

import uuid

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from service.core.vocabularies import Role
from service.speedups.lookups import CONNECTION_NAME
from tests.contract.conftest import a_source_id

pytestmark = pytest.mark.postgres_only


def _hits(base_url: str) -> float:
    for line in httpx.get(f"{base_url}/metrics").text.splitlines():
        if line.startswith('policy_tracker_read_cache_total{result="hit"}'):
            return float(line.split()[-1])
    return 0.0


def test_a_write_through_one_worker_is_read_at_once_through_every_other(
    live_server: str, live_keys: dict[Role, str]
) -> None:
    headers = {"Authorization": f"Bearer {live_keys[Role.EDITOR]}"}
    with httpx.Client(base_url=f"{live_server}/api/v1", headers=headers, timeout=30) as client:
        slug = f"cache-{uuid.uuid4().hex[:10]}"
        created = client.post(
            "/agreements", json={"slug": slug, "title": "Cache", "doc_type": "mou"}
        )
        assert created.status_code == 201, created.text
        commitment = client.post(
            f"/agreements/{slug}/commitments", json={"title": "Cached", "kind": "commitment"}
        ).json()
        path = f"/commitments/{commitment['id']}"
        hits = _hits(live_server)
        # New connections each time, so both workers answer and keep the answer.
        for _ in range(20):
            assert (
                httpx.get(f"{live_server}/api/v1{path}").json()["current_status"] == "not_assessed"
            )
        assert _hits(live_server) >= hits + 10
        assessed = client.post(
            f"{path}/assessments",
            json={
                "status": "initiated",
                "as_of": "2025-02",
                "assessor_kind": "official",
                "source_ids": [a_source_id(client)],
            },
        )
        assert assessed.status_code == 201, assessed.text
        seen = {
            httpx.get(f"{live_server}/api/v1{path}").json()["current_status"] for _ in range(20)
        }
        assert seen == {"initiated"}


def test_reads_and_keys_go_on_when_the_lookup_connections_are_cut(
    live_server: str, live_database_url: str, live_keys: dict[Role, str]
) -> None:
    """Each worker reads the head and API keys over a connection of its own
    (service/speedups/lookups.py); a database restart cuts it. The next keyed write and the next
    reads must still answer, and answer what is current."""
    headers = {"Authorization": f"Bearer {live_keys[Role.EDITOR]}"}
    with httpx.Client(base_url=f"{live_server}/api/v1", headers=headers, timeout=30) as client:
        slug = f"cut-{uuid.uuid4().hex[:10]}"
        created = client.post("/agreements", json={"slug": slug, "title": "Cut", "doc_type": "mou"})
        assert created.status_code == 201, created.text
        path = f"{live_server}/api/v1/agreements/{slug}"
        for _ in range(10):
            assert httpx.get(path).json()["title"] == "Cut"
        url = make_url(live_database_url).set(drivername="postgresql")
        with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as admin:
            cut = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = %s AND datname = current_database()",
                (CONNECTION_NAME,),
            ).fetchone()
        assert cut is not None and cut[0] >= 1
        renamed = client.patch(f"/agreements/{slug}", json={"title": "Cut again"})
        assert renamed.status_code == 200, renamed.text
        answers = [httpx.get(path) for _ in range(10)]
        assert {(answer.status_code, answer.json()["title"]) for answer in answers} == {
            (200, "Cut again")
        }


def test_a_revoked_key_is_refused_at_once_by_every_worker(
    live_server: str, live_keys: dict[Role, str]
) -> None:
    """Keys are read on each worker's own connection, afresh on every request: no worker
    lets a revoked key through, not even once."""
    admin = {"Authorization": f"Bearer {live_keys[Role.ADMIN]}"}
    with httpx.Client(base_url=f"{live_server}/api/v1", headers=admin, timeout=30) as client:
        made = client.post("/api-keys", json={"name": "revoked at once", "role": "reader"})
        assert made.status_code == 201, made.text
        keyed = {"Authorization": f"Bearer {made.json()['key']}"}
        # New connections each time, so both workers answer.
        for _ in range(10):
            assert httpx.get(f"{live_server}/api/v1/agreements", headers=keyed).status_code == 200
        assert client.delete(f"/api-keys/{made.json()['id']}").status_code == 204
        statuses = {
            httpx.get(f"{live_server}/api/v1/agreements", headers=keyed).status_code
            for _ in range(10)
        }
        assert statuses == {401}
