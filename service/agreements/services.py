from __future__ import annotations

from typing import Any

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from service import crud, search
from service.agreements.lifecycle import derive_lifecycle_status
from service.agreements.models import (
    AGREEMENT_SEARCH_DOCUMENT,
    Agreement,
    AgreementEvent,
    AgreementParticipant,
    AgreementRelation,
)
from service.dates import PartialDate
from service.errors import Conflict, InvalidInput
from service.organizations.models import Organization
from service.pagination import Page, PageRequest, keyset_page
from service.people.models import Person
from service.progress.upkeep import rebuild_kept
from service.themes.models import Theme, agreement_themes
from service.themes.services import themes_for_slugs
from service.vocabularies import EntityType, ParticipantRole

AGREEMENT = EntityType.AGREEMENT
EVENT = EntityType.AGREEMENT_EVENT
PARTICIPANT = EntityType.AGREEMENT_PARTICIPANT
RELATION = EntityType.AGREEMENT_RELATION
PARTY_ROLES = (ParticipantRole.PARTY, ParticipantRole.SIGNATORY)


# --- agreements ------------------------------------------------------------------------------


def list_agreements(
    session: Session, *, page: PageRequest, filters: dict[str, Any]
) -> Page[Agreement]:
    statement = crud.live(Agreement)
    for field in ("doc_type", "binding", "text_availability", "lifecycle_status"):
        if field in filters:
            statement = statement.where(getattr(Agreement, field) == filters[field])
    if "theme" in filters:
        theme_ids = crud.subtree_ids(session, Theme, EntityType.THEME, filters["theme"], "theme")
        statement = statement.where(
            Agreement.id.in_(
                select(agreement_themes.c.agreement_id).where(
                    agreement_themes.c.theme_id.in_(theme_ids)
                )
            )
        )
    if "party" in filters:
        statement = statement.where(
            Agreement.id.in_(agreements_with_party(session, filters["party"], "party"))
        )
    if "q" in filters:
        statement = statement.where(
            search.text_match(
                session,
                AGREEMENT_SEARCH_DOCUMENT,
                [
                    Agreement.title,
                    Agreement.short_title,
                    Agreement.summary,
                    cast(Agreement.aliases, String),
                ],
                filters["q"],
            )
        )
    return keyset_page(session, statement, Agreement.id, page)


def agreements_with_party(session: Session, organization_ref: str, field: str) -> Any:
    """A subquery of the agreements that the organization (named by the query parameter
    `field`), or a body under it, is party to."""
    organization_ids = crud.subtree_ids(
        session, Organization, EntityType.ORGANIZATION, organization_ref, field
    )
    return select(AgreementParticipant.agreement_id).where(
        AgreementParticipant.deleted_at.is_(None),
        AgreementParticipant.role.in_(PARTY_ROLES),
        AgreementParticipant.organization_id.in_(organization_ids),
    )


def get_agreement(session: Session, *, agreement_ref: str) -> Agreement:
    return crud.find_by_ref(session, Agreement, AGREEMENT, agreement_ref)


def create_agreement(session: Session, *, data: dict[str, Any]) -> Agreement:
    values = dict(data)
    crud.ensure_unique(session, Agreement, AGREEMENT, "slug", values["slug"])
    crud.ensure_unique(session, Agreement, AGREEMENT, "external_id", values.get("external_id"))
    themes = themes_for_slugs(session, values.pop("themes", []))
    agreement = crud.add(
        session,
        Agreement(**values, themes=themes),
        AGREEMENT,
        extra={"themes": [theme.slug for theme in themes]},
    )
    crud.commit(session)
    return agreement


