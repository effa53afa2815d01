from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from service.agreements.inputs import (
    AgreementEventFilters,
    AgreementEventIn,
    AgreementFilters,
    AgreementIn,
)
from service.agreements.lifecycle import derive_lifecycle_status
from service.agreements.models import (
    AGREEMENT_SEARCH_DOCUMENT,
    Agreement,
    AgreementEvent,
    AgreementParticipant,
    AgreementRelation,
)
from service.core import records, search, writes
from service.core.dates import PartialDate, unknown_if_cleared
from service.core.pagination import Page, PageRequest, keyset_page
from service.core.vocabularies import (
    AgreementEventType,
    EntityType,
    LifecycleStatus,
    ParticipantRole,
)
from service.organizations.models import Organization
from service.people.models import Person
from service.progress.upkeep import rebuild_kept
from service.themes.models import Theme, agreement_themes
from service.themes.services import themes_for_slugs

AGREEMENT = EntityType.AGREEMENT
EVENT = EntityType.AGREEMENT_EVENT
PARTICIPANT = EntityType.AGREEMENT_PARTICIPANT
RELATION = EntityType.AGREEMENT_RELATION
PARTY_ROLES = (ParticipantRole.PARTY, ParticipantRole.SIGNATORY)


# --- agreements ------------------------------------------------------------------------------


def list_agreements(
    session: Session, *, page: PageRequest, filters: AgreementFilters
) -> Page[Agreement]:
    statement = records.live(Agreement)
    for field in ("doc_type", "binding", "text_availability", "lifecycle_status"):
        if field in filters:
            statement = statement.where(getattr(Agreement, field) == filters[field])
    if "theme" in filters:
        theme_ids = records.subtree_ids(session, Theme, EntityType.THEME, filters["theme"], "theme")
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
    organization_ids = records.subtree_ids(
        session, Organization, EntityType.ORGANIZATION, organization_ref, field
    )
    return select(AgreementParticipant.agreement_id).where(
        AgreementParticipant.deleted_at.is_(None),
        AgreementParticipant.role.in_(PARTY_ROLES),
        AgreementParticipant.organization_id.in_(organization_ids),
    )


def get_agreement(session: Session, *, agreement_ref: str) -> Agreement:
    return records.find_by_ref(session, Agreement, AGREEMENT, agreement_ref)


def create_agreement(session: Session, *, data: AgreementIn) -> Agreement:
    values = data.copy()
    records.ensure_unique(session, Agreement, AGREEMENT, "slug", values["slug"])
    records.ensure_unique(session, Agreement, AGREEMENT, "external_id", values.get("external_id"))
    themes = themes_for_slugs(session, values.pop("themes", []))
    agreement = writes.add(
        session,
        Agreement(**values, themes=themes),
        AGREEMENT,
        extra={"themes": [theme.slug for theme in themes]},
    )
    writes.commit(session)
    return agreement


def update_agreement(
    session: Session, *, agreement_ref: str, data: AgreementIn, check: writes.Check
) -> Agreement:
    agreement = records.find_by_ref(session, Agreement, AGREEMENT, agreement_ref, for_update=True)
    check(agreement)
    values = data.copy()
    if "slug" in values:
        records.ensure_unique(
            session, Agreement, AGREEMENT, "slug", values["slug"], exclude_id=agreement.id
        )
    if values.get("external_id") is not None:
        records.ensure_unique(
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
            writes.list_change("themes", agreement.theme_slugs, [theme.slug for theme in themes])
        )
        agreement.themes = themes
    changes.update(writes.assign(agreement, values))
    writes.record_update(session, agreement, AGREEMENT, changes)
    writes.commit(session)
    return agreement


def delete_agreement(session: Session, *, agreement_ref: str, check: writes.Check) -> None:
    """Soft-delete the agreement with what belongs to it: commitments, events, participants
    and relations, each recorded in the change feed."""
    from service.commitments.models import Commitment

    agreement = records.find_by_ref(session, Agreement, AGREEMENT, agreement_ref, for_update=True)
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
        for record in session.scalars(records.live(model).where(belongs).order_by(model.id)):
            writes.soft_delete(session, record, entity)
    writes.soft_delete(session, agreement, AGREEMENT)
    session.flush()
    # None of its commitments is left: its rows go.
    rebuild_kept(session, [agreement.id])
    writes.commit(session)


def agreement_for_write(session: Session, agreement_ref: str) -> Agreement:
    """The agreement, its row locked: writes to what an agreement owns (its events,
    participants, relations) take it, so that what is derived from them stays consistent."""
    return records.find_by_ref(session, Agreement, AGREEMENT, agreement_ref, for_update=True)


# --- lifecycle events ------------------------------------------------------------------------


