"""Idempotency-Key under real concurrency: gunicorn's two workers, PostgreSQL, ten clients."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from service.core.vocabularies import Role

pytestmark = pytest.mark.postgres_only


def test_ten_parallel_posts_with_one_key_create_one_resource(
    live_server: str, live_keys: dict[Role, str]
) -> None:
    # Commitments have no unique field: without the key, ten POSTs would make ten.
    url = f"{live_server}/api/v1/agreements/india-france-loi-defence-space-cooperation/commitments"
    body = {"title": "Parallel commitment"}
    headers = {
        "Idempotency-Key": "parallel-key-1",
        "Authorization": f"Bearer {live_keys[Role.EDITOR]}",
    }

    def post(_: int) -> httpx.Response:
        return httpx.post(url, json=body, headers=headers, timeout=30)

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(post, range(10)))
    statuses = sorted(response.status_code for response in responses)
    assert set(statuses) <= {201, 409}, statuses
    created = [response for response in responses if response.status_code == 201]
    assert created, statuses
    # Every 201 is the same response: the first, or its replay.
    assert {response.content for response in created} == {created[0].content}
    for refused in (r for r in responses if r.status_code == 409):
        assert refused.headers["Retry-After"]
    listed = httpx.get(url, params={"page_size": 200}).json()
    assert [item["title"] for item in listed["items"]].count("Parallel commitment") == 1
    # After the first has finished, a retry is a replay.
    replay = post(0)
    assert replay.status_code == 201
    assert replay.content == created[0].content
    assert replay.headers["Idempotent-Replayed"] == "true"
