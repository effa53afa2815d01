"""Idempotency-Key on POST: a retry returns the first response and creates nothing more."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.auth.models import ApiKey
from service.core.db import utcnow
from service.idempotency.models import IdempotencyKey
from service.themes.models import Theme

BODY = {"slug": "defence", "name": "Defence"}


def admin_scope(session: Session) -> str:
    """Keys are scoped to the API key that sent them: here the test client's admin key."""
    return str(session.scalar(select(ApiKey.id).where(ApiKey.name == "test admin")))


def themes(session: Session) -> int:
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(Theme).where(Theme.deleted_at.is_(None)))
        or 0
    )


def test_a_replay_returns_the_first_response_byte_for_byte(
    client: FlaskClient, session: Session
) -> None:
    first = client.post("/api/v1/themes", json=BODY, headers={"Idempotency-Key": "k-1"})
    again = client.post(
        "/api/v1/themes",
        json={"name": "Defence", "slug": "defence"},
        headers={"Idempotency-Key": "k-1"},
    )
    assert first.status_code == again.status_code == 201
    assert again.get_data() == first.get_data()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert themes(session) == 1


def test_the_same_key_with_another_body_is_a_422(client: FlaskClient, session: Session) -> None:
    client.post("/api/v1/themes", json=BODY, headers={"Idempotency-Key": "k-2"})
    other = client.post(
        "/api/v1/themes", json={**BODY, "name": "Security"}, headers={"Idempotency-Key": "k-2"}
    )
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json["errors"]
    elsewhere = client.post(
        "/api/v1/people", json={"slug": "x", "name": "X"}, headers={"Idempotency-Key": "k-2"}
    )
    assert elsewhere.status_code == 422
    assert themes(session) == 1


def test_a_key_whose_first_request_is_still_running_is_a_409(
    client: FlaskClient, session: Session
) -> None:
    import hashlib
    import json

    canonical = json.dumps(BODY, sort_keys=True, separators=(",", ":")).encode()
    fingerprint = hashlib.sha256(b"POST /api/v1/themes\n" + canonical).hexdigest()
    session.add(
        IdempotencyKey(
            scope=admin_scope(session),
            key="k-3",
            fingerprint=fingerprint,
            expires_at=utcnow() + timedelta(hours=1),
        )
    )
    session.commit()
    response = client.post("/api/v1/themes", json=BODY, headers={"Idempotency-Key": "k-3"})
    assert response.status_code == 409
    assert response.headers["Retry-After"] == "1"
    assert themes(session) == 0


def test_an_expired_key_starts_afresh(client: FlaskClient, session: Session) -> None:
    session.add(
        IdempotencyKey(
            scope="",
            key="k-4",
            fingerprint="0" * 64,
            expires_at=utcnow() - timedelta(seconds=1),
            response_status=201,
            response_headers={},
            response_body=b"{}",
        )
    )
    session.commit()
    response = client.post("/api/v1/themes", json=BODY, headers={"Idempotency-Key": "k-4"})
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers


def test_a_failed_request_releases_its_key(client: FlaskClient, session: Session) -> None:
    refused = client.post(
        "/api/v1/themes", json={"slug": "Bad Slug", "name": "x"}, headers={"Idempotency-Key": "k-5"}
    )
    assert refused.status_code == 422
    fixed = client.post("/api/v1/themes", json=BODY, headers={"Idempotency-Key": "k-5"})
    assert fixed.status_code == 201
    assert (
        session.scalar(
            select(func.count()).select_from(IdempotencyKey).where(IdempotencyKey.key == "k-5")
        )
        == 1
    )


def test_a_malformed_key_is_a_400(client: FlaskClient) -> None:
    for key in ("", "x" * 256, "with space"):
        response = client.post("/api/v1/themes", json=BODY, headers={"Idempotency-Key": key})
        assert response.status_code == 400, key
        assert "Idempotency-Key" in response.json["errors"]


def test_without_a_key_each_post_creates(client: FlaskClient, session: Session) -> None:
    assert client.post("/api/v1/themes", json=BODY).status_code == 201
    assert client.post("/api/v1/themes", json=BODY).status_code == 409
