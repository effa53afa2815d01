"""With REDIS_URL set, every process counts against one budget: two gunicorn servers, one
Redis, and the limit holds across both."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
import redis

from tests.api.test_ratelimit import redis_url
from tests.contract.conftest import start_gunicorn

pytestmark = pytest.mark.postgres_only

LIMIT = 6


@pytest.fixture
def two_servers(
    live_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[str]]:
    url = redis_url()
    redis.Redis.from_url(url).flushdb()
    env = {"REDIS_URL": url, "ANONYMOUS_RATE_LIMIT_PER_MINUTE": str(LIMIT), "WEB_CONCURRENCY": "1"}
    with (
        start_gunicorn(live_database_url, tmp_path_factory, env) as first,
        start_gunicorn(live_database_url, tmp_path_factory, env) as second,
    ):
        yield [first, second]


def test_two_processes_share_one_count_in_redis(two_servers: list[str]) -> None:
    # The requests take well under a second: start them early in a minute's window.
    seconds_into_minute = time.time() % 60
    if seconds_into_minute > 50:
        time.sleep(61 - seconds_into_minute)
    statuses = [
        httpx.get(f"{two_servers[n % 2]}/api/v1/themes").status_code for n in range(2 * LIMIT)
    ]
    assert statuses.count(200) == LIMIT, statuses
    assert statuses.count(429) == LIMIT, statuses