def refresh_lifecycle_status(session: Session, agreement: Agreement) -> None:
    events = session.scalars(
        records.live(AgreementEvent).where(AgreementEvent.agreement_id == agreement.id)
    ).all()
    status = derive_lifecycle_status((event.type, event.date) for event in events)
    writes.record_update(
        session, agreement, AGREEMENT, writes.assign(agreement, {"lifecycle_status": status})
    )


def lifecycle_statuses_on(
    session: Session, agreement_ids: Sequence[int], day: date
) -> dict[int, LifecycleStatus]:
    """Each agreement's lifecycle status after its events up to `day`, in one query. An
    event dated to a month or a year counts from its first day. One of unknown date sorts
    before the dated ones (derive_lifecycle_status), so it counts from the agreement's
    first dated event on, or on every day when none is dated: before that, nothing says
    the agreement had reached it."""
    events: dict[int, list[tuple[AgreementEventType, PartialDate]]] = {
        agreement_id: [] for agreement_id in agreement_ids
    }
    for event in session.scalars(
        records.live(AgreementEvent).where(AgreementEvent.agreement_id.in_(agreement_ids))
    ):
        events[event.agreement_id].append((event.type, event.date))
    return {key: derive_lifecycle_status(_events_by(found, day)) for key, found in events.items()}


def _events_by(
    events: list[tuple[AgreementEventType, PartialDate]], day: date
) -> list[tuple[AgreementEventType, PartialDate]]:
    """The events that had happened by `day` (lifecycle_statuses_on)."""
    dated = [when.value for _type, when in events if when.is_known and when.value is not None]
    undated_counts = not dated or min(dated) <= day
    return [
        (event_type, when)
        for event_type, when in events
        if (when.value <= day if when.is_known and when.value is not None else undated_counts)
    ]


def list_agreement_events(
    session: Session, *, agreement_ref: str, page: PageRequest, filters: AgreementEventFilters
) -> Page[AgreementEvent]:
    agreement = records.find_by_ref(session, Agreement, AGREEMENT, agreement_ref)
    statement = records.live(AgreementEvent).where(AgreementEvent.agreement_id == agreement.id)
    if "type" in filters:
        statement = statement.where(AgreementEvent.type == filters["type"])
    return keyset_page(session, statement, AgreementEvent.id, page)


def get_agreement_event(session: Session, *, agreement_ref: str, event_id: int) -> AgreementEvent:
    agreement = records.find_by_ref(session, Agreement, AGREEMENT, agreement_ref)
    return records.find_child(
        session, AgreementEvent, EVENT, "agreement_id", agreement.id, event_id
    )


def _event_values(
    session: Session, data: AgreementEventIn
) -> tuple[dict[str, Any], list[Person] | None]:
    values: dict[str, Any] = dict(data)
    unknown_if_cleared(values, "date")
    if values.get("organization_id") is not None:
        records.referenced(
            session,
            Organization,
            EntityType.ORGANIZATION,
            values["organization_id"],
            "organization_id",
        )
    signers = None
    if "signer_ids" in values:
        signers = records.referenced_all(
            session, Person, EntityType.PERSON, values.pop("signer_ids"), "signer_ids"
        )
    return values, signers


def create_agreement_event(
    session: Session, *, agreement_ref: str, data: AgreementEventIn
) -> AgreementEvent:
    agreement = agreement_for_write(session, agreement_ref)
    values, signers = _event_values(session, data)
    event = AgreementEvent(agreement_id=agreement.id, **values, signers=signers or [])
    writes.add(session, event, EVENT, extra={"signer_ids": event.signer_ids})
    refresh_lifecycle_status(session, agreement)
    writes.commit(session)
    return event


def update_agreement_event(
    session: Session,
    *,
    agreement_ref: str,
    event_id: int,
    data: AgreementEventIn,
    check: writes.Check,
) -> AgreementEvent:
    agreement = agreement_for_write(session, agreement_ref)
    event = records.find_child(
        session, AgreementEvent, EVENT, "agreement_id", agreement.id, event_id, for_update=True
    )
    check(event)
    values, signers = _event_values(session, data)
    changes: dict[str, Any] = {}
    if signers is not None:
        changes.update(
            writes.list_change("signer_ids", event.signer_ids, [person.id for person in signers])
        )
        event.signers = signers
    changes.update(writes.assign(event, values))
    writes.record_update(session, event, EVENT, changes)
    refresh_lifecycle_status(session, agreement)
    writes.commit(session)
    return event


def delete_agreement_event(
    session: Session, *, agreement_ref: str, event_id: int, check: writes.Check
) -> None:
    agreement = agreement_for_write(session, agreement_ref)
    event = records.find_child(
        session, AgreementEvent, EVENT, "agreement_id", agreement.id, event_id, for_update=True
    )
    check(event)
    writes.soft_delete(session, event, EVENT)
    refresh_lifecycle_status(session, agreement)
    writes.commit(session)
