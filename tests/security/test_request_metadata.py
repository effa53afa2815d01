"""Issue 15, item 8: what the client sends besides its data (X-Request-ID, Host) is not
taken as is, and the error log holds no request values."""

from __future__ import annotations

import json
import logging
import re

import pytest
from flask import Flask, request
from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from service.changes.models import ChangeEvent
from service.core.config import Settings, SettingsError
from service.core.vocabularies import Role
from service.http.api import get_session
from service.http.observability import REQUEST_LOG, JSONFormatter
from tests.builders import make_theme
from tests.conftest import app_on_connection, client_with_key

SERVICE_ID = re.compile(r"[0-9a-f]{32}")


def latest_change(session: Session) -> ChangeEvent:
    session.expire_all()
    return session.scalars(select(ChangeEvent).order_by(ChangeEvent.seq.desc())).first()  # type: ignore[return-value]


@pytest.mark.parametrize(
    "hostile",
    ["<script>alert(1)</script>", "x" * 101, "a b", "id;drop", "ünïcode", "a/b", "a\tb"],
)
def test_a_malformed_request_id_is_replaced_and_the_services_own_is_kept_beside(
    app: Flask,
    keys: dict[Role, str],
    session: Session,
    caplog: pytest.LogCaptureFixture,
    hostile: str,
) -> None:
    client = client_with_key(app, keys[Role.EDITOR])
    with caplog.at_level(logging.INFO, logger=REQUEST_LOG.name):
        response = client.post(
            "/api/v1/themes",
            json={"slug": "traced", "name": "T"},
            headers={"X-Request-ID": hostile},
        )
    assert response.status_code == 201
    given = response.headers["X-Request-ID"]
    assert given != hostile and SERVICE_ID.fullmatch(given)
    change = latest_change(session)
    assert change.request_id == change.service_request_id == given
    [record] = [r for r in caplog.records if r.name == REQUEST_LOG.name]
    line = json.loads(JSONFormatter().format(record))
    assert line["request_id"] == line["service_request_id"] == given
    feed = client.get("/api/v1/changes", query_string={"entity": "theme"}).get_data(as_text=True)
    assert hostile not in feed

    good = "trace-7.A_b"
    client.patch(
        f"/api/v1/themes/{response.json['id']}", json={"name": "U"}, headers={"X-Request-ID": good}
    )
    change = latest_change(session)
    assert change.request_id == good
    assert change.service_request_id and SERVICE_ID.fullmatch(change.service_request_id)


def test_links_never_name_the_host_the_client_sent(
    database_url: str, connection: Connection, session: Session
) -> None:
    make_theme(session)
    make_theme(session)
    evil = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    for base, expected in [(None, "</api/v1/themes?"), ("https://api.example.org", None)]:
        app = app_on_connection(database_url, connection, public_base_url=base)
        response = app.test_client().get("/api/v1/themes?page_size=1", headers=evil)
        link = response.headers["Link"]
        assert "evil" not in link
        assert link.startswith(expected or "<https://api.example.org/api/v1/themes?"), link
    environ = {"SECRET_KEY": "s" * 32, "DATABASE_URL": "sqlite://"}
    settings = Settings.from_env({**environ, "PUBLIC_BASE_URL": "https://api.example.org/"})
    assert settings.public_base_url == "https://api.example.org"
    assert Settings.from_env(environ).public_base_url is None
    for bad in ("api.example.org", "ftp://x.org", "https://u:p@x.org", "https://x.org/?a=1"):
        with pytest.raises(SettingsError, match="PUBLIC_BASE_URL"):
            Settings.from_env({**environ, "PUBLIC_BASE_URL": bad})


def test_the_error_log_holds_no_request_values(
    database_url: str, connection: Connection, caplog: pytest.LogCaptureFixture
) -> None:
    app = app_on_connection(database_url, connection)

    def store_unchecked() -> str:
        # A write that slipped past validation: the database refuses the row.
        get_session().execute(
            text("INSERT INTO themes (slug, name) VALUES (:slug, NULL)"),
            {"slug": request.args["slug"]},
        )
        return "unreachable"

    app.add_url_rule("/unchecked", "unchecked", store_unchecked)
    value = "private-value-from-the-client-4711"
    with caplog.at_level(logging.INFO):
        response = app.test_client().get("/unchecked", query_string={"slug": value})
    assert response.status_code == 500
    assert value not in response.get_data(as_text=True)
    logged = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    assert "IntegrityError" in logged and "store_unchecked" in logged, "where, not what"
    assert value not in logged