def update_agreement(
    session: Session, *, agreement_ref: str, data: dict[str, Any], check: crud.Check
) -> Agreement:
    agreement = crud.find_by_ref(session, Agreement, AGREEMENT, agreement_ref, for_update=True)
    check(agreement)
    values = dict(data)
    if "slug" in values:
        crud.ensure_unique(
            session, Agreement, AGREEMENT, "slug", values["slug"], exclude_id=agreement.id
        )
    if values.get("external_id") is not None:
        crud.ensure_unique(
            session,
            Agreement,
            AGREEMENT,
            "external_id",
            values["external_id"],
            exclude_id=agreement.id,
        )
    changes: dict[str, Any] = {}
    if "themes" in values:
        themes = themes_for_slugs(session, values.pop("themes"))
        changes.update(
            crud.list_change("themes", agreement.theme_slugs, [theme.slug for theme in themes])
        )
        agreement.themes = themes
    changes.update(crud.assign(agreement, values))
    crud.record_update(session, agreement, AGREEMENT, changes)
    crud.commit(session)
    return agreement


def delete_agreement(session: Session, *, agreement_ref: str, check: crud.Check) -> None:
    """Soft-delete the agreement with what belongs to it: commitments, events, participants
    and relations, each recorded in the change feed."""
    from service.commitments.models import Commitment

    agreement = crud.find_by_ref(session, Agreement, AGREEMENT, agreement_ref, for_update=True)
    check(agreement)
    owned: list[tuple[Any, EntityType, Any]] = [
        (Commitment, EntityType.COMMITMENT, Commitment.agreement_id == agreement.id),
        (AgreementEvent, EVENT, AgreementEvent.agreement_id == agreement.id),
        (AgreementParticipant, PARTICIPANT, AgreementParticipant.agreement_id == agreement.id),
        (
            AgreementRelation,
            RELATION,
            or_(
                AgreementRelation.agreement_id == agreement.id,
                AgreementRelation.related_agreement_id == agreement.id,
            ),
        ),
    ]
    for model, entity, belongs in owned:
        for record in session.scalars(crud.live(model).where(belongs).order_by(model.id)):
            crud.soft_delete(session, record, entity)
    crud.soft_delete(session, agreement, AGREEMENT)
    session.flush()
    # None of its commitments is left: its rows go.
    rebuild_kept(session, [agreement.id])
    crud.commit(session)


def _agreement_for_write(session: Session, agreement_ref: str) -> Agreement:
    # Writes to what an agreement owns lock the agreement row: derived values stay consistent.
    return crud.find_by_ref(session, Agreement, AGREEMENT, agreement_ref, for_update=True)


# --- lifecycle events ------------------------------------------------------------------------


def refresh_lifecycle_status(session: Session, agreement: Agreement) -> None:
    events = session.scalars(
        crud.live(AgreementEvent).where(AgreementEvent.agreement_id == agreement.id)
    ).all()
    status = derive_lifecycle_status((event.type, event.date) for event in events)
    crud.record_update(
        session, agreement, AGREEMENT, crud.assign(agreement, {"lifecycle_status": status})
    )


def list_agreement_events(
    session: Session, *, agreement_ref: str, page: PageRequest, filters: dict[str, Any]
) -> Page[AgreementEvent]:
    agreement = crud.find_by_ref(session, Agreement, AGREEMENT, agreement_ref)
    statement = crud.live(AgreementEvent).where(AgreementEvent.agreement_id == agreement.id)
    if "type" in filters:
        statement = statement.where(AgreementEvent.type == filters["type"])
    return keyset_page(session, statement, AgreementEvent.id, page)


def get_agreement_event(session: Session, *, agreement_ref: str, event_id: int) -> AgreementEvent:
    agreement = crud.find_by_ref(session, Agreement, AGREEMENT, agreement_ref)
    return crud.find_child(session, AgreementEvent, EVENT, "agreement_id", agreement.id, event_id)


def _event_values(
    session: Session, data: dict[str, Any]
) -> tuple[dict[str, Any], list[Person] | None]:
    values = dict(data)
    if "date" in values and values["date"] is None:
        values["date"] = PartialDate.unknown()
    if values.get("organization_id") is not None:
        crud.referenced(
            session,
            Organization,
            EntityType.ORGANIZATION,
            values["organization_id"],
            "organization_id",
        )
    signers = None
    if "signer_ids" in values:
        signers = crud.referenced_all(
            session, Person, EntityType.PERSON, values.pop("signer_ids"), "signer_ids"
        )
    return values, signers


