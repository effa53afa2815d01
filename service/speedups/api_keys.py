"""An API key's row read on the worker's own connection (lookups.py): every keyed request
reads it, and a session to read one row cost more than the lookup (bench/notes.md). What a
key's row means (active, revoked, when last used) stays in service/auth/services.py; this
reads the same columns and turns PostgreSQL's text back into the values a session gives."""

from __future__ import annotations

from datetime import UTC, datetime

from service.auth.services import StoredKey, StoredKeyReader
from service.core.vocabularies import Role
from service.speedups.lookups import Lookups

KEY_STATEMENT = b"policy_tracker_api_key"
LOOKUPS = {
    KEY_STATEMENT: "SELECT id, name, role, key_hash, revoked_at IS NULL, "
    "extract(epoch FROM last_used_at) FROM api_keys WHERE prefix = $1"
}


def stored_key_reader(lookups: Lookups) -> StoredKeyReader:
    def read(prefix: str) -> list[StoredKey] | None:
        rows = lookups.rows(KEY_STATEMENT, [prefix])
        if rows is None:
            return None
        return [_stored_key(*row) for row in rows]

    return read


def _stored_key(
    key_id: str | None,
    name: str | None,
    role: str | None,
    key_hash: str | None,
    active: str | None,
    last_used: str | None,
) -> StoredKey:
    assert key_id and name and role and key_hash, "NOT NULL columns"
    return StoredKey(
        int(key_id),
        name,
        Role(role),
        key_hash,
        active == "t",
        None if last_used is None else datetime.fromtimestamp(float(last_used), UTC),
    )
