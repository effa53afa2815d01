"""The cross-cutting behaviour of the app: problem+json everywhere, limits, request ids, probes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.agreements.models import Agreement
from service.changes.models import ChangeEvent
from tests.helpers import assert_problem


def test_unknown_route_is_a_404_problem(client: FlaskClient) -> None:
    body = assert_problem(client.get("/api/v1/no-such-thing"), 404)
    assert body["instance"] == "/api/v1/no-such-thing"


def test_wrong_method_is_a_405_problem_with_allow(client: FlaskClient) -> None:
    response = client.put("/api/v1/agreements", json={})
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]


def test_assessments_are_append_only(client: FlaskClient) -> None:
    assert_problem(client.patch("/api/v1/assessments/1", json={}), 405)
    assert_problem(client.delete("/api/v1/assessments/1"), 405)


def test_malformed_json_is_a_400_problem(client: FlaskClient) -> None:
    response = client.post("/api/v1/agreements", data='{"slug": ', content_type="application/json")
    assert_problem(response, 400)


def test_a_body_that_is_not_json_is_a_415_problem(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/agreements", data="slug=loi", content_type="application/x-www-form-urlencoded"
    )
    assert_problem(response, 415)


def test_a_json_body_that_is_not_an_object_is_refused(client: FlaskClient) -> None:
    response = client.post("/api/v1/agreements", json=["not", "an", "object"])
    assert response.status_code in (400, 422)
    assert response.mimetype == "application/problem+json"


def test_an_oversized_body_is_a_413_problem(client: FlaskClient, app: Flask) -> None:
    too_big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/api/v1/agreements", data=too_big, content_type="application/json")
    assert_problem(response, 413)


def test_an_unexpected_error_is_a_500_problem_without_a_trace_and_writes_nothing(
    client: FlaskClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.progress import upkeep as progress

    agreement = client.post(
        "/api/v1/agreements", json={"slug": "loi-x", "title": "LoI", "doc_type": "letter_of_intent"}
    ).json
    before = session.scalar(select(func.count()).select_from(ChangeEvent))

    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(progress, "refresh_progress", explode)
    response = client.post(
        f"/api/v1/agreements/{agreement['id']}/commitments", json={"title": "Training"}
    )
    body = assert_problem(response, 500)
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert body["detail"]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ChangeEvent)) == before
    listed = client.get(f"/api/v1/agreements/{agreement['id']}/commitments")
    assert listed.json["items"] == []


def test_a_refused_write_leaves_nothing_behind(client: FlaskClient, session: Session) -> None:
    before = session.scalar(select(func.count()).select_from(ChangeEvent))
    response = client.post(
        "/api/v1/meetings", json={"title": "Dialogue", "agenda_commitment_ids": [424242]}
    )
    assert_problem(response, 422)
    assert "agenda_commitment_ids" in response.json["errors"]
    assert session.scalar(select(func.count()).select_from(ChangeEvent)) == before


def test_request_id_is_echoed_or_generated(client: FlaskClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) == 32
    problem = client.get("/api/v1/agreements/999999", headers={"X-Request-ID": "trace-me"})
    assert problem.json["request_id"] == "trace-me"
    hostile = client.get("/healthz", headers={"X-Request-ID": "x" * 500})
    assert hostile.headers["X-Request-ID"] != "x" * 500


def test_responses_say_nosniff(client: FlaskClient) -> None:
    assert client.get("/api/v1/agreements").headers["X-Content-Type-Options"] == "nosniff"


def test_healthz_and_readyz(client: FlaskClient) -> None:
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ready"}


def test_readyz_is_503_when_the_database_is_unreachable() -> None:
    from service import create_app
    from service.core.config import Settings

    unreachable = create_app(
        Settings(
            database_url="postgresql+psycopg://nobody@127.0.0.1:1/none",
            secret_key="s" * 32,
            testing=True,
        )
    )
    response = unreachable.test_client().get("/readyz")
    assert_problem(response, 503)
    assert response.headers["Retry-After"]


@pytest.mark.postgres_only
def test_readyz_says_ready_past_a_pooled_connection_a_restart_broke(
    database_url: str, engine: object
) -> None:
    """After a database restart, the first use of each connection pooled before it fails. A
    worker that served nothing since must not answer its readiness probe 503 for that: the
    check asks again on a new connection."""
    from sqlalchemy import text

    from tests.conftest import make_app

    app = make_app(database_url)
    pooled = app.extensions["database"].engine
    with pooled.connect() as connection:
        backend = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    # Back in the pool; its server side goes, as in a restart.
    with pooled.connect() as other:
        assert other.execute(text("SELECT pg_backend_pid()")).scalar_one() == backend
    outside = make_app(database_url).extensions["database"].engine
    with outside.connect() as killer:
        killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    outside.dispose()
    try:
        response = app.test_client().get("/readyz")
        assert response.status_code == 200, response.get_json()
        assert response.json == {"status": "ready"}
    finally:
        pooled.dispose()


def test_no_app_code_creates_tables(session: Session) -> None:
    # The schema comes from the migrations (run once by the fixtures), never create_all.
    import pathlib

    sources = "".join(path.read_text() for path in pathlib.Path("service").rglob("*.py"))
    assert "create_all" not in sources
    assert session.scalar(select(func.count()).select_from(Agreement)) is not None


def test_a_post_or_patch_without_a_body_is_a_400_problem(client: FlaskClient) -> None:
    assert_problem(client.post("/api/v1/themes"), 400)
    created = client.post("/api/v1/themes", json={"slug": "body", "name": "Body"}).json
    assert_problem(client.patch(f"/api/v1/themes/{created['id']}"), 400)


@pytest.mark.parametrize("value", ["", "not-quoted", '"unclosed', '"a""b"', 'W/ "x"'])
def test_a_malformed_precondition_is_refused_naming_its_header(
    client: FlaskClient, value: str
) -> None:
    # The spec states the pattern; what does not match it names no version (400, not 412),
    # on a write and on a read alike, nothing written.
    created = client.post("/api/v1/themes", json={"slug": "etag", "name": "ETag"}).json
    url = f"/api/v1/themes/{created['id']}"
    refused = client.patch(url, json={"name": "x"}, headers={"If-Match": value})
    assert_problem(refused, 400)
    assert list(refused.json["errors"]) == ["If-Match"]
    client.get(url)  # kept by the read cache, where it is on: which must not answer this
    read = client.get(url, headers={"If-None-Match": value})
    assert_problem(read, 400)
    assert list(read.json["errors"]) == ["If-None-Match"]
    assert client.get(url).json["name"] == "ETag"
    assert client.patch(url, json={"name": "x"}, headers={"If-Match": "*"}).status_code == 200
    # A method no route takes is a 405 first, whatever its headers.
    assert_problem(client.open(url, method="TRACE", headers={"If-None-Match": value}), 405)
    tag = client.get(url).headers["ETag"]
    assert client.get(url, headers={"If-None-Match": f'"other", {tag}'}).status_code == 304


def test_an_unknown_method_is_a_405_even_without_a_body(client: FlaskClient) -> None:
    assert_problem(client.put("/api/v1/agreements/1"), 405)


def test_a_lost_database_is_a_503_with_retry_after(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    from service.themes import services

    def unavailable(*_args: object, **_kwargs: object) -> None:
        raise OperationalError(
            "SELECT 1", {}, Exception("server closed the connection unexpectedly")
        )

    monkeypatch.setattr(services, "keyset_page", unavailable)
    response = client.get("/api/v1/themes")
    assert_problem(response, 503)
    assert response.headers["Retry-After"] == "2"
    assert "server closed" not in response.get_data(as_text=True)


def test_a_connection_lost_before_the_session_closes_still_answers_the_problem(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database stops mid-request: the handler answers 503, then the rollback at teardown
    fails on the dead connection too. That must not turn the answer into a bare HTML 500."""
    from sqlalchemy.exc import OperationalError

    from service.http.api import get_session
    from service.themes import services

    lost = OperationalError(
        "ROLLBACK", {}, Exception("the connection is lost"), connection_invalidated=True
    )
    closes = []

    def unavailable(*_args: object, **_kwargs: object) -> None:
        session = get_session()
        close = session.close

        def close_on_a_lost_connection() -> None:
            closes.append(session)
            close()
            raise lost

        monkeypatch.setattr(session, "close", close_on_a_lost_connection)
        raise OperationalError("SELECT 1", {}, Exception("the connection is lost"))

    monkeypatch.setattr(services, "keyset_page", unavailable)
    response = client.get("/api/v1/themes")
    assert closes, "the request's session was not closed at teardown"
    assert_problem(response, 503)
    assert response.headers["Retry-After"] == "2"


