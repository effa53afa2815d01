"""Managing API keys, and the audit trail that says which key made each change."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from service.auth.models import ApiKey
from service.changes.models import ChangeEvent
from service.core.vocabularies import Role
from tests.conftest import client_with_key


def test_a_new_key_is_shown_once_and_stored_as_a_hash(
    client: FlaskClient, session: Session
) -> None:
    created = client.post("/api/v1/api-keys", json={"name": "dashboard", "role": "editor"})
    assert created.status_code == 201
    key = created.json["key"]
    assert key.startswith(f"pt_{created.json['prefix']}_")
    fetched = client.get(created.headers["Location"]).json
    assert "key" not in fetched and "key_hash" not in fetched
    listed = client.get("/api/v1/api-keys").get_data(as_text=True)
    assert key not in listed
    stored = session.scalars(select(ApiKey).where(ApiKey.id == created.json["id"])).one()
    assert key not in (stored.key_hash, stored.prefix)
    feed = client.get("/api/v1/changes", query_string={"entity": "api_key", "entity_id": stored.id})
    assert "key_hash" not in feed.json["items"][0]["changes"]
    assert key not in feed.get_data(as_text=True)


def test_a_revoked_key_stops_working_at_once(app: Flask, client: FlaskClient) -> None:
    created = client.post("/api/v1/api-keys", json={"name": "import job", "role": "editor"}).json
    worker = client_with_key(app, created["key"])
    assert worker.post("/api/v1/themes", json={"slug": "t-1", "name": "T"}).status_code == 201
    assert client.delete(f"/api/v1/api-keys/{created['id']}").status_code == 204
    assert worker.post("/api/v1/themes", json={"slug": "t-2", "name": "T"}).status_code == 401
    shown = client.get(f"/api/v1/api-keys/{created['id']}").json
    assert shown["revoked_at"] is not None
    active = client.get("/api/v1/api-keys", query_string={"active": "true"}).json["items"]
    assert created["id"] not in [item["id"] for item in active]


def test_a_key_cannot_revoke_or_demote_itself(client: FlaskClient, session: Session) -> None:
    own = session.scalar(select(ApiKey.id).where(ApiKey.name == "test admin"))
    assert client.delete(f"/api/v1/api-keys/{own}").status_code == 409
    assert client.patch(f"/api/v1/api-keys/{own}", json={"role": "reader"}).status_code == 409
    assert client.patch(f"/api/v1/api-keys/{own}", json={"name": "still admin"}).status_code == 200


def test_last_used_at_is_kept(app: Flask, client: FlaskClient) -> None:
    created = client.post("/api/v1/api-keys", json={"name": "reader", "role": "reader"}).json
    assert created["last_used_at"] is None
    client_with_key(app, created["key"]).get("/api/v1/agreements")
    assert client.get(f"/api/v1/api-keys/{created['id']}").json["last_used_at"] is not None


def test_each_change_names_the_key_that_made_it(
    app: Flask, keys: dict[Role, str], session: Session
) -> None:
    editor = client_with_key(app, keys[Role.EDITOR])
    theme = editor.post(
        "/api/v1/themes", json={"slug": "audited", "name": "A"}, headers={"X-Request-ID": "req-7"}
    )
    editor_id = session.scalar(select(ApiKey.id).where(ApiKey.name == "test editor"))
    event = session.scalars(
        select(ChangeEvent).where(
            ChangeEvent.entity == "theme", ChangeEvent.entity_id == theme.json["id"]
        )
    ).one()
    assert (event.actor, event.actor_key_id, event.request_id) == (
        "test editor",
        editor_id,
        "req-7",
    )
    by_key = editor.get("/api/v1/changes", query_string={"actor_key_id": editor_id}).json["items"]
    assert [item["entity_id"] for item in by_key] == [theme.json["id"]]
    by_name = editor.get("/api/v1/changes", query_string={"actor": "test editor"}).json["items"]
    assert by_name == by_key


def test_the_cli_makes_a_working_key(app: Flask, connection: Connection) -> None:
    result = app.test_cli_runner().invoke(args=["create-api-key", "ci bot", "--role", "editor"])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert key.startswith("pt_")
    assert (
        client_with_key(app, key)
        .post("/api/v1/themes", json={"slug": "by-cli", "name": "x"})
        .status_code
        == 201
    )
    assert "keep it now" in result.stderr


def test_a_malformed_authorization_header_is_a_401(app: Flask, connection: Connection) -> None:
    client = app.test_client()
    for header in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "pt_key"):
        response = client.get("/api/v1/agreements", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
