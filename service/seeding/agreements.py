"""The seed loader's steps for agreements (their participants, events, relations and
commitment trees), the meetings that reviewed them, and the assessments."""

from __future__ import annotations

from typing import Any, cast

from service.agreements import participants as agreement_participants
from service.agreements import relations as agreement_relations
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
from service.assessments.inputs import AssessmentIn
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
from service.seeding.files import SeedError
from service.seeding.references import E, PendingAssessment, SeedReferences
from service.seeding.sync import load_fields, no_check


class AgreementSections(SeedReferences):
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
                lambda data: agreement_participants.create_agreement_participant(
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
                lambda data: agreement_relations.create_agreement_relation(
                    self.session, agreement_ref=str(agreement.id), data=data
                ),
                lambda record, data: agreement_relations.update_agreement_relation(
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
                    PendingAssessment(assessment_key, commitment.id, assessment)
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
            loaded = cast(
                AssessmentIn, desired
            )  # what the schema loads (tests/unit/test_inputs.py)

            def append(data: AssessmentIn, commitment_id: int = pending.commitment_id) -> Any:
                return assessments.create_commitment_assessment(
                    self.session, commitment_id=commitment_id, data=data
                )

            def correct(record: Any, _changes: Any, full: AssessmentIn = loaded) -> Any:
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
