"""Who may call what, read from the spec itself: every write in openapi/openapi.json is
tried with no key, a wrong key, a revoked key, and a key of each role. A route added later
is covered here without anyone editing this file."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection

from service.auth.services import create_api_key, revoke_api_key
from service.core.vocabularies import Role
from tests.conftest import app_on_connection, client_with_key
from tests.helpers import ROOT

SPEC = json.loads((ROOT / "openapi" / "openapi.json").read_text())
OPERATIONS = [
    (method.upper(), path, operation)
    for path, item in SPEC["paths"].items()
    for method, operation in item.items()
    if method in {"get", "post", "patch", "delete"}
]
WRITES = [op for op in OPERATIONS if op[0] != "GET"]
READS = [op for op in OPERATIONS if op[0] == "GET"]


def needed_role(operation: dict[str, Any]) -> Role | None:
    """The least role the spec states for the operation (None: a public read)."""
    stated = operation["x-required-role"]
    return None if stated == "none" else Role(stated)


def url_of(path: str) -> str:
    # Any id will do: permission is settled before the record is looked up.
    return re.sub(r"\{[^}]+\}", "1", path)


def call(client: FlaskClient, method: str, path: str) -> Any:
    kwargs: dict[str, Any] = {"json": {}} if method in {"POST", "PATCH"} else {}
    response = client.open(url_of(path), method=method, **kwargs)
    response.get_data()  # an export streams: read it through, as a server would
    return response


def ids(operations: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    return [operation["operationId"] for _method, _path, operation in operations]


@pytest.fixture
def revoked_key(app: Flask, connection: Connection) -> str:
    with app.extensions["database"].session_factory() as session:
        new = create_api_key(session, data={"name": "old", "role": Role.ADMIN})
        revoke_api_key(session, api_key_id=new.id, check=lambda _record: None)
    return new.key


@pytest.mark.parametrize(("method", "path", "operation"), WRITES, ids=ids(WRITES))
def test_every_write_needs_a_good_key_of_the_right_role(
    app: Flask,
    keys: dict[Role, str],
    revoked_key: str,
    method: str,
    path: str,
    operation: dict[str, Any],
) -> None:
    for key in (None, "pt_deadbeef_" + "x" * 43, "not-a-key-at-all", revoked_key):
        response = call(client_with_key(app, key), method, path)
        assert response.status_code == 401, (key, response.json)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.mimetype == "application/problem+json"
    needed = needed_role(operation)
    assert needed is not None, "a write must need a role"
    for role in Role:
        response = call(client_with_key(app, keys[role]), method, path)
        if list(Role).index(role) >= list(Role).index(needed):
            assert response.status_code not in (401, 403), (role, response.json)
        else:
            assert response.status_code == 403, (role, response.json)
    assert operation["security"] == [{"bearerAuth": []}]
    assert {"401", "403"} <= set(operation["responses"])


@pytest.mark.parametrize(("method", "path", "operation"), READS, ids=ids(READS))
def test_reads_need_the_stated_role_and_a_bad_key_is_refused(
    app: Flask,
    keys: dict[Role, str],
    revoked_key: str,
    method: str,
    path: str,
    operation: dict[str, Any],
) -> None:
    needed = needed_role(operation)
    anonymous = call(client_with_key(app, None), method, path)
    assert (anonymous.status_code == 401) is (needed is not None), anonymous.json
    assert call(client_with_key(app, revoked_key), method, path).status_code == 401
    for role in Role:
        response = call(client_with_key(app, keys[role]), method, path)
        allowed = needed is None or list(Role).index(role) >= list(Role).index(needed)
        assert (response.status_code == 403) is not allowed, (role, response.json)
    # A public read states no security of its own (the generators then need no credentials
    # for it) and inherits the spec's: anonymous, or a key.
    security = operation.get("security", SPEC["security"])
    assert ({} in security and {"bearerAuth": []} in security) is (needed is None)
    assert ("security" in operation) is (needed is not None)
    assert "401" in operation["responses"]


@pytest.fixture
def private_app(database_url: str, connection: Connection) -> Flask:
    """An app with PUBLIC_READ=false, on the test's connection."""
    return app_on_connection(database_url, connection, public_read=False)


def test_with_public_read_off_reads_need_a_key(private_app: Flask, keys: dict[Role, str]) -> None:
    anonymous = client_with_key(private_app, None).get("/api/v1/agreements")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="policy-tracker"'
    assert (
        client_with_key(private_app, keys[Role.READER]).get("/api/v1/agreements").status_code == 200
    )
    assert (
        client_with_key(private_app, keys[Role.READER]).post("/api/v1/themes", json={}).status_code
        == 403
    )


def test_probes_and_docs_need_no_key(app: Flask) -> None:
    client = client_with_key(app, "pt_deadbeef_" + "x" * 43)
    assert client.get("/healthz").status_code == 200
    assert client.get("/docs").status_code == 200


def test_the_spec_declares_the_bearer_scheme() -> None:
    assert SPEC["components"]["securitySchemes"] == {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key: `Authorization: Bearer pt_...`.",
        }
    }
