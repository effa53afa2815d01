"""SPEEDUPS=off leaves the plain service: none of service/speedups is wired in, and it
answers as the service with them does (make test runs the whole suite that way on SQLite)."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from service.auth.services import STORED_KEY_READER, create_api_key
from service.core.config import Settings
from service.core.vocabularies import Role
from service.schemas import FASTER_DUMP
from service.speedups.jsonprovider import OrjsonProvider
from service.speedups.readcache import READS
from tests.builders import make_agreement, make_commitment
from tests.conftest import app_on_connection, client_with_key

SPEEDUP_EXTENSIONS = ("read_cache", "head_reader", "lookups", STORED_KEY_READER)


def _hits() -> float:
    value: float = READS.labels("hit")._value.get()
    return value


def _plain_and_fast(database_url: str, connection: Connection) -> tuple[Flask, Flask]:
    return (
        app_on_connection(database_url, connection, speedups=False),
        app_on_connection(database_url, connection, speedups=True),
    )


def test_the_setting_reads_on_and_off() -> None:
    assert Settings.from_env({"SECRET_KEY": "x" * 16}).speedups is True
    assert Settings.from_env({"SECRET_KEY": "x" * 16, "SPEEDUPS": "off"}).speedups is False


def test_off_wires_none_of_them(database_url: str, connection: Connection) -> None:
    plain, fast = _plain_and_fast(database_url, connection)
    assert type(plain.json) is DefaultJSONProvider
    assert not set(SPEEDUP_EXTENSIONS) & set(plain.extensions)
    assert isinstance(fast.json, OrjsonProvider)
    assert set(SPEEDUP_EXTENSIONS) <= set(fast.extensions)


def test_off_dumps_through_marshmallow_and_on_through_the_compiled_path(
    database_url: str, connection: Connection
) -> None:
    plain, fast = _plain_and_fast(database_url, connection)
    seen: dict[str, Any] = {}
    for name, app in (("plain", plain), ("fast", fast)):
        with app.test_request_context("/api/v1/agreements"):
            app.preprocess_request()
            seen[name] = FASTER_DUMP.get()
            app.do_teardown_request()
        # Set for the request only: a plain app in the same thread dumps plainly after it.
        assert FASTER_DUMP.get() is None
    assert seen["plain"] is None
    assert seen["fast"] is not None


def test_off_never_answers_from_a_cache(
    database_url: str, connection: Connection, session: Session
) -> None:
    plain, _fast = _plain_and_fast(database_url, connection)
    commitment = make_commitment(session, agreement=make_agreement(session))
    session.commit()
    client = plain.test_client()
    path = f"/api/v1/commitments/{commitment.id}"
    hits = _hits()
    first, second = client.get(path), client.get(path)
    assert first.status_code == second.status_code == 200
    assert _hits() == hits
    assert first.headers["ETag"] == second.headers["ETag"]


def test_on_and_off_answer_the_same_documents(
    database_url: str, connection: Connection, session: Session
) -> None:
    plain, fast = _plain_and_fast(database_url, connection)
    agreement = make_agreement(session)
    make_commitment(session, agreement=agreement, title="Coopération spatiale — « phase 1 »")
    session.commit()
    for path in (
        f"/api/v1/agreements/{agreement.slug}",
        f"/api/v1/agreements/{agreement.slug}/commitments",
        "/api/v1/stats/summary",
        "/api/v1/commitments/999999",
    ):
        answers = [app.test_client().get(path) for app in (plain, fast)]
        assert answers[0].status_code == answers[1].status_code, path
        documents = [json.loads(answer.get_data()) for answer in answers]
        for document in documents:
            if isinstance(document, dict):
                document.pop("request_id", None)
        assert documents[0] == documents[1], path


def test_off_reads_an_api_key_through_a_session(
    database_url: str, connection: Connection, session: Session
) -> None:
    plain, _fast = _plain_and_fast(database_url, connection)
    with plain.extensions["database"].session_factory() as keys:
        made = create_api_key(keys, data={"name": "plain reader", "role": Role.READER})
    client = client_with_key(plain, made.key)
    assert client.get("/api/v1/agreements").status_code == 200
    assert client_with_key(plain, made.key[:-1] + "x").get("/api/v1/agreements").status_code == 401
