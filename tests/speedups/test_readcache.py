"""The read cache (service/speedups/readcache.py): a repeated public read is answered without being
computed again, and never with data older than the last committed write."""

from __future__ import annotations

import tracemalloc
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from service.core.config import Settings, SettingsError
from service.core.vocabularies import Role
from service.speedups.readcache import READS, Entry, ReadCache, footprint
from tests.builders import make_agreement, make_commitment, make_source
from tests.conftest import DASHBOARD, StatementLog, make_app


def reads(result: str) -> float:
    value: float = READS.labels(result)._value.get()
    return value


def test_a_repeated_read_is_a_hit_with_the_same_body_and_etag(
    client: FlaskClient, session: Session
) -> None:
    commitment = make_commitment(session)
    session.commit()
    path = f"/api/v1/commitments/{commitment.id}"
    first = client.get(path)
    hits = reads("hit")
    again = client.get(path)
    assert reads("hit") == hits + 1
    assert (again.status_code, again.data, again.headers["ETag"]) == (
        200,
        first.data,
        first.headers["ETag"],
    )
    assert again.content_type == "application/json"
    # Conditional requests work on a hit as on a miss.
    not_modified = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert not_modified.status_code == 304


def _headers_but_the_request_id(response: TestResponse) -> list[tuple[str, str]]:
    return sorted((name, value) for name, value in response.headers if name != "X-Request-ID")


def test_a_hit_has_the_headers_the_answer_had_when_computed(
    cors_app: Flask, session: Session, keys: dict[Role, str]
) -> None:
    """A hit is given with the headers kept with it: they must be those the request would
    get computed, for each kind of request that changes them (a key, an allowed Origin)."""
    commitment = make_commitment(session)
    session.commit()
    path = f"/api/v1/commitments/{commitment.id}"
    kinds = {
        "anonymous": {},
        "with a key": {"Authorization": f"Bearer {keys[Role.READER]}"},
        "from the dashboard": {"Origin": DASHBOARD},
    }
    client = cors_app.test_client()
    for kind, headers in kinds.items():
        computed = client.get(path, headers={**headers, "Cache-Control": "no-cache"})
        hits = reads("hit")
        again = client.get(path, headers=headers)
        assert reads("hit") == hits + 1, kind
        assert again.data == computed.data, kind
        assert _headers_but_the_request_id(again) == _headers_but_the_request_id(computed), kind
        assert again.headers["X-Request-ID"] != computed.headers["X-Request-ID"], kind
    with_key = client.get(path, headers=kinds["with a key"])
    assert with_key.headers["Cache-Control"] == "no-store"
    assert "Authorization" in with_key.headers["Vary"]
    from_dashboard = client.get(path, headers=kinds["from the dashboard"])
    assert from_dashboard.headers["Access-Control-Allow-Origin"] == DASHBOARD


def test_every_kind_of_write_retires_what_was_read_before_it(
    client: FlaskClient, session: Session
) -> None:
    commitment = make_commitment(session)
    session.commit()
    agreement_path = f"/api/v1/agreements/{commitment.agreement_id}"
    commitment_path = f"/api/v1/commitments/{commitment.id}"
    summary_path = f"/api/v1/stats/summary?agreement={commitment.agreement_id}"
    page_path = f"/api/v1/agreements/{commitment.agreement_id}/commitments"

    def read_all() -> list[Any]:
        return [
            client.get(path).json
            for path in (agreement_path, commitment_path, summary_path, page_path)
        ]

    read_all()
    created = client.post(
        f"{commitment_path}/assessments",
        json={
            "status": "advanced",
            "as_of": "2025-01",
            "assessor_kind": "independent",
            "source_ids": [make_source(session).id],
        },
    )
    assert created.status_code == 201
    agreement, found, summary, page = read_all()
    assert found["current_status"] == "advanced"
    assert agreement["progress"] == 60.0
    assert {item["status"]: item["count"] for item in summary["by_status"]}["advanced"] == 1
    assert page["items"][0]["current_status"] == "advanced"

    patched = client.patch(agreement_path, json={"title": "Renamed after a read"})
    assert patched.status_code == 200
    assert client.get(agreement_path).json["title"] == "Renamed after a read"

    assert client.delete(commitment_path).status_code == 204
    assert client.get(commitment_path).status_code == 404
    assert client.get(page_path).json["items"] == []


def test_the_query_string_is_part_of_the_key(client: FlaskClient, session: Session) -> None:
    agreement = make_agreement(session)
    make_commitment(session, agreement, title="First")
    make_commitment(session, agreement, title="Second")
    session.commit()
    path = f"/api/v1/agreements/{agreement.id}/commitments"
    assert len(client.get(path).json["items"]) == 2
    one = client.get(f"{path}?page_size=1")
    assert len(one.json["items"]) == 1
    assert 'rel="next"' in one.headers["Link"]
    assert len(client.get(path).json["items"]) == 2


