"""Loading the reviewed seed files in `seeds/` through the same schemas and services as the
API, idempotently: a record is found by its natural key, created when missing, patched when a
field differs, and left alone otherwise, so a second load writes nothing at all."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import marshmallow as ma
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import crud
from service.agreements import services as agreements
from service.agreements.models import (
    Agreement,
    AgreementEvent,
    AgreementParticipant,
    AgreementRelation,
)
from service.agreements.schemas import (
    AgreementCreateSchema,
    AgreementEventCreateSchema,
    AgreementParticipantCreateSchema,
    AgreementRelationCreateSchema,
)
from service.assessments import services as assessments
from service.assessments.models import StatusAssessment
from service.assessments.schemas import AssessmentCreateSchema
from service.changes.services import json_value
from service.commitments import services as commitments
from service.commitments.models import Commitment
from service.commitments.schemas import CommitmentCreateSchema
from service.errors import DomainError
from service.meetings import services as meetings
from service.meetings.models import Meeting, MeetingParticipant, MeetingSeries
from service.meetings.schemas import (
    MeetingCreateSchema,
    MeetingParticipantCreateSchema,
    MeetingSeriesCreateSchema,
)
from service.organizations import services as organizations
from service.organizations.models import Organization, Post
from service.organizations.schemas import OrganizationCreateSchema, PostCreateSchema
from service.people import services as people
from service.people.models import Membership, Person
from service.people.schemas import MembershipCreateSchema, PersonCreateSchema
from service.sources import services as sources
from service.sources.models import Citation, Source
from service.sources.schemas import CitationCreateSchema, SourceCreateSchema
from service.themes import services as themes
from service.themes.models import Theme
from service.themes.schemas import ThemeCreateSchema
from service.vocabularies import EntityType


class SeedError(ValueError):
    """A seed file is malformed or refers to something that is not there."""


def _no_check(_record: Any) -> None:
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


def _differences(record: Any, desired: dict[str, Any]) -> dict[str, Any]:
    """The desired fields whose values the record does not already have."""
    return {
        name: value
        for name, value in desired.items()
        if _comparable(name, getattr(record, _READ_AS.get(name, name))) != _comparable(name, value)
    }


def _load(schema: type[ma.Schema], data: dict[str, Any], where: str) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema().load(data)
    except ma.ValidationError as error:
        raise SeedError(f"{where}: {error.messages}") from error
    # Only what the file states is compared and written; schema defaults fill in creation.
    return {name: value for name, value in loaded.items() if name in data}


@dataclass
class SeedReport:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def lines(self) -> list[str]:
        kinds = sorted(set(self.created) | set(self.updated) | set(self.unchanged))
        return [
            f"{kind:<24} created {self.created[kind]:>3}  updated {self.updated[kind]:>3}  "
            f"unchanged {self.unchanged[kind]:>3}"
            for kind in kinds
        ]


@dataclass
class _PendingCitation:
    entity_type: EntityType
    entity_id: int
    data: dict[str, Any]
    where: str


class SeedLoader:
    def __init__(self, session: Session, on_step: Callable[[str], None] | None = None) -> None:
        self.session = session
        self.report = SeedReport()
        self.on_step = on_step or (lambda _step: None)
        self.source_ids: dict[str, int] = {}
        self.post_ids: dict[str, int] = {}
        self.citations: list[_PendingCitation] = []
        self.assessments: list[tuple[int, dict[str, Any], str]] = []

    # --- the generic step -----------------------------------------------------------------

    def _sync(
        self,
        kind: str,
        existing: Any | None,
        desired: dict[str, Any],
        create: Callable[[dict[str, Any]], Any],
        update: Callable[[Any, dict[str, Any]], Any],
    ) -> Any:
        try:
            if existing is None:
                self.report.created[kind] += 1
                return create(desired)
            changes = _differences(existing, desired)
            if not changes:
                self.report.unchanged[kind] += 1
                return existing
            self.report.updated[kind] += 1
            return update(existing, changes)
        except DomainError as error:
            label = desired.get("slug") or desired.get("external_id") or desired.get("title") or ""
            details = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in error.errors.items()
            )
            raise SeedError(f"{kind} {label}: {error.detail} {details}".strip()) from error

    def _live(self, model: Any, *conditions: Any) -> Any:
        return self.session.scalars(crud.live(model).where(*conditions).limit(1)).first()

    def _id(self, model: Any, entity: EntityType, slug: str, where: str) -> int:
        record_id = crud.id_for_ref(self.session, model, slug)
        if record_id is None:
            raise SeedError(f"{where}: no {crud.entity_label(entity)} {slug!r}")
        return record_id

    def _cite(self, entity_type: EntityType, record: Any, item: dict[str, Any], where: str) -> None:
        for citation in item.get("citations", []):
            self.citations.append(_PendingCitation(entity_type, record.id, citation, where))

    # --- the entities, in dependency order --------------------------------------------------

    def load(self, documents: dict[str, Any]) -> SeedReport:
        steps: list[tuple[str, Callable[[list[Any]], None]]] = [
            ("themes", self.themes),
            ("sources", self.sources),
            ("organizations", self.organizations),
            ("posts", self.posts),
            ("people", self.people),
            ("memberships", self.memberships),
            ("agreements", self.agreements),
            ("meeting_series", self.meeting_series),
            ("meetings", self.meetings),
        ]
        known = {name for name, _step in steps}
        unknown = set(documents) - known
        if unknown:
            raise SeedError(f"unknown sections in the seed files: {sorted(unknown)}")
        for name, step in steps:
            self.on_step(name)
            step(documents.get(name, []))
        self.on_step("assessments")
        self.append_assessments()
        self.on_step("citations")
        self.cite_all()
        return self.report

    def themes(self, items: list[dict[str, Any]], parent_id: int | None = None) -> None:
        for item in items:
            fields = {k: v for k, v in item.items() if k != "children"}
            desired = _load(
                ThemeCreateSchema, {**fields, "parent_id": parent_id}, f"theme {item.get('slug')}"
            )
            theme = self._sync(
                "themes",
                self._live(Theme, Theme.slug == desired["slug"]),
                desired,
                lambda data: themes.create_theme(self.session, data=data),
                lambda record, data: themes.update_theme(
                    self.session, theme_ref=str(record.id), data=data, check=_no_check
                ),
            )
            self.themes(item.get("children", []), parent_id=theme.id)

    def sources(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            fields = {k: v for k, v in item.items() if k != "key"}
            desired = _load(SourceCreateSchema, fields, f"source {item.get('key')}")
            source = self._sync(
                "sources",
                self._live(Source, Source.url == desired["url"]),
                desired,
                lambda data: sources.create_source(self.session, data=data),
                lambda record, data: sources.update_source(
                    self.session, source_id=record.id, data=data, check=_no_check
                ),
            )
            self.source_ids[item["key"]] = source.id

    def organizations(self, items: list[dict[str, Any]], parent_id: int | None = None) -> None:
        for item in items:
            fields = {k: v for k, v in item.items() if k != "children"}
            desired = _load(
                OrganizationCreateSchema,
                {**fields, "parent_id": parent_id},
                f"organization {item.get('slug')}",
            )
            organization = self._sync(
                "organizations",
                self._live(Organization, Organization.slug == desired["slug"]),
                desired,
                lambda data: organizations.create_organization(self.session, data=data),
                lambda record, data: organizations.update_organization(
                    self.session, organization_ref=str(record.id), data=data, check=_no_check
                ),
            )
            self.organizations(item.get("children", []), parent_id=organization.id)

    def posts(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            where = f"post {item.get('key')}"
            organization_id = self._id(
                Organization, EntityType.ORGANIZATION, item["organization"], where
            )
            desired = _load(
                PostCreateSchema,
                {"organization_id": organization_id, "label": item["label"]},
                where,
            )
            post = self._sync(
                "posts",
                self._live(
                    Post, Post.organization_id == organization_id, Post.label == desired["label"]
                ),
                desired,
                lambda data: organizations.create_post(self.session, data=data),
                lambda record, data: organizations.update_post(
                    self.session, post_id=record.id, data=data, check=_no_check
                ),
            )
            self.post_ids[item["key"]] = post.id

    def people(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            desired = _load(PersonCreateSchema, item, f"person {item.get('slug')}")
            self._sync(
                "people",
                self._live(Person, Person.slug == desired["slug"]),
                desired,
                lambda data: people.create_person(self.session, data=data),
                lambda record, data: people.update_person(
                    self.session, person_ref=str(record.id), data=data, check=_no_check
                ),
            )

    def memberships(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            where = f"membership of {item.get('person')}"
            data = {
                k: v
                for k, v in item.items()
                if k not in {"person", "post", "organization", "citations"}
            }
            data["person_id"] = self._id(Person, EntityType.PERSON, item["person"], where)
            if "post" in item:
                data["post_id"] = self.post_ids[item["post"]]
            if "organization" in item:
                data["organization_id"] = self._id(
                    Organization, EntityType.ORGANIZATION, item["organization"], where
                )
            desired = _load(MembershipCreateSchema, data, where)
            membership = self._sync(
                "memberships",
                self._live(
                    Membership,
                    Membership.person_id == desired["person_id"],
                    Membership.post_id == desired.get("post_id"),
                    Membership.organization_id == desired.get("organization_id"),
                ),
                desired,
                lambda data: people.create_membership(self.session, data=data),
                lambda record, data: people.update_membership(
                    self.session, membership_id=record.id, data=data, check=_no_check
                ),
            )
            self._cite(EntityType.MEMBERSHIP, membership, item, where)

    def agreements(self, items: list[dict[str, Any]]) -> None:
        nested = {"citations", "participants", "events", "relations", "commitments"}
        for item in items:
            where = f"agreement {item.get('slug')}"
            desired = _load(
                AgreementCreateSchema, {k: v for k, v in item.items() if k not in nested}, where
            )
            agreement = self._sync(
                "agreements",
                self._live(Agreement, Agreement.slug == desired["slug"]),
                desired,
                lambda data: agreements.create_agreement(self.session, data=data),
                lambda record, data: agreements.update_agreement(
                    self.session, agreement_ref=str(record.id), data=data, check=_no_check
                ),
            )
            self._cite(EntityType.AGREEMENT, agreement, item, where)
            self.participants(agreement, item.get("participants", []), where)
            self.events(agreement, item.get("events", []), where)
            self.commitments(agreement, item.get("commitments", []), None, where)
        # Relations last: they may point at an agreement later in the files.
        for item in items:
            agreement = self._live(Agreement, Agreement.slug == item["slug"])
            self.relations(agreement, item.get("relations", []), f"agreement {item['slug']}")

    def participants(self, agreement: Agreement, items: list[dict[str, Any]], where: str) -> None:
        for item in items:
            organization_id = self._id(
                Organization, EntityType.ORGANIZATION, item["organization"], where
            )
            desired = _load(
                AgreementParticipantCreateSchema,
                {"organization_id": organization_id, "role": item["role"]},
                where,
            )
            participant = self._sync(
                "agreement participants",
                self._live(
                    AgreementParticipant,
                    AgreementParticipant.agreement_id == agreement.id,
                    AgreementParticipant.organization_id == organization_id,
                    AgreementParticipant.role == desired["role"],
                ),
                desired,
                lambda data: agreements.create_agreement_participant(
                    self.session, agreement_ref=str(agreement.id), data=data
                ),
                lambda record, data: record,
            )
            self._cite(EntityType.AGREEMENT_PARTICIPANT, participant, item, where)

    def events(self, agreement: Agreement, items: list[dict[str, Any]], where: str) -> None:
        for item in items:
            data = {k: v for k, v in item.items() if k not in {"signers", "citations"}}
            if "signers" in item:
                data["signer_ids"] = [
                    self._id(Person, EntityType.PERSON, slug, where) for slug in item["signers"]
                ]
            desired = _load(AgreementEventCreateSchema, data, where)
            event = self._sync(
                "agreement events",
                self._live(
                    AgreementEvent,
                    AgreementEvent.agreement_id == agreement.id,
                    AgreementEvent.type == desired["type"],
                ),
                desired,
                lambda data: agreements.create_agreement_event(
                    self.session, agreement_ref=str(agreement.id), data=data
                ),
                lambda record, data: agreements.update_agreement_event(
                    self.session,
                    agreement_ref=str(agreement.id),
                    event_id=record.id,
                    data=data,
                    check=_no_check,
                ),
            )
            self._cite(EntityType.AGREEMENT_EVENT, event, item, where)

    def relations(self, agreement: Agreement, items: list[dict[str, Any]], where: str) -> None:
        for item in items:
            related_id = self._id(Agreement, EntityType.AGREEMENT, item["related"], where)
            data = {
                "related_agreement_id": related_id,
                "kind": item["kind"],
                "note": item.get("note"),
            }
            desired = _load(AgreementRelationCreateSchema, data, where)
            self._sync(
                "agreement relations",
                self._live(
                    AgreementRelation,
                    AgreementRelation.agreement_id == agreement.id,
                    AgreementRelation.related_agreement_id == related_id,
                    AgreementRelation.kind == desired["kind"],
                ),
                desired,
                lambda data: agreements.create_agreement_relation(
                    self.session, agreement_ref=str(agreement.id), data=data
                ),
                lambda record, data: agreements.update_agreement_relation(
                    self.session,
                    agreement_ref=str(agreement.id),
                    relation_id=record.id,
                    data=data,
                    check=_no_check,
                ),
            )

    def commitments(
        self, agreement: Agreement, items: list[dict[str, Any]], parent_id: int | None, where: str
    ) -> None:
        nested = {"citations", "assessments", "children"}
        for item in items:
            label = f"{where}, commitment {item.get('external_id')}"
            if not item.get("external_id"):
                raise SeedError(f"{label}: every seeded commitment needs an external_id")
            fields = {k: v for k, v in item.items() if k not in nested}
            desired = _load(CommitmentCreateSchema, {**fields, "parent_id": parent_id}, label)
            commitment = self._sync(
                "commitments",
                self._live(Commitment, Commitment.external_id == desired["external_id"]),
                desired,
                lambda data: commitments.create_agreement_commitment(
                    self.session, agreement_ref=str(agreement.id), data=data
                ),
                lambda record, data: commitments.update_commitment(
                    self.session, commitment_id=record.id, data=data, check=_no_check
                ),
            )
            self._cite(EntityType.COMMITMENT, commitment, item, label)
            for assessment in item.get("assessments", []):
                self.assessments.append((commitment.id, assessment, label))
            self.commitments(agreement, item.get("children", []), commitment.id, where)

    def meeting_series(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            where = f"meeting series {item.get('slug')}"
            data = {k: v for k, v in item.items() if k not in {"organizations", "citations"}}
            data["organization_ids"] = [
                self._id(Organization, EntityType.ORGANIZATION, slug, where)
                for slug in item.get("organizations", [])
            ]
            desired = _load(MeetingSeriesCreateSchema, data, where)
            series = self._sync(
                "meeting series",
                self._live(MeetingSeries, MeetingSeries.slug == desired["slug"]),
                desired,
                lambda data: meetings.create_meeting_series(self.session, data=data),
                lambda record, data: meetings.update_meeting_series(
                    self.session, series_ref=str(record.id), data=data, check=_no_check
                ),
            )
            self._cite(EntityType.MEETING_SERIES, series, item, where)

    def meetings(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            where = f"meeting {item.get('series')}#{item.get('sequence')}"
            data = {
                k: v
                for k, v in item.items()
                if k not in {"series", "agreements", "agenda", "participants", "citations"}
            }
            data["series_id"] = self._id(
                MeetingSeries, EntityType.MEETING_SERIES, item["series"], where
            )
            data["agreements"] = [
                {
                    "agreement_id": self._id(
                        Agreement, EntityType.AGREEMENT, link["agreement"], where
                    ),
                    "link": link["link"],
                }
                for link in item.get("agreements", [])
            ]
            data["agenda_commitment_ids"] = [
                self._commitment_id(key, where) for key in item.get("agenda", [])
            ]
            desired = _load(MeetingCreateSchema, data, where)
            meeting = self._sync(
                "meetings",
                self._live(
                    Meeting,
                    Meeting.series_id == desired["series_id"],
                    Meeting.sequence == desired["sequence"],
                ),
                desired,
                lambda data: meetings.create_meeting(self.session, data=data),
                lambda record, data: meetings.update_meeting(
                    self.session, meeting_id=record.id, data=data, check=_no_check
                ),
            )
            self._cite(EntityType.MEETING, meeting, item, where)
            for participant in item.get("participants", []):
                self.meeting_participant(meeting, participant, where)

    def meeting_participant(self, meeting: Meeting, item: dict[str, Any], where: str) -> None:
        data: dict[str, Any] = {"role": item["role"]}
        if "person" in item:
            data["person_id"] = self._id(Person, EntityType.PERSON, item["person"], where)
        if "organization" in item:
            data["organization_id"] = self._id(
                Organization, EntityType.ORGANIZATION, item["organization"], where
            )
        desired = _load(MeetingParticipantCreateSchema, data, where)
        participant = self._sync(
            "meeting participants",
            self._live(
                MeetingParticipant,
                MeetingParticipant.meeting_id == meeting.id,
                MeetingParticipant.person_id == desired.get("person_id"),
                MeetingParticipant.role == desired["role"],
            ),
            desired,
            lambda data: meetings.create_meeting_participant(
                self.session, meeting_id=meeting.id, data=data
            ),
            lambda record, data: meetings.update_meeting_participant(
                self.session,
                meeting_id=meeting.id,
                participant_id=record.id,
                data=data,
                check=_no_check,
            ),
        )
        self._cite(EntityType.MEETING_PARTICIPANT, participant, item, where)

    def _commitment_id(self, external_id: str, where: str) -> int:
        record_id = self.session.scalar(
            select(Commitment.id).where(
                Commitment.external_id == external_id, Commitment.deleted_at.is_(None)
            )
        )
        if record_id is None:
            raise SeedError(f"{where}: no commitment with external_id {external_id!r}")
        return record_id

    def _meeting_id(self, reference: str, where: str) -> int:
        series_slug, _, sequence = reference.partition("#")
        series_id = self._id(MeetingSeries, EntityType.MEETING_SERIES, series_slug, where)
        record_id = self.session.scalar(
            select(Meeting.id).where(
                Meeting.series_id == series_id,
                Meeting.sequence == int(sequence),
                Meeting.deleted_at.is_(None),
            )
        )
        if record_id is None:
            raise SeedError(f"{where}: no meeting {reference!r}")
        return record_id

    def append_assessments(self) -> None:
        """Assessments are append-only: one that is already there (same commitment, date,
        status and assessor) is left as it is; a different one is appended."""
        for commitment_id, item, where in self.assessments:
            data = {k: v for k, v in item.items() if k not in {"meeting", "sources"}}
            if "meeting" in item:
                data["meeting_id"] = self._meeting_id(item["meeting"], where)
            data["source_ids"] = [self.source_ids[key] for key in item.get("sources", [])]
            desired = _load(AssessmentCreateSchema, data, where)
            existing = self.session.scalars(
                select(StatusAssessment)
                .where(
                    StatusAssessment.commitment_id == commitment_id,
                    StatusAssessment.as_of_value == desired["as_of"].value,
                    StatusAssessment.status == desired["status"],
                    StatusAssessment.assessor_kind == desired["assessor_kind"],
                )
                .limit(1)
            ).first()
            self._sync(
                "assessments",
                existing,
                desired,
                partial(self._append_assessment, commitment_id),
                partial(_refuse_edit, where=where),
            )

    def _append_assessment(self, commitment_id: int, data: dict[str, Any]) -> StatusAssessment:
        return assessments.create_commitment_assessment(
            self.session, commitment_id=commitment_id, data=data
        )

    def cite_all(self) -> None:
        for pending in self.citations:
            data = {k: v for k, v in pending.data.items() if k != "source"}
            if pending.data["source"] not in self.source_ids:
                raise SeedError(f"{pending.where}: unknown source {pending.data['source']!r}")
            data.update(
                source_id=self.source_ids[pending.data["source"]],
                entity_type=pending.entity_type.value,
                entity_id=pending.entity_id,
            )
            desired = _load(CitationCreateSchema, data, pending.where)
            existing = self._live(
                Citation,
                Citation.source_id == desired["source_id"],
                Citation.entity_type == pending.entity_type,
                Citation.entity_id == pending.entity_id,
                Citation.field == desired.get("field"),
                Citation.quote == desired.get("quote"),
            )
            self._sync(
                "citations",
                existing,
                desired,
                lambda data: sources.create_citation(self.session, data=data),
                lambda record, data: sources.update_citation(
                    self.session, citation_id=record.id, data=data, check=_no_check
                ),
            )


def _refuse_edit(record: StatusAssessment, changes: dict[str, Any], where: str) -> StatusAssessment:
    # The history is never rewritten: to change a seeded judgement, add one that supersedes it.
    raise SeedError(
        f"{where}: assessment {record.id} differs from the seed file in {sorted(changes)}; "
        "assessments are append-only, so add a new one with supersedes instead"
    )


def read_seed_files(directory: Path) -> dict[str, Any]:
    """Merge the YAML files of `directory`, in name order, into one document."""
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise SeedError(f"no seed files (*.yaml) in {directory}")
    merged: dict[str, list[Any]] = {}
    for path in files:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(document, dict):
            raise SeedError(f"{path.name}: expected sections of records at the top level")
        for section, records in document.items():
            merged.setdefault(section, []).extend(records or [])
    return merged


def load_seeds(
    session: Session, directory: Path, on_step: Callable[[str], None] | None = None
) -> SeedReport:
    return SeedLoader(session, on_step).load(read_seed_files(directory))
