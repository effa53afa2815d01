"""The per-client request budget: the counting, the 429, and Redis shared by processes."""

from __future__ import annotations

import os

import pytest
from flask import Flask
from sqlalchemy import Connection

from service.core.vocabularies import Role
from service.http.ratelimit import MemoryCounter, RateLimiter
from tests.conftest import app_on_connection, client_with_key


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_client_gets_its_limit_per_minute_then_waits_for_the_next() -> None:
    clock = Clock(60 * 16_667 + 20.0)  # 20 s into a minute
    limiter = RateLimiter(MemoryCounter(), clock)
    verdicts = [limiter.check("key:1", 3) for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert verdicts[-1].retry_after == 40
    assert limiter.check("key:2", 3).allowed, "each client has its own budget"
    clock.now += 40
    assert limiter.check("key:1", 3).allowed, "a new minute, a new budget"


def test_a_counter_that_fails_lets_requests_through() -> None:
    class Broken:
        def hit(self, key: str, window: int, ttl: int) -> int:
            raise ConnectionError("redis is down")

    assert RateLimiter(Broken()).check("key:1", 1).allowed


@pytest.fixture
def limited_app(database_url: str, connection: Connection) -> Flask:
    return app_on_connection(
        database_url, connection, rate_limit_per_minute=5, anonymous_rate_limit_per_minute=2
    )


def test_over_the_limit_is_a_429_problem_with_retry_after(
    limited_app: Flask, keys: dict[Role, str]
) -> None:
    anonymous = client_with_key(limited_app, None)
    statuses = [anonymous.get("/api/v1/themes").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = anonymous.get("/api/v1/themes")
    assert refused.mimetype == "application/problem+json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # A key has its own, larger budget; probes are never limited.
    keyed = client_with_key(limited_app, keys[Role.READER])
    assert [keyed.get("/api/v1/themes").status_code for _ in range(6)] == [200] * 5 + [429]
    assert anonymous.get("/healthz").status_code == 200


def test_a_wrong_key_is_counted_against_the_address(limited_app: Flask) -> None:
    guesser = client_with_key(limited_app, "pt_deadbeef_" + "x" * 43)
    assert [guesser.get("/api/v1/themes").status_code for _ in range(3)] == [401, 401, 429]


def redis_url() -> str:
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis at {url} is unreachable: {error}", pytrace=False)
        pytest.skip(f"Redis at {url} is unreachable")
    return url