def test_no_cache_computes_the_answer_again(
    client: FlaskClient, session: Session, sql: StatementLog
) -> None:
    commitment = make_commitment(session)
    session.commit()
    path = f"/api/v1/commitments/{commitment.id}"
    client.get(path)
    bypasses = reads("bypass")
    with sql:
        fresh = client.get(path, headers={"Cache-Control": "no-cache"})
    assert fresh.status_code == 200
    assert reads("bypass") == bypasses + 1
    assert any("FROM commitments" in statement for statement in sql.statements)


def test_a_new_day_is_a_new_key(
    client: FlaskClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    session.commit()
    assert client.get("/api/v1/stats/summary").json["as_of"] == date.today().isoformat()

    class Tomorrow(date):
        @classmethod
        def today(cls) -> Tomorrow:
            return cls(2099, 1, 1)

    monkeypatch.setattr("service.speedups.readcache.date", Tomorrow)
    monkeypatch.setattr("service.stats.services.date", Tomorrow)
    assert client.get("/api/v1/stats/summary").json["as_of"] == "2099-01-01"


def test_the_change_feed_is_never_cached(client: FlaskClient, session: Session) -> None:
    session.commit()
    misses, hits = reads("miss"), reads("hit")
    client.get("/api/v1/changes")
    client.get("/api/v1/changes")
    assert (reads("miss"), reads("hit")) == (misses, hits)


def test_errors_are_not_kept(client: FlaskClient, session: Session) -> None:
    session.commit()
    assert client.get("/api/v1/agreements/no-such-agreement").status_code == 404
    made = client.post(
        "/api/v1/agreements",
        json={"slug": "no-such-agreement", "title": "Now it exists", "doc_type": "mou"},
    )
    assert made.status_code == 201
    assert client.get("/api/v1/agreements/no-such-agreement").status_code == 200


def test_the_cache_keeps_within_its_budget_least_recently_used_first() -> None:
    one = footprint(("url", "0"), Entry(1, b"x" * 900, ()))
    cache = ReadCache(max_bytes=8 * one + one // 2)
    for number in range(10):
        cache.put(("url", str(number)), Entry(1, b"x" * 900, ()))
    assert len(cache) == 8
    assert cache.get(("url", "0"), 1) is None
    assert cache.get(("url", "2"), 1) is not None  # now the most recently used
    cache.put(("url", "10"), Entry(1, b"x" * 900, ()))
    assert cache.get(("url", "2"), 1) is not None
    assert cache.get(("url", "3"), 1) is None
    # One answer may take at most an eighth of the budget.
    cache.put(("url", "huge"), Entry(1, b"x" * (cache.max_bytes // 8), ()))
    assert cache.get(("url", "huge"), 1) is None


def test_a_new_head_retires_every_entry_at_once() -> None:
    cache = ReadCache(max_bytes=1_000_000)
    for number in range(10):
        cache.put(("url", str(number)), Entry(1, b"x" * 900, ()))
    assert len(cache) == 10
    # One read under the next head (a write landed): no entry of the old head is left.
    assert cache.get(("url", "other"), 2) is None
    assert len(cache) == 0 and cache.bytes_held == 0
    # An answer computed under the old head, finished after the new one was seen: not kept.
    cache.put(("url", "late"), Entry(1, b"x" * 900, ()))
    assert len(cache) == 0
    cache.put(("url", "fresh"), Entry(2, b"x" * 900, ()))
    assert cache.get(("url", "fresh"), 2) is not None


def test_the_budget_counts_what_an_entry_holds_in_memory() -> None:
    """An answer of one record: its body, a dozen headers, its key. What the entries take,
    traced, is what the budget counts, within a quarter."""
    cache = ReadCache(max_bytes=10**9)
    headers = tuple((f"X-Header-{number}", "v" * 30) for number in range(12))
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for number in range(2000):
        key = (f"http://127.0.0.1:8000/api/v1/commitments/{number}?", "2026-11-26 key=False")
        answer = tuple((name, value + str(number)) for name, value in headers)
        cache.put(key, Entry(1, bytes(1200), answer))
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    traced = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert 0.8 < cache.bytes_held / traced < 1.25, (cache.bytes_held, traced)


def test_read_cache_mb_zero_turns_it_off(database_url: str, engine: Engine) -> None:
    assert Settings.from_env({"READ_CACHE_MB": "0", "SECRET_KEY": "k" * 32}).read_cache_mb == 0
    with pytest.raises(SettingsError, match="READ_CACHE_MB"):
        Settings.from_env({"READ_CACHE_MB": "-1", "SECRET_KEY": "k" * 32})
    app: Flask = make_app(database_url, speedups=True)
    app.extensions["read_cache"] = ReadCache(0)
    with app.test_client() as client:
        client.get("/api/v1/stats/summary")
        client.get("/api/v1/stats/summary")
    assert len(app.extensions["read_cache"]) == 0
