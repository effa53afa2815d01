"""The organizations that take part in an agreement, and in what role (party, signatory,
observer...)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service.agreements.inputs import AgreementParticipantFilters, AgreementParticipantIn
from service.agreements.models import Agreement, AgreementParticipant
from service.agreements.services import agreement_for_write
from service.core import records, writes
from service.core.pagination import Page, PageRequest, keyset_page
from service.core.vocabularies import EntityType
from service.organizations.models import Organization

AGREEMENT = EntityType.AGREEMENT
PARTICIPANT = EntityType.AGREEMENT_PARTICIPANT


def list_agreement_participants(
    session: Session, *, agreement_ref: str, page: PageRequest, filters: AgreementParticipantFilters
) -> Page[AgreementParticipant]:
    agreement = records.find_by_ref(session, Agreement, AGREEMENT, agreement_ref)
    statement = records.live(AgreementParticipant).where(
        AgreementParticipant.agreement_id == agreement.id
    )
    if "role" in filters:
        statement = statement.where(AgreementParticipant.role == filters["role"])
    return keyset_page(session, statement, AgreementParticipant.id, page)


def get_agreement_participant(
    session: Session, *, agreement_ref: str, participant_id: int
) -> AgreementParticipant:
    agreement = records.find_by_ref(session, Agreement, AGREEMENT, agreement_ref)
    return records.find_child(
        session, AgreementParticipant, PARTICIPANT, "agreement_id", agreement.id, participant_id
    )


def _ensure_new_participant(
    session: Session,
    agreement_id: int,
    organization_id: int,
    role: Any,
    exclude_id: int | None = None,
) -> None:
    records.ensure_unique_together(
        session,
        AgreementParticipant,
        {"agreement_id": agreement_id, "organization_id": organization_id, "role": role},
        "role",
        "This organization already has this role in the agreement.",
        exclude_id=exclude_id,
    )


def create_agreement_participant(
    session: Session, *, agreement_ref: str, data: AgreementParticipantIn
) -> AgreementParticipant:
    agreement = agreement_for_write(session, agreement_ref)
    records.referenced(
        session, Organization, EntityType.ORGANIZATION, data["organization_id"], "organization_id"
    )
    _ensure_new_participant(session, agreement.id, data["organization_id"], data["role"])
    participant = writes.add(
        session, AgreementParticipant(agreement_id=agreement.id, **data), PARTICIPANT
    )
    writes.commit(session)
    return participant


def update_agreement_participant(
    session: Session,
    *,
    agreement_ref: str,
    participant_id: int,
    data: AgreementParticipantIn,
    check: writes.Check,
) -> AgreementParticipant:
    agreement, participant = _participant_for_write(session, agreement_ref, participant_id)
    check(participant)
    if "organization_id" in data:
        records.referenced(
            session,
            Organization,
            EntityType.ORGANIZATION,
            data["organization_id"],
            "organization_id",
        )
    _ensure_new_participant(
        session,
        agreement.id,
        data.get("organization_id", participant.organization_id),
        data.get("role", participant.role),
        exclude_id=participant.id,
    )
    writes.record_update(session, participant, PARTICIPANT, writes.assign(participant, data))
    writes.commit(session)
    return participant


def delete_agreement_participant(
    session: Session, *, agreement_ref: str, participant_id: int, check: writes.Check
) -> None:
    _agreement, participant = _participant_for_write(session, agreement_ref, participant_id)
    check(participant)
    writes.soft_delete(session, participant, PARTICIPANT)
    writes.commit(session)


def _participant_for_write(
    session: Session, agreement_ref: str, participant_id: int
) -> tuple[Agreement, AgreementParticipant]:
    """The agreement, its row locked (agreement_for_write), and its participant, locked too."""
    agreement = agreement_for_write(session, agreement_ref)
    participant = records.find_child(
        session,
        AgreementParticipant,
        PARTICIPANT,
        "agreement_id",
        agreement.id,
        participant_id,
        for_update=True,
    )
    return agreement, participant
