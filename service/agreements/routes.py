from __future__ import annotations

from service.agreements import participants as participant_services
from service.agreements import relations as relation_services
from service.agreements import services
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
from service.api import Blueprint
from service.resources import ResourceRoutes

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
agreements.list("/agreements", services.list_agreements, "List agreements.", more_errors=[422])
agreements.create(
    "/agreements",
    services.create_agreement,
    "Create an agreement.",
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
agreements.get(AGREEMENT, services.get_agreement, "Get an agreement by id or slug.")
agreements.update(AGREEMENT, services.update_agreement, "Change an agreement's fields.")
agreements.delete(
    AGREEMENT,
    services.delete_agreement,
    "Delete an agreement with its commitments, events, participants and relations (soft).",
)

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
events.list(
    AGREEMENT + "/events",
    services.list_agreement_events,
    "List an agreement's lifecycle events.",
    nested=True,
)
events.create(
    AGREEMENT + "/events",
    services.create_agreement_event,
    "Record a lifecycle event; the agreement's lifecycle_status follows.",
    location=lambda event: f"/agreements/{event.agreement_id}/events/{event.id}",
    nested=True,
)
events.get(EVENT, services.get_agreement_event, "Get one of an agreement's events.")
events.update(EVENT, services.update_agreement_event, "Change an event's fields.")
events.delete(EVENT, services.delete_agreement_event, "Delete an event (soft).")

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
participants.list(
    AGREEMENT + "/participants",
    participant_services.list_agreement_participants,
    "List the organizations taking part in an agreement.",
    nested=True,
)
participants.create(
    AGREEMENT + "/participants",
    participant_services.create_agreement_participant,
    "Add an organization to an agreement in a role.",
    location=lambda participant: (
        f"/agreements/{participant.agreement_id}/participants/{participant.id}"
    ),
    nested=True,
)
participants.get(
    PARTICIPANT,
    participant_services.get_agreement_participant,
    "Get one of an agreement's participants.",
)
participants.update(
    PARTICIPANT, participant_services.update_agreement_participant, "Change a participant's role."
)
participants.delete(
    PARTICIPANT, participant_services.delete_agreement_participant, "Remove a participant (soft)."
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
relations.list(
    AGREEMENT + "/relations",
    relation_services.list_agreement_relations,
    "List how an agreement relates to others.",
    nested=True,
)
relations.create(
    AGREEMENT + "/relations",
    relation_services.create_agreement_relation,
    "Relate an agreement to another.",
    location=lambda relation: f"/agreements/{relation.agreement_id}/relations/{relation.id}",
    nested=True,
)
relations.get(
    RELATION, relation_services.get_agreement_relation, "Get one of an agreement's relations."
)
relations.update(RELATION, relation_services.update_agreement_relation, "Change a relation.")
relations.delete(RELATION, relation_services.delete_agreement_relation, "Delete a relation (soft).")
