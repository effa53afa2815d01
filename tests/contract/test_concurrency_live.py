"""Concurrent clients against gunicorn on PostgreSQL: one winner among conditional updates,
the status of the latest assessment whatever order they land in, and a change feed that a
follower reads without a gap while writers commit side by side. (With two workers a gap in
the feed would be rare here; tests/changes/test_commit_order.py proves its ordering
deterministically.)"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from service.core.vocabularies import Role
from tests.contract.conftest import a_source_id

pytestmark = pytest.mark.postgres_only


def _editor(live_server: str, live_keys: dict[Role, str]) -> httpx.Client:
    return httpx.Client(
        base_url=f"{live_server}/api/v1",
        headers={"Authorization": f"Bearer {live_keys[Role.EDITOR]}"},
        timeout=60,
    )


def _new_agreement(client: httpx.Client) -> dict[str, Any]:
    slug = f"concurrency-{uuid.uuid4().hex[:10]}"
    response = client.post(
        "/agreements", json={"slug": slug, "title": "Concurrency", "doc_type": "mou"}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _new_commitment(
    client: httpx.Client, agreement: dict[str, Any], title: str, **fields: Any
) -> dict[str, Any]:
    response = client.post(
        f"/agreements/{agreement['id']}/commitments",
        json={"title": title, "kind": "commitment", **fields},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_fifty_patches_with_one_etag_make_one_change(
    live_server: str, live_keys: dict[Role, str]
) -> None:
    with _editor(live_server, live_keys) as client:
        agreement = _new_agreement(client)
        etag = client.get(f"/agreements/{agreement['id']}").headers["ETag"]

    def patch(number: int) -> tuple[int, str]:
        with _editor(live_server, live_keys) as own:
            title = f"Title {number}"
            response = own.patch(
                f"/agreements/{agreement['id']}", json={"title": title}, headers={"If-Match": etag}
            )
            return response.status_code, title

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(patch, range(50)))
    statuses = Counter(status for status, _title in outcomes)
    assert statuses == {200: 1, 412: 49}, statuses
    [winner] = [title for status, title in outcomes if status == 200]
    with _editor(live_server, live_keys) as client:
        assert client.get(f"/agreements/{agreement['id']}").json()["title"] == winner


def test_parallel_assessments_leave_the_status_of_the_latest_date(
    live_server: str, live_keys: dict[Role, str]
) -> None:
    statuses = ["not_started", "initiated", "advanced", "stalled"]
    with _editor(live_server, live_keys) as client:
        commitment = _new_commitment(client, _new_agreement(client), "Parallel")
    first = date(2023, 1, 1)
    # Twenty assessments a few days apart, sent all at once: the order they commit in is
    # the scheduler's, and must not matter.
    plans = [(first + timedelta(days=7 * n), statuses[n % 4]) for n in range(20)]

    with _editor(live_server, live_keys) as client:
        source_ids = [a_source_id(client)]

    def assess(plan: tuple[date, str]) -> dict[str, Any]:
        as_of, status = plan
        with _editor(live_server, live_keys) as own:
            response = own.post(
                f"/commitments/{commitment['id']}/assessments",
                json={
                    "status": status,
                    "as_of": as_of.isoformat(),
                    "assessor_kind": "independent",
                    "source_ids": source_ids,
                },
            )
            assert response.status_code == 201, response.text
            return dict(response.json())

    with ThreadPoolExecutor(max_workers=20) as pool:
        created = list(pool.map(assess, reversed(plans)))
    latest = max(created, key=lambda assessment: assessment["as_of"])
    with _editor(live_server, live_keys) as client:
        now = client.get(f"/commitments/{commitment['id']}").json()
    assert now["current_status"] == latest["status"] == plans[-1][1]
    assert now["current_assessment_id"] == latest["id"]


def test_parallel_assessments_of_siblings_leave_every_roll_up_consistent(
    live_server: str, live_keys: dict[Role, str]
) -> None:
    """Assessments of ten sibling commitments, all at once through both workers: each
    write locks the agreement before it reads the tree, so the parent's and the agreement's
    progress end as the roll-up of the children's final progress, whatever the order."""
    with _editor(live_server, live_keys) as client:
        agreement = _new_agreement(client)
        parent = _new_commitment(client, agreement, "Parent")
        children = [
            _new_commitment(
                client, agreement, f"Child {n}", parent_id=parent["id"], weight=1 + n % 3
            )
            for n in range(10)
        ]
    statuses = ["initiated", "advanced", "completed", "not_started"]
    plans = [
        (children[n % 10]["id"], statuses[n % 4], f"2024-{1 + n // 10:02d}") for n in range(40)
    ]

    with _editor(live_server, live_keys) as client:
        source_ids = [a_source_id(client)]

    def assess(plan: tuple[int, str, str]) -> None:
        commitment_id, status, as_of = plan
        with _editor(live_server, live_keys) as own:
            response = own.post(
                f"/commitments/{commitment_id}/assessments",
                json={
                    "status": status,
                    "as_of": as_of,
                    "assessor_kind": "independent",
                    "source_ids": source_ids,
                },
            )
            assert response.status_code == 201, response.text

    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(assess, plans))
    with _editor(live_server, live_keys) as client:
        final = [client.get(f"/commitments/{child['id']}").json() for child in children]
        rolled = sum(c["current_progress"] * c["weight"] for c in final) / sum(
            c["weight"] for c in final
        )
        assert client.get(f"/commitments/{parent['id']}").json()["current_progress"] == (
            pytest.approx(rolled)
        )
        assert client.get(f"/agreements/{agreement['id']}").json()["progress"] == (
            pytest.approx(rolled)
        )


def test_a_follower_of_the_feed_misses_no_change_of_concurrent_writers(
    live_server: str, live_keys: dict[Role, str]
) -> None:
    with _editor(live_server, live_keys) as client:
        agreement = _new_agreement(client)
        start = client.get("/changes", params={"after": 0, "page_size": 1}).json()
        # The feed's end now: follow from the last event there is.
        cursor = 0
        while True:
            page = client.get("/changes", params={"after": cursor, "page_size": 200}).json()
            if not page["items"]:
                break
            cursor = page["items"][-1]["seq"]
    assert start["items"]
    first_cursor = cursor
    followed: list[int] = []
    writing = threading.Event()
    writing.set()

    def follow() -> None:
        position = first_cursor
        with _editor(live_server, live_keys) as own:
            while True:
                still_writing = writing.is_set()
                page = own.get("/changes", params={"after": position, "page_size": 200}).json()
                seqs = [item["seq"] for item in page["items"]]
                followed.extend(seqs)
                if seqs:
                    position = seqs[-1]
                elif not still_writing:
                    return

    def write(worker: int) -> None:
        with _editor(live_server, live_keys) as own:
            for number in range(15):
                response = own.post(
                    f"/agreements/{agreement['id']}/commitments",
                    json={"title": f"Writer {worker} item {number}", "kind": "action"},
                )
                assert response.status_code == 201, response.text

    follower = threading.Thread(target=follow)
    follower.start()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, range(4)))
    writing.clear()
    follower.join(timeout=120)
    assert not follower.is_alive()
    with _editor(live_server, live_keys) as client:
        everything: list[int] = []
        position = first_cursor
        while True:
            page = client.get("/changes", params={"after": position, "page_size": 200}).json()
            if not page["items"]:
                break
            everything += [item["seq"] for item in page["items"]]
            position = everything[-1]
    assert len(everything) >= 4 * 15
    assert everything == sorted(set(everything))  # strictly increasing
    assert followed == everything  # read live, in order, with no gap and no repeat
