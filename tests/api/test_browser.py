"""CORS for the configured origins only, and the headers that keep browsers safe."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import Connection

from service import create_app
from service.core.config import Settings, SettingsError
from service.core.vocabularies import Role
from tests.conftest import DASHBOARD, TEST_SECRET_KEY, client_with_key


def test_an_allowed_origin_gets_cors_headers_and_the_useful_ones_exposed(cors_app: Flask) -> None:
    response = cors_app.test_client().get("/api/v1/themes", headers={"Origin": DASHBOARD})
    assert response.headers["Access-Control-Allow-Origin"] == DASHBOARD
    exposed = {
        name.strip() for name in response.headers["Access-Control-Expose-Headers"].split(",")
    }
    assert {"ETag", "Location", "Link", "Retry-After", "X-Request-ID"} <= exposed
    assert "Origin" in response.headers["Vary"]


def test_another_origin_gets_no_cors_headers(cors_app: Flask) -> None:
    response = cors_app.test_client().get(
        "/api/v1/themes", headers={"Origin": "https://evil.example"}
    )
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_preflight_from_an_allowed_origin(cors_app: Flask) -> None:
    client = cors_app.test_client()
    headers = {
        "Origin": DASHBOARD,
        "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "Authorization, If-Match",
    }
    response = client.options("/api/v1/themes/1", headers=headers)
    assert response.status_code == 204
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    assert "If-Match" in response.headers["Access-Control-Allow-Headers"]
    refused = client.options(
        "/api/v1/themes/1", headers={**headers, "Origin": "https://evil.example"}
    )
    assert "Access-Control-Allow-Methods" not in refused.headers


def test_no_origin_is_allowed_by_default(app: Flask, connection: Connection) -> None:
    response = app.test_client().get("/api/v1/themes", headers={"Origin": DASHBOARD})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_origins_must_be_origins() -> None:
    with pytest.raises(SettingsError):
        Settings.from_env(
            {"CORS_ORIGINS": "https://ok.example, dashboard.example/path", "SECRET_KEY": "k" * 32}
        )
    settings = Settings.from_env(
        {"CORS_ORIGINS": "https://a.example, https://b.example/", "SECRET_KEY": "k" * 32}
    )
    assert settings.cors_origins == ("https://a.example", "https://b.example")


def test_safety_headers(app: Flask, keys: dict[Role, str]) -> None:
    public = client_with_key(app, None).get("/api/v1/themes")
    assert public.headers["X-Content-Type-Options"] == "nosniff"
    assert public.headers["X-Frame-Options"] == "DENY"
    assert public.headers["Referrer-Policy"] == "no-referrer"
    assert public.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert public.headers["Cache-Control"] == "no-cache"
    authenticated = client_with_key(app, keys[Role.READER]).get("/api/v1/themes")
    assert authenticated.headers["Cache-Control"] == "no-store"
    assert "Authorization" in authenticated.headers["Vary"]
    docs = client_with_key(app, None).get("/docs")
    assert "script-src 'self'" in docs.headers["Content-Security-Policy"]


def test_the_docs_can_be_turned_off(database_url: str) -> None:
    app = create_app(
        Settings(database_url=database_url, secret_key=TEST_SECRET_KEY, docs_enabled=False)
    )
    client = app.test_client()
    assert client.get("/docs").status_code == 404
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 404
    app.extensions["database"].engine.dispose()


def test_debug_mode_is_off_unless_asked_for() -> None:
    assert Settings.from_env({"SECRET_KEY": "k" * 32}).debug is False
    app = create_app(Settings(database_url="sqlite://", secret_key=TEST_SECRET_KEY))
    assert app.debug is False
