"""SIGTERM lets the requests in flight finish: gunicorn stops taking new ones, and each
worker completes the one it holds before it exits."""

from __future__ import annotations

import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.contract.conftest import launch_gunicorn

pytestmark = pytest.mark.postgres_only
WORKERS = 2


def test_requests_in_flight_finish_after_sigterm(live_database_url: str, tmp_path: Path) -> None:
    server, base_url = launch_gunicorn(
        live_database_url,
        {"WEB_CONCURRENCY": str(WORKERS), "ANONYMOUS_RATE_LIMIT_PER_MINUTE": "0"},
        tmp_path / "gunicorn.log",
    )
    try:
        latest = httpx.get(f"{base_url}/api/v1/changes", params={"page_size": 1}).json()
        after = 10**12  # past every change: each long poll waits its full 3 s

        def long_poll(_: int) -> tuple[int, float]:
            started = time.monotonic()
            response = httpx.get(
                f"{base_url}/api/v1/changes",
                params={"after": after, "wait": 3},
                timeout=30,
            )
            return response.status_code, time.monotonic() - started

        assert latest["items"] is not None
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            polls = [pool.submit(long_poll, n) for n in range(WORKERS)]
            time.sleep(1)  # both workers are now holding a request
            server.send_signal(signal.SIGTERM)
            outcomes = [poll.result() for poll in polls]
        # Each got its whole answer, after its whole wait, though the server was told to stop.
        assert [status for status, _ in outcomes] == [200] * WORKERS
        assert all(seconds >= 2.9 for _, seconds in outcomes), outcomes
        assert server.wait(timeout=30) == 0
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{base_url}/healthz", timeout=2)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
