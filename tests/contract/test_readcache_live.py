"""The read cache across gunicorn workers on PostgreSQL: each worker keeps its own answers,
and a write through one worker is seen at once by reads through every other."""

from __future__ import annotations

import uuid

import httpx
import pytest

from service.vocabularies import Role

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
            json={"status": "initiated", "as_of": "2025-02", "assessor_kind": "official"},
        )
        assert assessed.status_code == 201, assessed.text
        seen = {
            httpx.get(f"{live_server}/api/v1{path}").json()["current_status"] for _ in range(20)
        }
        assert seen == {"initiated"}