def test_no_free_connection_in_the_pool_is_a_503_with_retry_after(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under gevent one process serves many requests at once: a pool that has no connection
    to give within its timeout is the database being unavailable, not a server bug."""
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from service.themes import services

    def exhausted(*_args: object, **_kwargs: object) -> None:
        raise PoolTimeout("QueuePool limit of size 5 overflow 5 reached")

    monkeypatch.setattr(services, "keyset_page", exhausted)
    response = client.get("/api/v1/themes")
    assert_problem(response, 503)
    assert response.headers["Retry-After"]


def test_metrics_are_served_while_the_database_is_down(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The jobs gauge is read from the database; the counters are not, and an outage is
    when an operator needs them."""
    from sqlalchemy.exc import OperationalError

    def unavailable() -> dict[tuple[str, ...], float]:
        raise OperationalError("SELECT", {}, Exception("the database system is starting up"))

    gauges = client.application.extensions["database_gauges"]
    assert "# TYPE policy_tracker_jobs gauge" in client.get("/metrics").get_data(as_text=True)
    monkeypatch.setitem(
        client.application.extensions, "database_gauges", [(*gauges[0][:3], unavailable)]
    )
    response = client.get("/metrics")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "policy_tracker_http_requests_total" in text
    assert "# TYPE policy_tracker_jobs gauge" not in text


def test_digits_that_are_not_ascii_are_not_ids(client: FlaskClient) -> None:
    assert_problem(client.get("/api/v1/agreements/%C2%B9"), 404)  # "¹"


@pytest.mark.postgres_only
def test_postgresql_statements_have_a_time_limit(database_url: str) -> None:
    from sqlalchemy import text

    from service.core.db import make_engine

    engine = make_engine(database_url, statement_timeout_ms=1500)
    with engine.connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar() == "1500ms"
        with pytest.raises(Exception, match="statement timeout"):
            connection.execute(text("SELECT pg_sleep(3)"))
    engine.dispose()


def _gunicorn_config(monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], list[str]]:
    """The production config as gunicorn reads it, without patching this test process: the
    patches it would make are recorded instead."""
    import runpy

    from gevent import monkey

    patched: list[str] = []
    monkeypatch.setattr(monkey, "patch_all", lambda: patched.append("all"))
    return runpy.run_path("service/gunicorn.conf.py"), patched


def test_gunicorn_bounds_each_request_and_each_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    # The config gives each start an empty metrics directory of its own, and removes it.
    # (Set, then unset, so that the undo removes what the config sets.)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    monkeypatch.delenv("GUNICORN_WORKER_CLASS", raising=False)
    config, patched = _gunicorn_config(monkeypatch)
    metrics_dir = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    assert metrics_dir.is_dir() and not any(metrics_dir.iterdir())
    config["on_exit"](None)
    assert not metrics_dir.exists()
    assert config["timeout"] == 30
    # gevent workers, patched before the preloaded app is imported; `keepalive` is also
    # their deadline for a request's headers (docs/serving-model.md).
    assert config["worker_class"] == "gevent" and patched == ["all"]
    assert config["preload_app"] and config["keepalive"] == 5
    assert config["worker_connections"] >= 1000
    assert config["max_requests"] > 0
    assert config["limit_request_line"] <= 8190


def test_gthread_is_the_fallback_that_patches_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "unused")
    monkeypatch.setenv("GUNICORN_WORKER_CLASS", "gthread")
    config, patched = _gunicorn_config(monkeypatch)
    assert config["worker_class"] == "gthread" and patched == []
    assert config["threads"] == 256
