from __future__ import annotations

from service.agreements import participants as participant_services
from service.agreements import relations as relation_services
from service.agreements import services
from service.agreements.inputs import (
    AgreementEventFilters,
    AgreementEventIn,
    AgreementFilters,
    AgreementIn,
    AgreementParticipantFilters,
    AgreementParticipantIn,
    AgreementRelationFilters,
    AgreementRelationIn,
)
from service.agreements.models import (
    Agreement,
    AgreementEvent,
    AgreementParticipant,
    AgreementRelation,
)
from service.agreements.schemas import (
    AgreementCreateSchema,
    AgreementEventCreateSchema,
    AgreementEventQuerySchema,
    AgreementEventSchema,
    AgreementEventUpdateSchema,
    AgreementParticipantCreateSchema,
    AgreementParticipantQuerySchema,
    AgreementParticipantSchema,
    AgreementParticipantUpdateSchema,
    AgreementQuerySchema,
    AgreementRelationCreateSchema,
    AgreementRelationQuerySchema,
    AgreementRelationSchema,
    AgreementRelationUpdateSchema,
    AgreementSchema,
    AgreementUpdateSchema,
)
from service.core import writes
from service.core.pagination import Page, PageRequest
from service.http.api import Blueprint, get_session
from service.http.resources import ResourceRoutes

blp = Blueprint(
    "agreements",
    __name__,
    url_prefix="/api/v1",
    description="Agreements: treaties, memoranda, letters of intent, joint statements.",
)
events_blp = Blueprint(
    "agreement-events",
    __name__,
    url_prefix="/api/v1",
    description="Lifecycle acts on an agreement: signed, ratified, in force...",
)
participants_blp = Blueprint(
    "agreement-participants",
    __name__,
    url_prefix="/api/v1",
    description="Organizations' roles in an agreement.",
)
relations_blp = Blueprint(
    "agreement-relations",
    __name__,
    url_prefix="/api/v1",
    description="How agreements relate: amends, supersedes, implements...",
)

AGREEMENT = "/agreements/<agreement_ref>"

agreements = ResourceRoutes(
    blp,
    name="agreement",
    identity={"agreement_ref": "id"},
    plural="agreements",
    schema=AgreementSchema,
    create_schema=AgreementCreateSchema,
    update_schema=AgreementUpdateSchema,
    query_schema=AgreementQuerySchema,
)


@agreements.list("/agreements", more_errors=[422])
def list_agreements(page: PageRequest, filters: AgreementFilters) -> Page[Agreement]:
    """List agreements."""
    return services.list_agreements(get_session(), page=page, filters=filters)


@agreements.create(
    "/agreements",
    location=lambda agreement: f"/agreements/{agreement.id}",
    next_operations=[
        "create_agreement_commitment",
        "list_agreement_commitments",
        "create_agreement_event",
        "list_agreement_events",
        "create_agreement_participant",
        "list_agreement_participants",
        "create_agreement_relation",
        "list_agreement_relations",
    ],
)
def create_agreement(body: AgreementIn) -> Agreement:
    """Create an agreement."""
    return services.create_agreement(get_session(), data=body)


@agreements.get(AGREEMENT)
def get_agreement(agreement_ref: str) -> Agreement:
    """Get an agreement by id or slug."""
    return services.get_agreement(get_session(), agreement_ref=agreement_ref)


@agreements.update(AGREEMENT)
def update_agreement(agreement_ref: str, body: AgreementIn, check: writes.Check) -> Agreement:
    """Change an agreement's fields."""
    return services.update_agreement(
        get_session(), agreement_ref=agreement_ref, data=body, check=check
    )


@agreements.delete(AGREEMENT)
def delete_agreement(agreement_ref: str, check: writes.Check) -> None:
    """Delete an agreement with its commitments, events, participants and relations (soft)."""
    services.delete_agreement(get_session(), agreement_ref=agreement_ref, check=check)


events = ResourceRoutes(
    events_blp,
    name="agreement_event",
    identity={"agreement_ref": "agreement_id", "event_id": "id"},
    plural="agreement_events",
    schema=AgreementEventSchema,
    create_schema=AgreementEventCreateSchema,
    update_schema=AgreementEventUpdateSchema,
    query_schema=AgreementEventQuerySchema,
)
EVENT = AGREEMENT + "/events/<int:event_id>"


@events.list(AGREEMENT + "/events", nested=True)
def list_agreement_events(
    agreement_ref: str, page: PageRequest, filters: AgreementEventFilters
) -> Page[AgreementEvent]:
    """List an agreement's lifecycle events."""
    return services.list_agreement_events(
        get_session(), page=page, filters=filters, agreement_ref=agreement_ref
    )


@events.create(
    AGREEMENT + "/events",
    nested=True,
    location=lambda event: f"/agreements/{event.agreement_id}/events/{event.id}",
)
def create_agreement_event(agreement_ref: str, body: AgreementEventIn) -> AgreementEvent:
    """Record a lifecycle event; the agreement's lifecycle_status follows."""
    return services.create_agreement_event(get_session(), agreement_ref=agreement_ref, data=body)


@events.get(EVENT)
def get_agreement_event(agreement_ref: str, event_id: int) -> AgreementEvent:
    """Get one of an agreement's events."""
    return services.get_agreement_event(
        get_session(), agreement_ref=agreement_ref, event_id=event_id
    )


