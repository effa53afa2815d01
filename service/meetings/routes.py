from __future__ import annotations

from service.api import Blueprint
from service.meetings import services
from service.meetings.schemas import (
    MeetingCreateSchema,
    MeetingParticipantCreateSchema,
    MeetingParticipantQuerySchema,
    MeetingParticipantSchema,
    MeetingParticipantUpdateSchema,
    MeetingQuerySchema,
    MeetingSchema,
    MeetingSeriesCreateSchema,
    MeetingSeriesQuerySchema,
    MeetingSeriesSchema,
    MeetingSeriesUpdateSchema,
    MeetingUpdateSchema,
)
from service.resources import ResourceRoutes

series_blp = Blueprint(
    "meeting-series",
    __name__,
    url_prefix="/api/v1",
    description="Standing dialogues, such as the India-France Strategic Space Dialogue.",
)
blp = Blueprint(
    "meetings",
    __name__,
    url_prefix="/api/v1",
    description="Sittings of a dialogue: when, where, who, and what they reviewed.",
)
participants_blp = Blueprint(
    "meeting-participants",
    __name__,
    url_prefix="/api/v1",
    description="Who took part in a meeting, and in what role.",
)

series = ResourceRoutes(
    series_blp,
    name="meeting_series",
    identity={"series_ref": "id"},
    plural="meeting_series",
    schema=MeetingSeriesSchema,
    create_schema=MeetingSeriesCreateSchema,
    update_schema=MeetingSeriesUpdateSchema,
    query_schema=MeetingSeriesQuerySchema,
)
series.list(
    "/meeting-series",
    services.list_meeting_series,
    "List meeting series.",
    operation_id="list_meeting_series",
)
series.create(
    "/meeting-series",
    services.create_meeting_series,
    "Create a meeting series.",
    location=lambda created: f"/meeting-series/{created.id}",
)
series.get(
    "/meeting-series/<series_ref>",
    services.get_meeting_series,
    "Get a meeting series by id or slug.",
)
series.update(
    "/meeting-series/<series_ref>", services.update_meeting_series, "Change a meeting series."
)
series.delete(
    "/meeting-series/<series_ref>",
    services.delete_meeting_series,
    "Delete a meeting series (soft).",
)

meetings = ResourceRoutes(
    blp,
    name="meeting",
    identity={"meeting_id": "id"},
    plural="meetings",
    schema=MeetingSchema,
    create_schema=MeetingCreateSchema,
    update_schema=MeetingUpdateSchema,
    query_schema=MeetingQuerySchema,
)
MEETING = "/meetings/<int:meeting_id>"
meetings.list("/meetings", services.list_meetings, "List meetings.", more_errors=[422])
meetings.create(
    "/meetings",
    services.create_meeting,
    "Record a meeting.",
    location=lambda meeting: f"/meetings/{meeting.id}",
    next_operations=["create_meeting_participant", "list_meeting_participants"],
)
meetings.get(MEETING, services.get_meeting, "Get a meeting.")
meetings.update(MEETING, services.update_meeting, "Change a meeting's fields.")
meetings.delete(MEETING, services.delete_meeting, "Delete a meeting and its participants (soft).")

participants = ResourceRoutes(
    participants_blp,
    name="meeting_participant",
    identity={"meeting_id": "meeting_id", "participant_id": "id"},
    plural="meeting_participants",
    schema=MeetingParticipantSchema,
    create_schema=MeetingParticipantCreateSchema,
    update_schema=MeetingParticipantUpdateSchema,
    query_schema=MeetingParticipantQuerySchema,
)
PARTICIPANT = MEETING + "/participants/<int:participant_id>"
participants.list(
    MEETING + "/participants",
    services.list_meeting_participants,
    "List a meeting's participants.",
    nested=True,
)
participants.create(
    MEETING + "/participants",
    services.create_meeting_participant,
    "Add a participant to a meeting.",
    location=lambda participant: (
        f"/meetings/{participant.meeting_id}/participants/{participant.id}"
    ),
    nested=True,
)
participants.get(
    PARTICIPANT, services.get_meeting_participant, "Get one of a meeting's participants."
)
participants.update(PARTICIPANT, services.update_meeting_participant, "Change a participant.")
participants.delete(
    PARTICIPANT, services.delete_meeting_participant, "Remove a participant (soft)."
)
