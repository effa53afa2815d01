"""Metrics and logs under gunicorn's several worker processes, as they run in production."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.contract.conftest import start_gunicorn

pytestmark = pytest.mark.postgres_only
REQUESTS = 40


@pytest.fixture(scope="module")
def server_and_log(
    live_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    log = tmp_path_factory.mktemp("observed") / "gunicorn.log"
    env = {"RATE_LIMIT_PER_MINUTE": "0", "ANONYMOUS_RATE_LIMIT_PER_MINUTE": "0"}
    with start_gunicorn(live_database_url, tmp_path_factory, env, log_path=log) as url:
        yield url, log


def test_metrics_sum_every_worker_whichever_answers_the_scrape(
    server_and_log: tuple[str, Path],
) -> None:
    base_url, _log = server_and_log
    serving = set()
    for _ in range(REQUESTS):
        # A new connection each time, so both workers take their share.
        response = httpx.get(f"{base_url}/api/v1/themes", headers={"Connection": "close"})
        assert response.status_code == 200
    for _ in range(6):
        text = httpx.get(f"{base_url}/metrics", headers={"Connection": "close"}).text
        found = re.search(
            r'^policy_tracker_http_requests_total\{method="GET",route="/api/v1/themes",'
            r'status="200"\} ([0-9.e+]+)$',
            text,
            re.MULTILINE,
        )
        assert found, text[:2000]
        serving.add(float(found.group(1)))
    assert serving == {float(REQUESTS)}  # every scrape, from either worker, counts them all


def test_each_request_is_one_json_line_with_its_request_id(
    server_and_log: tuple[str, Path],
) -> None:
    base_url, log = server_and_log
    response = httpx.get(f"{base_url}/api/v1/agreements", headers={"X-Request-ID": "live-trace-7"})
    assert response.headers["X-Request-ID"] == "live-trace-7"
    lines = []
    for text in log.read_text().splitlines():
        if text.startswith("{"):
            lines.append(json.loads(text))
    mine = [line for line in lines if line.get("request_id") == "live-trace-7"]
    assert len(mine) == 1
    assert mine[0]["route"] == "/api/v1/agreements"
    assert mine[0]["status"] == 200 and mine[0]["logger"] == "policy_tracker.requests"
    assert mine[0]["duration_ms"] > 0


def test_every_line_gunicorn_prints_is_json_its_own_included(
    server_and_log: tuple[str, Path],
) -> None:
    """gunicorn's own lines ("Booting worker") come out as the app's JSON, not as
    "--- Logging error ---" tracebacks."""
    base_url, log = server_and_log
    assert httpx.get(f"{base_url}/healthz").status_code == 200
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    assert "--- Logging error ---" not in lines
    documents = [json.loads(line) for line in lines]
    booting = [
        document
        for document in documents
        if document["logger"] == "gunicorn.error" and "Booting worker" in document["message"]
    ]
    assert len(booting) >= 2 and all(document["level"] == "info" for document in booting)
    # No access log unless GUNICORN_ACCESS_LOG asks: the app's own line says it all.
    assert not [document for document in documents if document["logger"] == "gunicorn.access"]


def test_a_worker_timeout_is_logged_as_json_and_counted(
    live_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A request that holds its worker past GUNICORN_TIMEOUT has the worker killed: gunicorn's
    line says so in JSON, and /metrics counts it (worker_abort). A long poll holds a sync
    worker (a gevent one would serve on, the point of it), so the test runs sync workers."""
    log = tmp_path_factory.mktemp("timeout") / "gunicorn.log"
    env = {
        "RATE_LIMIT_PER_MINUTE": "0",
        "ANONYMOUS_RATE_LIMIT_PER_MINUTE": "0",
        "GUNICORN_TIMEOUT": "2",
        "GUNICORN_WORKER_CLASS": "sync",
    }
    with start_gunicorn(live_database_url, tmp_path_factory, env, log_path=log) as url:
        # gunicorn answers the killed request itself (a bare 500), or drops it.
        with contextlib.suppress(httpx.HTTPError):
            held = httpx.get(
                f"{url}/api/v1/changes", params={"after": 2**31 - 2, "wait": 8}, timeout=20
            )
            assert held.status_code == 500
        metrics = httpx.get(f"{url}/metrics").text
    assert re.search(r"^policy_tracker_worker_timeouts_total 1\.0$", metrics, re.MULTILINE), metrics
    documents = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert any("WORKER TIMEOUT" in document["message"] for document in documents)
