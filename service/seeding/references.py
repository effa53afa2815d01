"""What the seed loader's steps share: the records made so far, by the files' handles, and
the references a record of the files makes to others (by slug, by key)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from service.agreements.models import Agreement
from service.core import records
from service.core.vocabularies import EntityType
from service.meetings.models import Meeting
from service.organizations.models import Organization
from service.people.models import Person
from service.seeding.files import SeedError
from service.seeding.sync import SeedSync

E = EntityType


@dataclass
class PendingCitation:
    owner_key: str
    entity_type: EntityType
    entity_id: int
    data: dict[str, Any]


@dataclass
class PendingAssessment:
    key: str
    commitment_id: int
    data: dict[str, Any]


class SeedReferences(SeedSync):
    def __init__(
        self,
        session: Session,
        on_step: Callable[[str], None] | None = None,
        *,
        overwrite_user_changes: bool = False,
    ) -> None:
        super().__init__(session, overwrite_user_changes=overwrite_user_changes)
        self.on_step = on_step or (lambda _step: None)
        self.source_ids: dict[str, int] = {}
        self.post_ids: dict[str, int] = {}
        self.citations: list[PendingCitation] = []
        self.assessments: list[PendingAssessment] = []

    # --- references -------------------------------------------------------------------------

    def _id(self, model: Any, entity: EntityType, key: str, slug: str, where: str) -> int:
        """The id of the record a file names by slug: the one seeded for it, though a user
        renamed it since, else the live record with that slug."""
        record = self.ledger.record(key, model)
        if record is not None and record.deleted_at is None:
            return int(record.id)
        record_id = records.id_for_ref(self.session, model, slug)
        if record_id is None:
            raise SeedError(f"{where}: no {records.entity_label(entity)} {slug!r}")
        return record_id

    def _organization(self, slug: str, where: str) -> int:
        return self._id(Organization, E.ORGANIZATION, f"organization/{slug}", slug, where)

    def _person(self, slug: str, where: str) -> int:
        return self._id(Person, E.PERSON, f"person/{slug}", slug, where)

    def _agreement(self, slug: str, where: str) -> int:
        return self._id(Agreement, E.AGREEMENT, f"agreement/{slug}", slug, where)

    def _cite(self, key: str, entity: EntityType, record: Any | None, item: dict[str, Any]) -> None:
        if record is None:
            return
        for citation in item.get("citations", []):
            self.citations.append(PendingCitation(key, entity, record.id, citation))

    # --- the entities, in dependency order --------------------------------------------------

    def _commitment_id(self, external_id: str, where: str) -> int:
        """A commitment of the seed files (an agenda names it by its external id)."""
        for key in self.ledger.visited:
            if key.endswith(f"/commitment/{external_id}") and key in self.ledger.entries:
                return self.ledger.entries[key][1]
        raise SeedError(f"{where}: no commitment with external_id {external_id!r} in the files")

    def _meeting_id(self, reference: str, where: str) -> int:
        record = self.ledger.record(f"meeting/{reference}", Meeting)
        if record is None or record.deleted_at is not None:
            raise SeedError(f"{where}: no meeting {reference!r}")
        return int(record.id)
