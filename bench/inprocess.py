"""Milliseconds per request through the Flask test client, no server and no network: the
service's own cost on each hot path, for comparing one commit with another (wrk measures the
whole under load; this isolates what a code change gained).

Self-contained on purpose (it imports only `service`), so it can time an older checkout:

    PYTHONPATH=/path/to/old/checkout .venv/bin/python bench/inprocess.py

It uses the benchmark's database (`python -m bench generate` first); creates add assessments.
Reads are sent with `Cache-Control: no-cache`, so they are computed, not answered from the
read cache (older checkouts, without the cache, ignore the header); "cached" lines time a
repeated read answered from it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from typing import Any

from bench.dataset import CITED_SOURCE_ID

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/policy_tracker_bench"
AGREEMENT = "bench-agreement-00500"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--requests", type=int, default=400, help="per path and batch")
    parser.add_argument("--batches", type=int, default=3, help="the median is reported")
    args = parser.parse_args()

    import service
    from service import create_app
    from service.auth.services import create_api_key
    from service.core.config import Settings
    from service.core.vocabularies import Role

    app = create_app(
        Settings(
            database_url=args.database_url,
            secret_key="inprocess-timing-secret-key-0123456789",
            rate_limit_per_minute=0,
            anonymous_rate_limit_per_minute=0,
        )
    )
    with app.extensions["database"].session_factory() as session:
        key = create_api_key(session, data={"name": "inprocess timing", "role": Role.EDITOR}).key
    client = app.test_client()
    page = client.get(f"/api/v1/agreements/{AGREEMENT}/commitments?page_size=50").get_json()
    commitment = page["items"][37]["id"]
    rng = random.Random(7)
    reads = {
        "get one agreement": f"/api/v1/agreements/{AGREEMENT}",
        "get one commitment": f"/api/v1/commitments/{commitment}",
        "a page of 50, status filter": "/api/v1/commitments?status=advanced&page_size=50",
        "statistics, one agreement": f"/api/v1/stats/summary?agreement={AGREEMENT}",
        "statistics, everything": "/api/v1/stats/summary",
        "progress over time, one agreement": (
            f"/api/v1/stats/progress?agreement={AGREEMENT}&from=2021-01&to=2022-12"
        ),
    }
    body = {
        "status": "advanced",
        "as_of": "2025-06",
        "assessor_kind": "independent",
        "source_ids": [CITED_SOURCE_ID],
    }
    headers = {"Authorization": f"Bearer {key}"}
    low, high = commitment - 20_000, commitment + 20_000

    def create() -> Any:
        return client.post(
            f"/api/v1/commitments/{rng.randint(low, high)}/assessments", json=body, headers=headers
        )

    computed = {"Cache-Control": "no-cache"}
    results: dict[str, float] = {}
    for name, path in reads.items():
        slow = "everything" in name or "progress" in name
        count = max(10, args.requests // 20) if slow else args.requests
        results[name] = _median_ms(
            lambda path=path: client.get(path, headers=computed), count, args.batches
        )
    # The request cycle alone: the hooks every request passes, with no database.
    results["/healthz"] = _median_ms(lambda: client.get("/healthz"), args.requests, args.batches)
    for name in ("get one commitment", "a page of 50, status filter", "statistics, everything"):
        results[f"{name}, cached"] = _median_ms(
            lambda path=reads[name]: client.get(path), args.requests, args.batches
        )
    results["create an assessment"] = _median_ms(create, args.requests // 2, args.batches)
    print(json.dumps({"service": os.path.dirname(service.__file__), "ms": results}, indent=2))


def _median_ms(call: Any, count: int, batches: int) -> float:
    for _ in range(min(count, 20)):  # warm caches and the statement cache
        assert call().status_code in (200, 201)
    timings = []
    for _ in range(batches):
        started = time.perf_counter()
        for _ in range(count):
            call()
        timings.append((time.perf_counter() - started) / count * 1000)
    return round(statistics.median(timings), 3)


if __name__ == "__main__":
    main()
