"""Claiming, completing and releasing idempotency keys. Each call commits on its own: a
claim must be visible to concurrent requests before the request it guards runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.core.db import utcnow
from service.idempotency.models import IdempotencyKey


class ClaimOutcome(Enum):
    NEW = "new"  # the caller runs the request, then completes or releases the key
    REPLAY = "replay"  # the first response is returned again
    IN_PROGRESS = "in_progress"  # the first request with this key has not finished
    MISMATCH = "mismatch"  # the key was used for another request


@dataclass(frozen=True)
class Claim:
    outcome: ClaimOutcome
    record: IdempotencyKey | None = None


def _judge(existing: IdempotencyKey, fingerprint: str) -> Claim:
    if existing.fingerprint != fingerprint:
        return Claim(ClaimOutcome.MISMATCH, existing)
    if existing.response_status is None:
        return Claim(ClaimOutcome.IN_PROGRESS, existing)
    return Claim(ClaimOutcome.REPLAY, existing)


def claim(session: Session, *, scope: str, key: str, fingerprint: str, ttl: timedelta) -> Claim:
    now = utcnow()
    lookup = select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    existing = session.scalars(lookup).first()
    if existing is not None and existing.expires_at <= now:
        session.delete(existing)
        session.flush()
        existing = None
    if existing is not None:
        judged = _judge(existing, fingerprint)
        session.commit()
        return judged
    # Each new key clears more expired ones than it adds, so the table holds about the keys
    # still live, with no cleaning job to run.
    purge_expired(session, limit=PURGE_BATCH)
    session.add(
        IdempotencyKey(
            scope=scope, key=key, fingerprint=fingerprint, created_at=now, expires_at=now + ttl
        )
    )
    try:
        session.commit()
    except IntegrityError:
        # Another request claimed the same key between our read and our insert.
        session.rollback()
        winner = session.scalars(lookup).first()
        session.commit()
        return _judge(winner, fingerprint) if winner else Claim(ClaimOutcome.IN_PROGRESS)
    return Claim(ClaimOutcome.NEW)


def complete(
    session: Session, *, scope: str, key: str, status: int, headers: dict[str, Any], body: bytes
) -> None:
    record = session.scalars(
        select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    ).first()
    if record is not None:
        record.response_status = status
        record.response_headers = headers
        record.response_body = body
    session.commit()


def release(session: Session, *, scope: str, key: str) -> None:
    """Forget a claim whose request did not succeed, so the client may retry with the key."""
    session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    )
    session.commit()


# Expired keys deleted along with each new claim: a few index entries, in the same commit.
PURGE_BATCH = 10


def purge_expired(session: Session, *, limit: int | None = None) -> int:
    """Delete expired keys (at most `limit`, oldest first), in the caller's transaction; rows
    another transaction is deleting are skipped, not waited for. Return how many."""
    expired = (
        select(IdempotencyKey.id)
        .where(IdempotencyKey.expires_at <= utcnow())
        .order_by(IdempotencyKey.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result = session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.id.in_(expired)),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
