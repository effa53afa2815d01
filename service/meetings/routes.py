from __future__ import annotations

from service.core import writes
from service.core.pagination import Page, PageRequest
from service.http.api import Blueprint, get_session
from service.http.resources import ResourceRoutes
from service.meetings import services
from service.meetings.inputs import (
    MeetingFilters,
    MeetingIn,
    MeetingParticipantFilters,
    MeetingParticipantIn,
    MeetingSeriesFilters,
    MeetingSeriesIn,
)
from service.meetings.models import Meeting, MeetingParticipant, MeetingSeries
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


@series.list("/meeting-series")
def list_meeting_series(page: PageRequest, filters: MeetingSeriesFilters) -> Page[MeetingSeries]:
    """List meeting series."""
    return services.list_meeting_series(get_session(), page=page, filters=filters)


@series.create("/meeting-series", location=lambda created: f"/meeting-series/{created.id}")
def create_meeting_series(body: MeetingSeriesIn) -> MeetingSeries:
    """Create a meeting series."""
    return services.create_meeting_series(get_session(), data=body)


@series.get("/meeting-series/<series_ref>")
def get_meeting_series(series_ref: str) -> MeetingSeries:
    """Get a meeting series by id or slug."""
    return services.get_meeting_series(get_session(), series_ref=series_ref)


@series.update("/meeting-series/<series_ref>")
def update_meeting_series(
    series_ref: str, body: MeetingSeriesIn, check: writes.Check
) -> MeetingSeries:
    """Change a meeting series."""
    return services.update_meeting_series(
        get_session(), series_ref=series_ref, data=body, check=check
    )


@series.delete("/meeting-series/<series_ref>")
def delete_meeting_series(series_ref: str, check: writes.Check) -> None:
    """Delete a meeting series (soft)."""
    services.delete_meeting_series(get_session(), series_ref=series_ref, check=check)


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


@meetings.list("/meetings", more_errors=[422])
def list_meetings(page: PageRequest, filters: MeetingFilters) -> Page[Meeting]:
    """List meetings."""
    return services.list_meetings(get_session(), page=page, filters=filters)


@meetings.create(
    "/meetings",
    location=lambda meeting: f"/meetings/{meeting.id}",
    next_operations=["create_meeting_participant", "list_meeting_participants"],
)
def create_meeting(body: MeetingIn) -> Meeting:
    """Record a meeting."""
    return services.create_meeting(get_session(), data=body)


@meetings.get(MEETING)
def get_meeting(meeting_id: int) -> Meeting:
    """Get a meeting."""
    return services.get_meeting(get_session(), meeting_id=meeting_id)


@meetings.update(MEETING)
def update_meeting(meeting_id: int, body: MeetingIn, check: writes.Check) -> Meeting:
    """Change a meeting's fields."""
    return services.update_meeting(get_session(), meeting_id=meeting_id, data=body, check=check)


@meetings.delete(MEETING)
def delete_meeting(meeting_id: int, check: writes.Check) -> None:
    """Delete a meeting and its participants (soft)."""
    services.delete_meeting(get_session(), meeting_id=meeting_id, check=check)


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


@participants.list(MEETING + "/participants", nested=True)
def list_meeting_participants(
    meeting_id: int, page: PageRequest, filters: MeetingParticipantFilters
) -> Page[MeetingParticipant]:
    """List a meeting's participants."""
    return services.list_meeting_participants(
        get_session(), page=page, filters=filters, meeting_id=meeting_id
    )


@participants.create(
    MEETING + "/participants",
    nested=True,
    location=lambda participant: (
        f"/meetings/{participant.meeting_id}/participants/{participant.id}"
    ),
)
def create_meeting_participant(meeting_id: int, body: MeetingParticipantIn) -> MeetingParticipant:
    """Add a participant to a meeting."""
    return services.create_meeting_participant(get_session(), meeting_id=meeting_id, data=body)


@participants.get(PARTICIPANT)
def get_meeting_participant(meeting_id: int, participant_id: int) -> MeetingParticipant:
    """Get one of a meeting's participants."""
    return services.get_meeting_participant(
        get_session(), meeting_id=meeting_id, participant_id=participant_id
    )


@participants.update(PARTICIPANT)
def update_meeting_participant(
    meeting_id: int, participant_id: int, body: MeetingParticipantIn, check: writes.Check
) -> MeetingParticipant:
    """Change a participant."""
    return services.update_meeting_participant(
        get_session(), meeting_id=meeting_id, participant_id=participant_id, data=body, check=check
    )


@participants.delete(PARTICIPANT)
def delete_meeting_participant(meeting_id: int, participant_id: int, check: writes.Check) -> None:
    """Remove a participant (soft)."""
    services.delete_meeting_participant(
        get_session(), meeting_id=meeting_id, participant_id=participant_id, check=check
    )
