"""Making, checking and revoking API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service import records, writes
from service.auth.models import ApiKey
from service.auth.permissions import allows
from service.db import read_in_autocommit, utcnow
from service.errors import Conflict
from service.pagination import Page, PageRequest, keyset_page
from service.vocabularies import EntityType, Role

if TYPE_CHECKING:  # the worker's own connection is the HTTP layer's; services are given it
    from service.lookups import Lookups

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


def create_api_key(session: Session, *, data: dict[str, Any]) -> NewKey:
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    record = ApiKey(name=data["name"], role=data["role"], prefix=prefix, key_hash=_hash(key))
    writes.add(session, record, API_KEY)
    writes.commit(session)
    return NewKey(record=record, key=key)


@dataclass(frozen=True)
class _StoredKey:
    """What authentication reads of a key's row."""

    id: int
    name: str
    role: Role
    key_hash: str
    active: bool
    last_used_at: datetime | None


# Read on the worker's own connection (service/lookups.py) on every keyed request.
KEY_STATEMENT = b"policy_tracker_api_key"
LOOKUPS = {
    KEY_STATEMENT: "SELECT id, name, role, key_hash, revoked_at IS NULL, "
    "extract(epoch FROM last_used_at) FROM api_keys WHERE prefix = $1"
}


def authenticate(session: Session, key: str, *, lookups: Lookups | None = None) -> Caller | None:
    """The caller a key belongs to, or None for an unknown, malformed or revoked key.
    The comparison takes the same time whatever the key. The key's row is read on the
    worker's own connection when `lookups` serves, else through `session`; either way
    afresh on every request, so a revoked key stops working at once."""
    prefix = _split(key)
    stored = _stored_key(session, prefix, lookups) if prefix else None
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


def _stored_key(session: Session, prefix: str, lookups: Lookups | None) -> _StoredKey | None:
    found = lookups.run(KEY_STATEMENT, [prefix.encode()]) if lookups is not None else None
    if found is None:
        read_in_autocommit(session)
        record = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()
        if record is None:
            return None
        return _StoredKey(
            record.id,
            record.name,
            record.role,
            record.key_hash,
            record.is_active,
            record.last_used_at,
        )
    if found.ntuples == 0:
        return None
    key_id, name, role, key_hash, active, last_used = (
        found.get_value(0, column) for column in range(6)
    )
    assert key_id and name and role and key_hash, "NOT NULL columns"
    return _StoredKey(
        int(key_id),
        name.decode(),
        Role(role.decode()),
        key_hash.decode(),
        active == b"t",
        None if last_used is None else datetime.fromtimestamp(float(last_used), UTC),
    )


def list_api_keys(session: Session, *, page: PageRequest, filters: dict[str, Any]) -> Page[ApiKey]:
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
    session: Session, *, api_key_id: int, data: dict[str, Any], check: writes.Check
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
