"""Loading the reviewed seed files in `seeds/` through the same schemas and services as the
API. Each record of the files has a key (`agreement/<slug>`, `.../commitment/<external_id>`)
and the ledger remembers which record was made for each. A load creates what is missing,
updates what the files changed and removes what they no longer hold, but leaves alone (and
names) every record that a user changed or deleted after seeding, unless told to overwrite.

The `seed` command runs it once, on a database never seeded; `seed --check` runs it and rolls
back; `seed --apply` commits it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from service.commitments import services as commitments
from service.commitments.models import Commitment
from service.commitments.schemas import CommitmentCreateSchema
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
from service.seeding.files import SeedError, read_seed_files
from service.seeding.report import SeedReport
from service.seeding.sync import SeedSync, load_fields, no_check
from service.sources import services as sources
from service.sources.models import Citation, Source
from service.sources.schemas import CitationCreateSchema, SourceCreateSchema
from service.themes import services as themes
from service.themes.models import Theme
from service.themes.schemas import ThemeCreateSchema
from service.vocabularies import EntityType

E = EntityType


@dataclass
class _PendingCitation:
    owner_key: str
    entity_type: EntityType
    entity_id: int
    data: dict[str, Any]


@dataclass
class _PendingAssessment:
    key: str
    commitment_id: int
    data: dict[str, Any]


class SeedLoader(SeedSync):
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
        self.citations: list[_PendingCitation] = []
        self.assessments: list[_PendingAssessment] = []

    # --- references -------------------------------------------------------------------------

    def _id(self, model: Any, entity: EntityType, key: str, slug: str, where: str) -> int:
        """The id of the record a file names by slug: the one seeded for it, though a user
        renamed it since, else the live record with that slug."""
        record = self.ledger.record(key, model)
        if record is not None and record.deleted_at is None:
            return int(record.id)
        record_id = crud.id_for_ref(self.session, model, slug)
        if record_id is None:
            raise SeedError(f"{where}: no {crud.entity_label(entity)} {slug!r}")
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
            self.citations.append(_PendingCitation(key, entity, record.id, citation))

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
        self.on_step("removals")
        # Imported here: service.models imports this package's model, so not at the top.
        from service.models import MODEL_BY_ENTITY

        self.remove_what_the_files_dropped(MODEL_BY_ENTITY.__getitem__)
        # The ledger's rows go with the last step's writes.
        crud.commit(self.session)
        return self.report

    def themes(self, items: list[dict[str, Any]], parent_id: int | None = None) -> None:
        for item in items:
            key = f"theme/{item.get('slug')}"
            fields = {k: v for k, v in item.items() if k != "children"}
            desired = load_fields(ThemeCreateSchema, {**fields, "parent_id": parent_id}, key)
            theme = self.sync(
                "themes",
                key,
                E.THEME,
                Theme,
                (Theme.slug == desired["slug"],),
                desired,
                lambda data: themes.create_theme(self.session, data=data),
                lambda record, data: themes.update_theme(
                    self.session, theme_ref=str(record.id), data=data, check=no_check
                ),
            )
            if theme is not None:
                self.themes(item.get("children", []), parent_id=theme.id)

    def sources(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            key = f"source/{item.get('key')}"
            fields = {k: v for k, v in item.items() if k not in {"key", "citations"}}
            desired = load_fields(SourceCreateSchema, fields, key)
            source = self.sync(
                "sources",
                key,
                E.SOURCE,
                Source,
                (Source.url == desired["url"],),
                desired,
                lambda data: sources.create_source(self.session, data=data),
                lambda record, data: sources.update_source(
                    self.session, source_id=record.id, data=data, check=no_check
                ),
            )
            if source is not None:
                self.source_ids[item["key"]] = source.id
            self._cite(key, E.SOURCE, source, item)

    def organizations(self, items: list[dict[str, Any]], parent_id: int | None = None) -> None:
        for item in items:
            key = f"organization/{item.get('slug')}"
            fields = {k: v for k, v in item.items() if k not in {"children", "citations"}}
            desired = load_fields(OrganizationCreateSchema, {**fields, "parent_id": parent_id}, key)
            organization = self.sync(
                "organizations",
                key,
                E.ORGANIZATION,
                Organization,
                (Organization.slug == desired["slug"],),
                desired,
                lambda data: organizations.create_organization(self.session, data=data),
                lambda record, data: organizations.update_organization(
                    self.session, organization_ref=str(record.id), data=data, check=no_check
                ),
            )
            self._cite(key, E.ORGANIZATION, organization, item)
            if organization is not None:
                self.organizations(item.get("children", []), parent_id=organization.id)

    def posts(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            key = f"organization/{item['organization']}/post/{item.get('key')}"
            organization_id = self._organization(item["organization"], key)
            desired = load_fields(
                PostCreateSchema, {"organization_id": organization_id, "label": item["label"]}, key
            )
            post = self.sync(
                "posts",
                key,
                E.POST,
                Post,
                (Post.organization_id == organization_id, Post.label == desired["label"]),
                desired,
                lambda data: organizations.create_post(self.session, data=data),
                lambda record, data: organizations.update_post(
                    self.session, post_id=record.id, data=data, check=no_check
                ),
            )
            if post is not None:
                self.post_ids[item["key"]] = post.id
            self._cite(key, E.POST, post, item)

    def people(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            key = f"person/{item.get('slug')}"
            fields = {k: v for k, v in item.items() if k != "citations"}
            desired = load_fields(PersonCreateSchema, fields, key)
            person = self.sync(
                "people",
                key,
                E.PERSON,
                Person,
                (Person.slug == desired["slug"],),
                desired,
                lambda data: people.create_person(self.session, data=data),
                lambda record, data: people.update_person(
                    self.session, person_ref=str(record.id), data=data, check=no_check
                ),
            )
            self._cite(key, E.PERSON, person, item)

    def memberships(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            held = item.get("post") or item.get("organization")
            key = f"person/{item.get('person')}/membership/{held}"
            data = {
                k: v
                for k, v in item.items()
                if k not in {"person", "post", "organization", "citations"}
            }
            data["person_id"] = self._person(item["person"], key)
            if "post" in item:
                if item["post"] not in self.post_ids:
                    raise SeedError(f"{key}: no post {item['post']!r}")
                data["post_id"] = self.post_ids[item["post"]]
            if "organization" in item:
                data["organization_id"] = self._organization(item["organization"], key)
            desired = load_fields(MembershipCreateSchema, data, key)
            membership = self.sync(
                "memberships",
                key,
                E.MEMBERSHIP,
                Membership,
                (
                    Membership.person_id == desired["person_id"],
                    Membership.post_id == desired.get("post_id"),
                    Membership.organization_id == desired.get("organization_id"),
                ),
                desired,
                lambda data: people.create_membership(self.session, data=data),
                lambda record, data: people.update_membership(
                    self.session, membership_id=record.id, data=data, check=no_check
                ),
            )
            self._cite(key, E.MEMBERSHIP, membership, item)

    def agreements(self, items: list[dict[str, Any]]) -> None:
        nested = {"citations", "participants", "events", "relations", "commitments"}
        made = {}
        for item in items:
            key = f"agreement/{item.get('slug')}"
            desired = load_fields(
                AgreementCreateSchema, {k: v for k, v in item.items() if k not in nested}, key
            )
            agreement = self.sync(
                "agreements",
                key,
                E.AGREEMENT,
                Agreement,
                (Agreement.slug == desired["slug"],),
                desired,
                lambda data: agreements.create_agreement(self.session, data=data),
                lambda record, data: agreements.update_agreement(
                    self.session, agreement_ref=str(record.id), data=data, check=no_check
                ),
            )
            if agreement is None:
                continue
            made[key] = agreement
            self._cite(key, E.AGREEMENT, agreement, item)
            self.participants(key, agreement, item.get("participants", []))
            self.events(key, agreement, item.get("events", []))
            self.commitments(key, agreement, item.get("commitments", []), None)
        # Relations last: they may point at an agreement later in the files.
        for item in items:
            key = f"agreement/{item.get('slug')}"
            if key in made:
                self.relations(key, made[key], item.get("relations", []))

    def participants(self, owner: str, agreement: Agreement, items: list[dict[str, Any]]) -> None:
        for item in items:
            key = f"{owner}/participant/{item['organization']}/{item['role']}"
            organization_id = self._organization(item["organization"], key)
            desired = load_fields(
                AgreementParticipantCreateSchema,
                {"organization_id": organization_id, "role": item["role"]},
                key,
            )
            participant = self.sync(
                "agreement participants",
                key,
                E.AGREEMENT_PARTICIPANT,
                AgreementParticipant,
                (
                    AgreementParticipant.agreement_id == agreement.id,
                    AgreementParticipant.organization_id == organization_id,
                    AgreementParticipant.role == desired["role"],
                ),
                desired,
                lambda data: agreements.create_agreement_participant(
                    self.session, agreement_ref=str(agreement.id), data=data
                ),
                # Its organization and role are its key: nothing else to change.
                lambda record, data: record,
            )
            self._cite(key, E.AGREEMENT_PARTICIPANT, participant, item)

    def events(self, owner: str, agreement: Agreement, items: list[dict[str, Any]]) -> None:
        for item in items:
            key = f"{owner}/event/{item.get('key') or item.get('type')}"
            data = {
                k: v
                for k, v in item.items()
                if k not in {"signers", "citations", "key", "organization"}
            }
            if "organization" in item:
                data["organization_id"] = self._organization(item["organization"], key)
            if "signers" in item:
                data["signer_ids"] = [self._person(slug, key) for slug in item["signers"]]
            desired = load_fields(AgreementEventCreateSchema, data, key)
            event = self.sync(
                "agreement events",
                key,
                E.AGREEMENT_EVENT,
                AgreementEvent,
                (
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
                    check=no_check,
                ),
            )
            self._cite(key, E.AGREEMENT_EVENT, event, item)

    def relations(self, owner: str, agreement: Agreement, items: list[dict[str, Any]]) -> None:
        for item in items:
            key = f"{owner}/relation/{item['kind']}/{item['related']}"
            related_id = self._agreement(item["related"], key)
            data = {"related_agreement_id": related_id, "kind": item["kind"]}
            if "note" in item:
                data["note"] = item["note"]
            desired = load_fields(AgreementRelationCreateSchema, data, key)
            relation = self.sync(
                "agreement relations",
                key,
                E.AGREEMENT_RELATION,
                AgreementRelation,
                (
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
                    check=no_check,
                ),
            )
            self._cite(key, E.AGREEMENT_RELATION, relation, item)

    def commitments(
        self, owner: str, agreement: Agreement, items: list[dict[str, Any]], parent_id: int | None
    ) -> None:
        nested = {"citations", "assessments", "children"}
        for item in items:
            if not item.get("external_id"):
                raise SeedError(f"{owner}: every seeded commitment needs an external_id")
            key = f"{owner}/commitment/{item['external_id']}"
            fields = {k: v for k, v in item.items() if k not in nested}
            desired = load_fields(CommitmentCreateSchema, {**fields, "parent_id": parent_id}, key)
            commitment = self.sync(
                "commitments",
                key,
                E.COMMITMENT,
                Commitment,
                (Commitment.external_id == desired["external_id"],),
                desired,
                lambda data: commitments.create_agreement_commitment(
                    self.session, agreement_ref=str(agreement.id), data=data
                ),
                lambda record, data: commitments.update_commitment(
                    self.session, commitment_id=record.id, data=data, check=no_check
                ),
            )
            if commitment is None:
                continue
            self._cite(key, E.COMMITMENT, commitment, item)
            for assessment in item.get("assessments", []):
                assessment_key = f"{key}/assessment/{assessment.get('as_of')}"
                self.assessments.append(
                    _PendingAssessment(assessment_key, commitment.id, assessment)
                )
            self.commitments(owner, agreement, item.get("children", []), commitment.id)

    def meeting_series(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            key = f"meeting-series/{item.get('slug')}"
            data = {k: v for k, v in item.items() if k not in {"organizations", "citations"}}
            data["organization_ids"] = [
                self._organization(slug, key) for slug in item.get("organizations", [])
            ]
            desired = load_fields(MeetingSeriesCreateSchema, data, key)
            series = self.sync(
                "meeting series",
                key,
                E.MEETING_SERIES,
                MeetingSeries,
                (MeetingSeries.slug == desired["slug"],),
                desired,
                lambda data: meetings.create_meeting_series(self.session, data=data),
                lambda record, data: meetings.update_meeting_series(
                    self.session, series_ref=str(record.id), data=data, check=no_check
                ),
            )
            self._cite(key, E.MEETING_SERIES, series, item)

    def meetings(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            key = f"meeting/{item.get('series')}#{item.get('sequence')}"
            data = {
                k: v
                for k, v in item.items()
                if k not in {"series", "agreements", "agenda", "participants", "citations"}
            }
            data["series_id"] = self._id(
                MeetingSeries,
                E.MEETING_SERIES,
                f"meeting-series/{item['series']}",
                item["series"],
                key,
            )
            data["agreements"] = [
                {"agreement_id": self._agreement(link["agreement"], key), "link": link["link"]}
                for link in item.get("agreements", [])
            ]
            data["agenda_commitment_ids"] = [
                self._commitment_id(external_id, key) for external_id in item.get("agenda", [])
            ]
            desired = load_fields(MeetingCreateSchema, data, key)
            meeting = self.sync(
                "meetings",
                key,
                E.MEETING,
                Meeting,
                (
                    Meeting.series_id == desired["series_id"],
                    Meeting.sequence == desired["sequence"],
                ),
                desired,
                lambda data: meetings.create_meeting(self.session, data=data),
                lambda record, data: meetings.update_meeting(
                    self.session, meeting_id=record.id, data=data, check=no_check
                ),
            )
            if meeting is None:
                continue
            self._cite(key, E.MEETING, meeting, item)
            for participant in item.get("participants", []):
                self.meeting_participant(key, meeting, participant)

    def meeting_participant(self, owner: str, meeting: Meeting, item: dict[str, Any]) -> None:
        who = item.get("person") or item.get("organization")
        key = f"{owner}/participant/{who}/{item['role']}"
        data: dict[str, Any] = {"role": item["role"]}
        if "person" in item:
            data["person_id"] = self._person(item["person"], key)
        if "organization" in item:
            data["organization_id"] = self._organization(item["organization"], key)
        desired = load_fields(MeetingParticipantCreateSchema, data, key)
        participant = self.sync(
            "meeting participants",
            key,
            E.MEETING_PARTICIPANT,
            MeetingParticipant,
            (
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
                check=no_check,
            ),
        )
        self._cite(key, E.MEETING_PARTICIPANT, participant, item)

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

    def append_assessments(self) -> None:
        """Assessments are append-only: a seeded one the files correct is superseded by the
        correction, as a user would correct it."""
        for pending in self.assessments:
            item = pending.data
            data = {k: v for k, v in item.items() if k not in {"meeting", "sources"}}
            if "meeting" in item:
                data["meeting_id"] = self._meeting_id(item["meeting"], pending.key)
            unknown = [key for key in item.get("sources", []) if key not in self.source_ids]
            if unknown:
                raise SeedError(f"{pending.key}: unknown sources {unknown}")
            data["source_ids"] = [self.source_ids[key] for key in item.get("sources", [])]
            desired = load_fields(AssessmentCreateSchema, data, pending.key)

            def append(data: dict[str, Any], commitment_id: int = pending.commitment_id) -> Any:
                return assessments.create_commitment_assessment(
                    self.session, commitment_id=commitment_id, data=data
                )

            def correct(record: Any, _changes: Any, full: dict[str, Any] = desired) -> Any:
                return append({**full, "supersedes_id": record.id})

            self.sync(
                "assessments",
                pending.key,
                E.ASSESSMENT,
                StatusAssessment,
                (
                    StatusAssessment.commitment_id == pending.commitment_id,
                    StatusAssessment.as_of_value == desired["as_of"].value,
                ),
                desired,
                append,
                correct,
            )

    def cite_all(self) -> None:
        numbers: Counter[tuple[str, str, str]] = Counter()
        for pending in self.citations:
            source_key, field = pending.data.get("source"), pending.data.get("field") or "-"
            place = (pending.owner_key, str(source_key), field)
            key = f"{pending.owner_key}/citation/{source_key}/{field}/{numbers[place]}"
            numbers[place] += 1
            if source_key not in self.source_ids:
                raise SeedError(f"{key}: unknown source {source_key!r}")
            data = {k: v for k, v in pending.data.items() if k != "source"}
            data.update(
                source_id=self.source_ids[source_key],
                entity_type=pending.entity_type.value,
                entity_id=pending.entity_id,
            )
            desired = load_fields(CitationCreateSchema, data, key)
            self.sync(
                "citations",
                key,
                E.CITATION,
                Citation,
                (
                    Citation.source_id == desired["source_id"],
                    Citation.entity_type == pending.entity_type,
                    Citation.entity_id == pending.entity_id,
                    Citation.field == desired.get("field"),
                    Citation.quote == desired.get("quote"),
                ),
                desired,
                lambda data: sources.create_citation(self.session, data=data),
                lambda record, data: sources.update_citation(
                    self.session, citation_id=record.id, data=data, check=no_check
                ),
            )


def load_seeds(
    session: Session,
    directory: Path,
    on_step: Callable[[str], None] | None = None,
    *,
    overwrite_user_changes: bool = False,
) -> SeedReport:
    """Bring the database in line with the seed files (see the module's docstring)."""
    loader = SeedLoader(session, on_step, overwrite_user_changes=overwrite_user_changes)
    return loader.load(read_seed_files(directory))