@events.update(EVENT)
def update_agreement_event(
    agreement_ref: str, event_id: int, body: AgreementEventIn, check: writes.Check
) -> AgreementEvent:
    """Change an event's fields."""
    return services.update_agreement_event(
        get_session(), agreement_ref=agreement_ref, event_id=event_id, data=body, check=check
    )


@events.delete(EVENT)
def delete_agreement_event(agreement_ref: str, event_id: int, check: writes.Check) -> None:
    """Delete an event (soft)."""
    services.delete_agreement_event(
        get_session(), agreement_ref=agreement_ref, event_id=event_id, check=check
    )


participants = ResourceRoutes(
    participants_blp,
    name="agreement_participant",
    identity={"agreement_ref": "agreement_id", "participant_id": "id"},
    plural="agreement_participants",
    schema=AgreementParticipantSchema,
    create_schema=AgreementParticipantCreateSchema,
    update_schema=AgreementParticipantUpdateSchema,
    query_schema=AgreementParticipantQuerySchema,
)
PARTICIPANT = AGREEMENT + "/participants/<int:participant_id>"


@participants.list(AGREEMENT + "/participants", nested=True)
def list_agreement_participants(
    agreement_ref: str, page: PageRequest, filters: AgreementParticipantFilters
) -> Page[AgreementParticipant]:
    """List the organizations taking part in an agreement."""
    return participant_services.list_agreement_participants(
        get_session(), page=page, filters=filters, agreement_ref=agreement_ref
    )


@participants.create(
    AGREEMENT + "/participants",
    nested=True,
    location=lambda participant: (
        f"/agreements/{participant.agreement_id}/participants/{participant.id}"
    ),
)
def create_agreement_participant(
    agreement_ref: str, body: AgreementParticipantIn
) -> AgreementParticipant:
    """Add an organization to an agreement in a role."""
    return participant_services.create_agreement_participant(
        get_session(), agreement_ref=agreement_ref, data=body
    )


@participants.get(PARTICIPANT)
def get_agreement_participant(agreement_ref: str, participant_id: int) -> AgreementParticipant:
    """Get one of an agreement's participants."""
    return participant_services.get_agreement_participant(
        get_session(), agreement_ref=agreement_ref, participant_id=participant_id
    )


@participants.update(PARTICIPANT)
def update_agreement_participant(
    agreement_ref: str, participant_id: int, body: AgreementParticipantIn, check: writes.Check
) -> AgreementParticipant:
    """Change a participant's role."""
    return participant_services.update_agreement_participant(
        get_session(),
        agreement_ref=agreement_ref,
        participant_id=participant_id,
        data=body,
        check=check,
    )


@participants.delete(PARTICIPANT)
def delete_agreement_participant(
    agreement_ref: str, participant_id: int, check: writes.Check
) -> None:
    """Remove a participant (soft)."""
    participant_services.delete_agreement_participant(
        get_session(), agreement_ref=agreement_ref, participant_id=participant_id, check=check
    )


relations = ResourceRoutes(
    relations_blp,
    name="agreement_relation",
    identity={"agreement_ref": "agreement_id", "relation_id": "id"},
    plural="agreement_relations",
    schema=AgreementRelationSchema,
    create_schema=AgreementRelationCreateSchema,
    update_schema=AgreementRelationUpdateSchema,
    query_schema=AgreementRelationQuerySchema,
)
RELATION = AGREEMENT + "/relations/<int:relation_id>"


@relations.list(AGREEMENT + "/relations", nested=True)
def list_agreement_relations(
    agreement_ref: str, page: PageRequest, filters: AgreementRelationFilters
) -> Page[AgreementRelation]:
    """List how an agreement relates to others."""
    return relation_services.list_agreement_relations(
        get_session(), page=page, filters=filters, agreement_ref=agreement_ref
    )


@relations.create(
    AGREEMENT + "/relations",
    nested=True,
    location=lambda relation: f"/agreements/{relation.agreement_id}/relations/{relation.id}",
)
def create_agreement_relation(agreement_ref: str, body: AgreementRelationIn) -> AgreementRelation:
    """Relate an agreement to another."""
    return relation_services.create_agreement_relation(
        get_session(), agreement_ref=agreement_ref, data=body
    )


@relations.get(RELATION)
def get_agreement_relation(agreement_ref: str, relation_id: int) -> AgreementRelation:
    """Get one of an agreement's relations."""
    return relation_services.get_agreement_relation(
        get_session(), agreement_ref=agreement_ref, relation_id=relation_id
    )


@relations.update(RELATION)
def update_agreement_relation(
    agreement_ref: str, relation_id: int, body: AgreementRelationIn, check: writes.Check
) -> AgreementRelation:
    """Change a relation."""
    return relation_services.update_agreement_relation(
        get_session(), agreement_ref=agreement_ref, relation_id=relation_id, data=body, check=check
    )


@relations.delete(RELATION)
def delete_agreement_relation(agreement_ref: str, relation_id: int, check: writes.Check) -> None:
    """Delete a relation (soft)."""
    relation_services.delete_agreement_relation(
        get_session(), agreement_ref=agreement_ref, relation_id=relation_id, check=check
    )