def create_agreement_event(
    session: Session, *, agreement_ref: str, data: dict[str, Any]
) -> AgreementEvent:
    agreement = _agreement_for_write(session, agreement_ref)
    values, signers = _event_values(session, data)
    event = AgreementEvent(agreement_id=agreement.id, **values, signers=signers or [])
    crud.add(session, event, EVENT, extra={"signer_ids": event.signer_ids})
    refresh_lifecycle_status(session, agreement)
    crud.commit(session)
    return event


def update_agreement_event(
    session: Session, *, agreement_ref: str, event_id: int, data: dict[str, Any], check: crud.Check
) -> AgreementEvent:
    agreement = _agreement_for_write(session, agreement_ref)
    event = crud.find_child(
        session, AgreementEvent, EVENT, "agreement_id", agreement.id, event_id, for_update=True
    )
    check(event)
    values, signers = _event_values(session, data)
    changes: dict[str, Any] = {}
    if signers is not None:
        changes.update(
            crud.list_change("signer_ids", event.signer_ids, [person.id for person in signers])
        )
        event.signers = signers
    changes.update(crud.assign(event, values))
    crud.record_update(session, event, EVENT, changes)
    refresh_lifecycle_status(session, agreement)
    crud.commit(session)
    return event


def delete_agreement_event(
    session: Session, *, agreement_ref: str, event_id: int, check: crud.Check
) -> None:
    agreement = _agreement_for_write(session, agreement_ref)
    event = crud.find_child(
        session, AgreementEvent, EVENT, "agreement_id", agreement.id, event_id, for_update=True
    )
    check(event)
    crud.soft_delete(session, event, EVENT)
    refresh_lifecycle_status(session, agreement)
    crud.commit(session)


# --- participants ----------------------------------------------------------------------------


def list_agreement_participants(
    session: Session, *, agreement_ref: str, page: PageRequest, filters: dict[str, Any]
) -> Page[AgreementParticipant]:
    agreement = crud.find_by_ref(session, Agreement, AGREEMENT, agreement_ref)
    statement = crud.live(AgreementParticipant).where(
        AgreementParticipant.agreement_id == agreement.id
    )
    if "role" in filters:
        statement = statement.where(AgreementParticipant.role == filters["role"])
    return keyset_page(session, statement, AgreementParticipant.id, page)


def get_agreement_participant(
    session: Session, *, agreement_ref: str, participant_id: int
) -> AgreementParticipant:
    agreement = crud.find_by_ref(session, Agreement, AGREEMENT, agreement_ref)
    return crud.find_child(
        session, AgreementParticipant, PARTICIPANT, "agreement_id", agreement.id, participant_id
    )


def _ensure_new_participant(
    session: Session,
    agreement_id: int,
    organization_id: int,
    role: Any,
    exclude_id: int | None = None,
) -> None:
    statement = crud.live(AgreementParticipant).where(
        AgreementParticipant.agreement_id == agreement_id,
        AgreementParticipant.organization_id == organization_id,
        AgreementParticipant.role == role,
    )
    if exclude_id is not None:
        statement = statement.where(AgreementParticipant.id != exclude_id)
    if session.scalars(statement.limit(1)).first() is not None:
        message = "This organization already has this role in the agreement."
        raise Conflict(message, errors={"role": [message]})


def create_agreement_participant(
    session: Session, *, agreement_ref: str, data: dict[str, Any]
) -> AgreementParticipant:
    agreement = _agreement_for_write(session, agreement_ref)
    crud.referenced(
        session, Organization, EntityType.ORGANIZATION, data["organization_id"], "organization_id"
    )
    _ensure_new_participant(session, agreement.id, data["organization_id"], data["role"])
    participant = crud.add(
        session, AgreementParticipant(agreement_id=agreement.id, **data), PARTICIPANT
    )
    crud.commit(session)
    return participant


