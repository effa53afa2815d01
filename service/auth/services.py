"""Making, checking and revoking API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.auth.inputs import ApiKeyFilters, ApiKeyIn
from service.auth.models import ApiKey
from service.auth.permissions import allows
from service.core import records, writes
from service.core.db import read_in_autocommit, utcnow
from service.core.errors import Conflict
from service.core.pagination import Page, PageRequest, keyset_page
from service.core.vocabularies import EntityType, Role

API_KEY = EntityType.API_KEY
KEY_PREFIX = "pt"
# last_used_at is kept to this resolution: a busy key does not write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Caller:
    """Who is making a request, as far as permissions go. Never holds the secret."""

    key_id: int
    name: str
    role: Role

    def can(self, needed: Role) -> bool:
        return allows(self.role, needed)


def _hash(key: str) -> str:
    # The keys are 256-bit random values: a fast hash cannot be reversed by guessing.
    return hashlib.sha256(key.encode()).hexdigest()


def _split(key: str) -> str | None:
    """The prefix of a well-formed key, `pt_<prefix>_<secret>`."""
    parts = key.split("_", 2)  # the secret itself may hold "_"
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 8 or len(parts[2]) < 32:
        return None
    return parts[1]


@dataclass(frozen=True)
class NewKey:
    """A key just made: the record, and the secret, which is shown this once."""

    record: ApiKey
    key: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.record, name)


def create_api_key(session: Session, *, data: ApiKeyIn) -> NewKey:
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    record = ApiKey(name=data["name"], role=data["role"], prefix=prefix, key_hash=_hash(key))
    writes.add(session, record, API_KEY)
    writes.commit(session)
    return NewKey(record=record, key=key)


@dataclass(frozen=True)
class StoredKey:
    """What authentication reads of a key's row."""

    id: int
    name: str
    role: Role
    key_hash: str
    active: bool
    last_used_at: datetime | None


# A faster way to read a key's row than a session (service/speedups gives one): the rows
# found for a prefix (none or one), or None when it cannot answer and the session must.
StoredKeyReader = Callable[[str], "list[StoredKey] | None"]
# Where the app keeps one (app.extensions), when it has one.
STORED_KEY_READER = "stored_key_reader"


def authenticate(
    session: Session, key: str, *, read_stored_key: StoredKeyReader | None = None
) -> Caller | None:
    """The caller a key belongs to, or None for an unknown, malformed or revoked key.
    The comparison takes the same time whatever the key. The key's row is read afresh on
    every request (by `read_stored_key` when given and it answers, else through
    `session`), so a revoked key stops working at once."""
    prefix = _split(key)
    stored = stored_key(session, prefix, read_stored_key) if prefix else None
    expected = stored.key_hash if stored is not None else _hash("no such key")
    if not hmac.compare_digest(expected, _hash(key)) or stored is None or not stored.active:
        return None
    now = utcnow()
    if stored.last_used_at is None or now - stored.last_used_at > LAST_USED_RESOLUTION:
        # Not a change of the record: no ChangeEvent, and no lock beyond this one row.
        read_in_autocommit(session)
        session.execute(update(ApiKey).where(ApiKey.id == stored.id).values(last_used_at=now))
        session.commit()
    return Caller(key_id=stored.id, name=stored.name, role=stored.role)


def stored_key(
    session: Session, prefix: str, read_stored_key: StoredKeyReader | None = None
) -> StoredKey | None:
    """The row of the key with this prefix, or None."""
    found = read_stored_key(prefix) if read_stored_key is not None else None
    if found is not None:
        return found[0] if found else None
    read_in_autocommit(session)
    record = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()
    if record is None:
        return None
    return StoredKey(
        record.id,
        record.name,
        record.role,
        record.key_hash,
        record.is_active,
        record.last_used_at,
    )


def list_api_keys(session: Session, *, page: PageRequest, filters: ApiKeyFilters) -> Page[ApiKey]:
    statement = select(ApiKey)
    if "role" in filters:
        statement = statement.where(ApiKey.role == filters["role"])
    if "active" in filters:
        revoked = ApiKey.revoked_at.is_not(None)
        statement = statement.where(~revoked if filters["active"] else revoked)
    return keyset_page(session, statement, ApiKey.id, page)


def get_api_key(session: Session, *, api_key_id: int) -> ApiKey:
    return records.find(session, ApiKey, API_KEY, api_key_id)


def _not_the_callers_own(record: ApiKey, caller_key_id: int | None, action: str) -> None:
    # An admin who revokes or demotes the key they are using locks themselves out.
    if caller_key_id is not None and record.id == caller_key_id:
        raise Conflict(f"A key cannot {action}; use another admin key.")


def update_api_key(
    session: Session, *, api_key_id: int, data: ApiKeyIn, check: writes.Check
) -> ApiKey:
    record = records.find(session, ApiKey, API_KEY, api_key_id, for_update=True)
    check(record)
    if "role" in data and data["role"] != record.role:
        _not_the_callers_own(record, session.info.get("actor_key_id"), "change its own role")
    writes.record_update(session, record, API_KEY, writes.assign(record, data))
    writes.commit(session)
    return record


def revoke_api_key(session: Session, *, api_key_id: int, check: writes.Check) -> None:
    """Revoke a key: it stops working at once, and stays listed with its revocation date."""
    record = records.find(session, ApiKey, API_KEY, api_key_id, for_update=True)
    check(record)
    _not_the_callers_own(record, session.info.get("actor_key_id"), "revoke itself")
    if record.revoked_at is None:
        writes.record_update(
            session, record, API_KEY, writes.assign(record, {"revoked_at": utcnow()})
        )
        writes.commit(session)
