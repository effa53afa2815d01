"""The generic step of a seed load: bring one record of the database in line with one record
of the seed files, unless a user changed it since, and remove what the files no longer hold."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import marshmallow as ma
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.agreements import participants as agreement_participants
from service.agreements import relations as agreement_relations
from service.agreements import services as agreements
from service.changes.recording import json_value
from service.commitments import services as commitments
from service.core.errors import DomainError
from service.core.vocabularies import EntityType
from service.meetings import services as meetings
from service.organizations import services as organizations
from service.people import services as people
from service.seeding.files import SeedError
from service.seeding.ledger import Ledger
from service.seeding.report import SeedDifference, SeedReport
from service.sources import services as sources
from service.themes import services as themes

USER_CHANGED = "changed by a user after seeding"
USER_DELETED = "deleted by a user after seeding"


def no_check(_record: Any) -> None:
    return None


# Fields whose value the model exposes under another name, and lists whose order is not data.
_READ_AS = {"themes": "theme_slugs"}
_UNORDERED = {
    "themes",
    "signer_ids",
    "source_ids",
    "organization_ids",
    "agenda_commitment_ids",
    "agreements",
}


def _comparable(field_name: str, value: Any) -> Any:
    value = json_value(value)
    if field_name in _UNORDERED and isinstance(value, list):
        return sorted(value, key=repr)
    return value


def differing_fields(record: Any, desired: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The desired fields whose values the record does not have: name -> (record's, desired)."""
    differing = {}
    for name, value in desired.items():
        current = _comparable(name, getattr(record, _READ_AS.get(name, name)))
        if current != _comparable(name, value):
            differing[name] = (current, _comparable(name, value))
    return differing


def load_fields(schema: type[ma.Schema], data: dict[str, Any], where: str) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema().load(data)
    except ma.ValidationError as error:
        raise SeedError(f"{where}: {error.messages}") from error
    # Only what the file states is compared and written; schema defaults fill in creation.
    return {name: value for name, value in loaded.items() if name in data}


# How the seed loader removes a record the files no longer hold: as a user's DELETE would.
_REMOVERS: dict[EntityType, Callable[[Session, Any], None]] = {
    EntityType.THEME: lambda s, r: themes.delete_theme(s, theme_ref=str(r.id), check=no_check),
    EntityType.SOURCE: lambda s, r: sources.delete_source(s, source_id=r.id, check=no_check),
    EntityType.CITATION: lambda s, r: sources.delete_citation(s, citation_id=r.id, check=no_check),
    EntityType.ORGANIZATION: lambda s, r: organizations.delete_organization(
        s, organization_ref=str(r.id), check=no_check
    ),
    EntityType.POST: lambda s, r: organizations.delete_post(s, post_id=r.id, check=no_check),
    EntityType.PERSON: lambda s, r: people.delete_person(s, person_ref=str(r.id), check=no_check),
    EntityType.MEMBERSHIP: lambda s, r: people.delete_membership(
        s, membership_id=r.id, check=no_check
    ),
    EntityType.AGREEMENT: lambda s, r: agreements.delete_agreement(
        s, agreement_ref=str(r.id), check=no_check
    ),
    EntityType.AGREEMENT_PARTICIPANT: lambda s, r: (
        agreement_participants.delete_agreement_participant(
            s, agreement_ref=str(r.agreement_id), participant_id=r.id, check=no_check
        )
    ),
    EntityType.AGREEMENT_EVENT: lambda s, r: agreements.delete_agreement_event(
        s, agreement_ref=str(r.agreement_id), event_id=r.id, check=no_check
    ),
    EntityType.AGREEMENT_RELATION: lambda s, r: agreement_relations.delete_agreement_relation(
        s, agreement_ref=str(r.agreement_id), relation_id=r.id, check=no_check
    ),
    EntityType.COMMITMENT: lambda s, r: commitments.delete_commitment(
        s, commitment_id=r.id, check=no_check
    ),
    EntityType.MEETING_SERIES: lambda s, r: meetings.delete_meeting_series(
        s, series_ref=str(r.id), check=no_check
    ),
    EntityType.MEETING: lambda s, r: meetings.delete_meeting(s, meeting_id=r.id, check=no_check),
    EntityType.MEETING_PARTICIPANT: lambda s, r: meetings.delete_meeting_participant(
        s, meeting_id=r.meeting_id, participant_id=r.id, check=no_check
    ),
}


def _is_deleted(record: Any) -> bool:
    return getattr(record, "deleted_at", None) is not None