def update_agreement_participant(
    session: Session,
    *,
    agreement_ref: str,
    participant_id: int,
    data: dict[str, Any],
    check: crud.Check,
) -> AgreementParticipant:
    agreement = _agreement_for_write(session, agreement_ref)
    participant = crud.find_child(
        session,
        AgreementParticipant,
        PARTICIPANT,
        "agreement_id",
        agreement.id,
        participant_id,
        for_update=True,
    )
    check(participant)
    if "organization_id" in data:
        crud.referenced(
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
    crud.record_update(session, participant, PARTICIPANT, crud.assign(participant, data))
    crud.commit(session)
    return participant


def delete_agreement_participant(
    session: Session, *, agreement_ref: str, participant_id: int, check: crud.Check
) -> None:
    agreement = _agreement_for_write(session, agreement_ref)
    participant = crud.find_child(
        session,
        AgreementParticipant,
        PARTICIPANT,
        "agreement_id",
        agreement.id,
        participant_id,
        for_update=True,
    )
    check(participant)
    crud.soft_delete(session, participant, PARTICIPANT)
    crud.commit(session)


# --- relations -------------------------------------------------------------------------------


def list_agreement_relations(
    session: Session, *, agreement_ref: str, page: PageRequest, filters: dict[str, Any]
) -> Page[AgreementRelation]:
    agreement = crud.find_by_ref(session, Agreement, AGREEMENT, agreement_ref)
    statement = crud.live(AgreementRelation).where(AgreementRelation.agreement_id == agreement.id)
    if "kind" in filters:
        statement = statement.where(AgreementRelation.kind == filters["kind"])
    return keyset_page(session, statement, AgreementRelation.id, page)


def get_agreement_relation(
    session: Session, *, agreement_ref: str, relation_id: int
) -> AgreementRelation:
    agreement = crud.find_by_ref(session, Agreement, AGREEMENT, agreement_ref)
    return crud.find_child(
        session, AgreementRelation, RELATION, "agreement_id", agreement.id, relation_id
    )


def _check_related(session: Session, agreement: Agreement, related_id: int) -> None:
    if related_id == agreement.id:
        message = "An agreement cannot be related to itself."
        raise InvalidInput(message, errors={"related_agreement_id": [message]})
    crud.referenced(session, Agreement, AGREEMENT, related_id, "related_agreement_id")


def create_agreement_relation(
    session: Session, *, agreement_ref: str, data: dict[str, Any]
) -> AgreementRelation:
    agreement = _agreement_for_write(session, agreement_ref)
    _check_related(session, agreement, data["related_agreement_id"])
    relation = crud.add(session, AgreementRelation(agreement_id=agreement.id, **data), RELATION)
    crud.commit(session)
    return relation


def update_agreement_relation(
    session: Session,
    *,
    agreement_ref: str,
    relation_id: int,
    data: dict[str, Any],
    check: crud.Check,
) -> AgreementRelation:
    agreement = _agreement_for_write(session, agreement_ref)
    relation = crud.find_child(
        session,
        AgreementRelation,
        RELATION,
        "agreement_id",
        agreement.id,
        relation_id,
        for_update=True,
    )
    check(relation)
    if "related_agreement_id" in data:
        _check_related(session, agreement, data["related_agreement_id"])
    crud.record_update(session, relation, RELATION, crud.assign(relation, data))
    crud.commit(session)
    return relation


def delete_agreement_relation(
    session: Session, *, agreement_ref: str, relation_id: int, check: crud.Check
) -> None:
    agreement = _agreement_for_write(session, agreement_ref)
    relation = crud.find_child(
        session,
        AgreementRelation,
        RELATION,
        "agreement_id",
        agreement.id,
        relation_id,
        for_update=True,
    )
    check(relation)
    crud.soft_delete(session, relation, RELATION)
    crud.commit(session)
