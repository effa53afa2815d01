"""What the seed loader made, and whether users have touched it since.

The ledger (`seed_records`) maps each record of the seed files to the record made from it.
Whether a user changed or deleted that record after seeding is read from the change feed,
the audit trail every write leaves: any event on it not written by the seed loader itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, select
from sqlalchemy.orm import Session

from service.changes.models import ChangeEvent
from service.core.vocabularies import EntityType
from service.seeding.models import SeedRecord

SEED_ACTOR = "seed"


def by_the_seed_loader() -> ColumnElement[bool]:
    """Change events the seed loader wrote: its actor, and no API key (a key may be *named*
    "seed", but an API write always carries its key's id)."""
    return and_(ChangeEvent.actor == SEED_ACTOR, ChangeEvent.actor_key_id.is_(None))


def is_seeded(session: Session) -> bool:
    """Whether the seed data was ever loaded here: then a start writes nothing."""
    if session.scalar(select(SeedRecord.seed_key).limit(1)) is not None:
        return True
    # Seeded before the ledger existed: the loader's own change events say so.
    return session.scalar(select(ChangeEvent.seq).where(by_the_seed_loader()).limit(1)) is not None


class Ledger:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.entries: dict[str, tuple[EntityType, int]] = {
            row.seed_key: (row.entity, row.entity_id) for row in session.scalars(select(SeedRecord))
        }
        self.visited: set[str] = set()

    def record(self, key: str, model: Any) -> Any | None:
        """The record made for `key`, live or deleted, whatever users renamed since."""
        entry = self.entries.get(key)
        return None if entry is None else self.session.get(model, entry[1])

    def remember(self, key: str, entity: EntityType, record_id: int) -> None:
        if self.entries.get(key) != (entity, record_id):
            self.session.merge(SeedRecord(seed_key=key, entity=entity, entity_id=record_id))
            self.entries[key] = (entity, record_id)

    def claimed_by_another(self, key: str, entity: EntityType, record_id: int) -> bool:
        """Whether the record was made for another key of the files."""
        return any(
            entry == (entity, record_id) and other != key for other, entry in self.entries.items()
        )

    def forget(self, key: str) -> None:
        self.session.execute(delete(SeedRecord).where(SeedRecord.seed_key == key))
        self.entries.pop(key, None)

    def visit(self, key: str) -> None:
        self.visited.add(key)

    def visit_under(self, key: str) -> None:
        """Count every record below `key` as seen: its parent was left alone."""
        self.visited.update(other for other in self.entries if other.startswith(f"{key}/"))

    def unvisited(self) -> list[str]:
        # Deepest first: a record's citations and children go before the record.
        return sorted(
            (key for key in self.entries if key not in self.visited),
            key=lambda key: (-key.count("/"), key),
        )

    def touched_by_users(self, entity: EntityType, record_id: int) -> bool:
        """Whether anyone but the seed loader wrote this record (created, changed, deleted)."""
        return bool(
            self.session.scalar(
                select(
                    exists().where(
                        ChangeEvent.entity == entity,
                        ChangeEvent.entity_id == record_id,
                        ~by_the_seed_loader(),
                    )
                )
            )
        )
