"""Issue 15, item 2: a new API key is never stored in the clear, not even as the stored
answer of an Idempotency-Key, and expired idempotency keys are purged."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.auth.models import ApiKey
from service.core.db import utcnow
from service.idempotency.models import IdempotencyKey
from service.idempotency.services import PURGE_BATCH

BODY = {"name": "nightly import", "role": "editor"}


def test_a_new_key_is_not_stored_for_a_replay_and_a_replay_does_not_show_it(
    client: FlaskClient, session: Session
) -> None:
    first = client.post("/api/v1/api-keys", json=BODY, headers={"Idempotency-Key": "mk-1"})
    assert first.status_code == 201
    secret = first.json["key"]
    secret_part = secret.split("_", 2)[2]

    stored = session.scalars(select(IdempotencyKey).where(IdempotencyKey.key == "mk-1")).one()
    assert stored.response_status == 201
    for column in (stored.response_body or b"", repr(stored.response_headers).encode()):
        assert secret_part.encode() not in column

    again = client.post("/api/v1/api-keys", json=BODY, headers={"Idempotency-Key": "mk-1"})
    assert again.status_code == 409, again.json
    assert again.mimetype == "application/problem+json"
    assert "Idempotency-Key" in again.json["errors"]
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert secret_part not in again.get_data(as_text=True)
    made = session.scalar(select(func.count()).where(ApiKey.name == BODY["name"]))
    assert made == 1, "the replay made no second key"
    # The key that was made still works: the replay only withheld its secret.
    me = client.get(first.headers["Location"], headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 403  # an editor key, let in but not to key management

    # Other creates replay as before, byte for byte.
    theme = {"slug": "replayed", "name": "Replayed"}
    one = client.post("/api/v1/themes", json=theme, headers={"Idempotency-Key": "mk-2"})
    two = client.post("/api/v1/themes", json=theme, headers={"Idempotency-Key": "mk-2"})
    assert (one.status_code, two.status_code) == (201, 201)
    assert one.get_data() == two.get_data()


def test_expired_idempotency_keys_are_purged_a_batch_per_new_key(
    client: FlaskClient, session: Session
) -> None:
    now = utcnow()
    for n in range(PURGE_BATCH + 5):
        session.add(
            IdempotencyKey(
                scope="someone",
                key=f"old-{n}",
                fingerprint="0" * 64,
                created_at=now - timedelta(days=3),
                expires_at=now - timedelta(days=2, minutes=n),
                response_status=201,
                response_headers={},
                response_body=b"{}",
            )
        )
    session.add(
        IdempotencyKey(
            scope="someone",
            key="live",
            fingerprint="0" * 64,
            expires_at=now + timedelta(hours=1),
        )
    )
    session.commit()

    def keys_left() -> set[str]:
        session.expire_all()
        return set(session.scalars(select(IdempotencyKey.key)))

    response = client.post(
        "/api/v1/themes", json={"slug": "purger", "name": "P"}, headers={"Idempotency-Key": "p-1"}
    )
    assert response.status_code == 201
    left = keys_left()
    # The oldest expired first, a bounded batch of them; live keys stay.
    assert left == {"live", "p-1"} | {f"old-{n}" for n in range(5)}
    # A replay is not a new key: it purges nothing.
    client.post(
        "/api/v1/themes", json={"slug": "purger", "name": "P"}, headers={"Idempotency-Key": "p-1"}
    )
    assert keys_left() == left
    client.post(
        "/api/v1/themes", json={"slug": "purger-2", "name": "P"}, headers={"Idempotency-Key": "p-2"}
    )
    assert keys_left() == {"live", "p-1", "p-2"}
