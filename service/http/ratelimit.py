"""A per-client request budget: so many requests a minute for each API key, or for each
client address when no key is sent. Counted in Redis when REDIS_URL is set, so that every
worker and host shares one count; in this process's memory otherwise."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # seconds until the window resets


class Counter(Protocol):
    def hit(self, key: str, window: int, ttl: int) -> int:
        """Count one request for `key` in `window`; return the count so far."""


class MemoryCounter:
    """Counts in this process: right for one worker, or for tests."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, window: int, ttl: int) -> int:
        with self._lock:
            # Forget the windows that have passed, so memory stays bounded.
            for stale in [entry for entry in self._counts if entry[1] < window]:
                del self._counts[stale]
            count = self._counts.get((key, window), 0) + 1
            self._counts[(key, window)] = count
            return count


class RedisCounter:
    """Counts in Redis: INCR on a key per client and window, which expires after it."""

    def __init__(self, url: str, namespace: str = "policy-tracker:rate") -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._namespace = namespace

    def hit(self, key: str, window: int, ttl: int) -> int:
        name = f"{self._namespace}:{key}:{window}"
        pipeline = self._redis.pipeline()
        pipeline.incr(name)
        pipeline.expire(name, ttl)
        count, _ = pipeline.execute()
        return int(count)


class RateLimiter:
    def __init__(self, counter: Counter, clock: Callable[[], float] = time.time) -> None:
        self._counter = counter
        self._clock = clock

    def check(self, client: str, limit: int) -> Verdict:
        """Count a request of `client` against `limit` a minute. When the counter cannot be
        reached the request is let through: an outage of Redis must not stop the service."""
        now = self._clock()
        window = int(now // WINDOW_SECONDS)
        retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
        try:
            count = self._counter.hit(client, window, ttl=2 * WINDOW_SECONDS)
        except Exception:  # the counter's store is down: fail open, but say so
            log.warning("rate limit store unavailable; request not counted", exc_info=True)
            return Verdict(True, limit, limit, retry_after)
        return Verdict(count <= limit, limit, max(0, limit - count), retry_after)


def make_limiter(redis_url: str | None) -> RateLimiter:
    return RateLimiter(RedisCounter(redis_url) if redis_url else MemoryCounter())