class SeedSync:
    """Brings records in line with the files, one at a time, and reports every difference."""

    def __init__(self, session: Session, *, overwrite_user_changes: bool = False) -> None:
        self.session = session
        self.overwrite = overwrite_user_changes
        self.ledger = Ledger(session)
        self.report = SeedReport()

    def touched_by_users(self, entity: EntityType, record: Any) -> bool:
        if entity is EntityType.ASSESSMENT and record.superseded_by is not None:
            # Assessments never change; a user corrects one by superseding it.
            return True
        return self.ledger.touched_by_users(entity, record.id)

    def existing(self, model: Any, *conditions: Any) -> Any | None:
        """The record with this natural key, live first, else the latest deleted one: what the
        ledger does not know yet (a database seeded before it existed)."""
        order = [model.id.desc()]
        if hasattr(model, "deleted_at"):  # assessments are never deleted
            order.insert(0, model.deleted_at.is_not(None))
        statement = select(model).where(*conditions).order_by(*order).limit(1)
        return self.session.scalars(statement).first()

    def sync(
        self,
        kind: str,
        key: str,
        entity: EntityType,
        model: Any,
        natural_key: tuple[Any, ...],
        desired: dict[str, Any],
        create: Callable[[Any], Any],
        update: Callable[[Any, Any], Any],
    ) -> Any | None:
        """The record for `key` as the files describe it; None when a user deleted it."""
        if key in self.ledger.visited:
            raise SeedError(f"{key}: listed twice in the seed files")
        self.ledger.visit(key)
        record = self.ledger.record(key, model)
        if record is None:
            record = self.existing(model, *natural_key)
            if record is not None and self.ledger.claimed_by_another(key, entity, record.id):
                record = None
        try:
            return self._sync(kind, key, entity, record, desired, create, update)
        except DomainError as error:
            details = "; ".join(
                f"{name}: {' '.join(messages)}" for name, messages in error.errors.items()
            )
            raise SeedError(f"{key}: {error.detail} {details}".strip()) from error

    def _sync(
        self,
        kind: str,
        key: str,
        entity: EntityType,
        record: Any | None,
        desired: dict[str, Any],
        create: Callable[[Any], Any],
        update: Callable[[Any, Any], Any],
    ) -> Any | None:
        action = "create"
        if record is not None and _is_deleted(record):
            if self.touched_by_users(entity, record) and not self.overwrite:
                self._differ(SeedDifference(key, "re-create", record.id, left_alone=USER_DELETED))
                self.ledger.visit_under(key)
                return None
            # Removed by an earlier load (or overwriting a user's delete): made anew.
            record, action = None, "re-create"
        if record is None:
            made = create(desired)
            self.ledger.remember(key, entity, made.id)
            self.report.created[kind] += 1
            self._differ(SeedDifference(key, action, made.id))
            return made
        self.ledger.remember(key, entity, record.id)
        fields = differing_fields(record, desired)
        if not fields:
            self.report.unchanged[kind] += 1
            return record
        if self.touched_by_users(entity, record) and not self.overwrite:
            self._differ(SeedDifference(key, "update", record.id, fields, left_alone=USER_CHANGED))
            return record
        updated = update(record, {name: desired[name] for name in fields})
        self.ledger.remember(key, entity, updated.id)
        self.report.updated[kind] += 1
        self._differ(SeedDifference(key, "update", record.id, fields))
        return updated

    def _differ(self, difference: SeedDifference) -> None:
        self.report.differences.append(difference)

    def remove_what_the_files_dropped(self, model_of: Callable[[EntityType], Any]) -> None:
        """Remove each seeded record the files no longer hold, deepest first, unless a user
        changed it since."""
        dropped = self.ledger.unvisited()
        for key in dropped:
            entity, record_id = self.ledger.entries[key]
            owner, _, _ = key.rpartition("/assessment/")
            if entity is EntityType.ASSESSMENT and owner in dropped:
                # Part of its commitment's history: it goes when the commitment does.
                self.ledger.forget(key)
                continue
            record = self.session.get(model_of(entity), record_id)
            if record is None or _is_deleted(record):
                self.ledger.forget(key)
                continue
            if self.touched_by_users(entity, record) and not self.overwrite:
                reason = f"{USER_CHANGED}; no longer in the seed files"
                self._differ(SeedDifference(key, "remove", record.id, left_alone=reason))
                continue
            remover = _REMOVERS.get(entity)
            if remover is None:
                reason = f"an {entity.value} is never removed; supersede it in the seed files"
                self._differ(SeedDifference(key, "remove", record.id, left_alone=reason))
                continue
            try:
                remover(self.session, record)
            except DomainError as error:
                self._differ(SeedDifference(key, "remove", record.id, left_alone=error.detail))
                continue
            self.ledger.forget(key)
            self.report.removed[entity.value] += 1
            self._differ(SeedDifference(key, "remove", record.id))
