from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.agreements.models import Agreement
from service.commitments.models import Commitment
from service.core import records, writes
from service.core.dates import refuse_end_before_start, unknown_if_cleared
from service.core.errors import Conflict, InvalidInput
from service.core.pagination import Page, PageRequest, keyset_page
from service.core.vocabularies import EntityType
from service.meetings.inputs import (
    MeetingFilters,
    MeetingIn,
    MeetingParticipantFilters,
    MeetingParticipantIn,
    MeetingSeriesFilters,
    MeetingSeriesIn,
)
from service.meetings.models import (
    Meeting,
    MeetingAgendaItem,
    MeetingAgreement,
    MeetingParticipant,
    MeetingSeries,
)
from service.organizations.models import Organization
from service.people.models import Person

SERIES = EntityType.MEETING_SERIES
MEETING = EntityType.MEETING
PARTICIPANT = EntityType.MEETING_PARTICIPANT


# --- series ----------------------------------------------------------------------------------


def list_meeting_series(
    session: Session, *, page: PageRequest, filters: MeetingSeriesFilters
) -> Page[MeetingSeries]:
    statement = records.live(MeetingSeries)
    if "q" in filters:
        statement = statement.where(MeetingSeries.name.icontains(filters["q"], autoescape=True))
    return keyset_page(session, statement, MeetingSeries.id, page)


def get_meeting_series(session: Session, *, series_ref: str) -> MeetingSeries:
    return records.find_by_ref(session, MeetingSeries, SERIES, series_ref)


def create_meeting_series(session: Session, *, data: MeetingSeriesIn) -> MeetingSeries:
    values = data.copy()
    records.ensure_unique(session, MeetingSeries, SERIES, "slug", values["slug"])
    organizations = records.referenced_all(
        session,
        Organization,
        EntityType.ORGANIZATION,
        values.pop("organization_ids", []),
        "organization_ids",
    )
    series = MeetingSeries(**values, organizations=organizations)
    writes.add(session, series, SERIES, extra={"organization_ids": series.organization_ids})
    writes.commit(session)
    return series


def update_meeting_series(
    session: Session, *, series_ref: str, data: MeetingSeriesIn, check: writes.Check
) -> MeetingSeries:
    series = records.find_by_ref(session, MeetingSeries, SERIES, series_ref, for_update=True)
    check(series)
    values = data.copy()
    if "slug" in values:
        records.ensure_unique(
            session, MeetingSeries, SERIES, "slug", values["slug"], exclude_id=series.id
        )
    changes: dict[str, Any] = {}
    if "organization_ids" in values:
        organizations = records.referenced_all(
            session,
            Organization,
            EntityType.ORGANIZATION,
            values.pop("organization_ids"),
            "organization_ids",
        )
        changes.update(
            writes.list_change(
                "organization_ids",
                series.organization_ids,
                [organization.id for organization in organizations],
            )
        )
        series.organizations = organizations
    changes.update(writes.assign(series, values))
    writes.record_update(session, series, SERIES, changes)
    writes.commit(session)
    return series


def delete_meeting_series(session: Session, *, series_ref: str, check: writes.Check) -> None:
    series = records.find_by_ref(session, MeetingSeries, SERIES, series_ref, for_update=True)
    check(series)
    if (
        session.scalar(records.live(Meeting).where(Meeting.series_id == series.id).limit(1))
        is not None
    ):
        raise Conflict("This series has meetings; delete or move them first.")
    writes.soft_delete(session, series, SERIES)
    writes.commit(session)


# --- meetings --------------------------------------------------------------------------------


def list_meetings(session: Session, *, page: PageRequest, filters: MeetingFilters) -> Page[Meeting]:
    statement = records.live(Meeting)
    if "series" in filters:
        statement = statement.where(
            records.refers_to(
                Meeting.series_id, session, MeetingSeries, SERIES, filters["series"], "series"
            )
        )
    if "status" in filters:
        statement = statement.where(Meeting.status == filters["status"])
    if "agreement" in filters:
        statement = statement.where(
            Meeting.id.in_(
                select(MeetingAgreement.meeting_id).where(
                    records.refers_to(
                        MeetingAgreement.agreement_id,
                        session,
                        Agreement,
                        EntityType.AGREEMENT,
                        filters["agreement"],
                        "agreement",
                    )
                )
            )
        )
    if "start_from" in filters:
        statement = statement.where(Meeting.start_date_value >= filters["start_from"])
    if "start_to" in filters:
        statement = statement.where(Meeting.start_date_value <= filters["start_to"])
    return keyset_page(session, statement, Meeting.id, page)


def get_meeting(session: Session, *, meeting_id: int) -> Meeting:
    return records.find(session, Meeting, MEETING, meeting_id)


def _meeting_values(session: Session, data: MeetingIn, current: Meeting | None) -> dict[str, Any]:
    values: dict[str, Any] = dict(data)
    unknown_if_cleared(values, "start_date", "end_date")
    if (series_id := values.get("series_id")) is not None:
        records.referenced(session, MeetingSeries, SERIES, series_id, "series_id")
    refuse_end_before_start(values, current)
    series_id = values.get("series_id", current.series_id if current else None)
    sequence = values.get("sequence", current.sequence if current else None)
    if series_id is not None and sequence is not None:
        records.ensure_unique_together(
            session,
            Meeting,
            {"series_id": series_id, "sequence": sequence},
            "sequence",
            f"The series already has a meeting number {sequence}.",
            exclude_id=current.id if current is not None else None,
        )
    return values


def _links(
    session: Session, values: dict[str, Any]
) -> tuple[list[MeetingAgreement] | None, list[MeetingAgendaItem] | None]:
    """Turn the input lists into link rows, checking that everything they name exists."""
    links = agenda = None
    if "agreements" in values:
        wanted = values.pop("agreements")
        records.referenced_all(
            session,
            Agreement,
            EntityType.AGREEMENT,
            [item["agreement_id"] for item in wanted],
            "agreements",
        )
        unique = {(item["agreement_id"], item["link"]) for item in wanted}
        links = [
            MeetingAgreement(agreement_id=agreement_id, link=link)
            for agreement_id, link in sorted(unique)
        ]
    if "agenda_commitment_ids" in values:
        commitment_ids = values.pop("agenda_commitment_ids")
        records.referenced_all(
            session, Commitment, EntityType.COMMITMENT, commitment_ids, "agenda_commitment_ids"
        )
        agenda = [
            MeetingAgendaItem(commitment_id=commitment_id)
            for commitment_id in sorted(set(commitment_ids))
        ]
    return links, agenda


def create_meeting(session: Session, *, data: MeetingIn) -> Meeting:
    values = _meeting_values(session, data, None)
    links, agenda = _links(session, values)
    meeting = Meeting(**values, agreement_links=links or [], agenda_rows=agenda or [])
    writes.add(
        session,
        meeting,
        MEETING,
        extra={
            "agreements": meeting.agreements,
            "agenda_commitment_ids": meeting.agenda_commitment_ids,
        },
    )
    writes.commit(session)
    return meeting


def update_meeting(
    session: Session, *, meeting_id: int, data: MeetingIn, check: writes.Check
) -> Meeting:
    meeting = records.find(session, Meeting, MEETING, meeting_id, for_update=True)
    check(meeting)
    values = _meeting_values(session, data, meeting)
    links, agenda = _links(session, values)
    changes: dict[str, Any] = {}
    if links is not None:
        new = [{"agreement_id": link.agreement_id, "link": link.link} for link in links]
        changes.update(writes.list_change("agreements", meeting.agreements, new))
        if changes.get("agreements"):
            meeting.agreement_links = links
    if agenda is not None:
        agenda_change = writes.list_change(
            "agenda_commitment_ids",
            meeting.agenda_commitment_ids,
            [item.commitment_id for item in agenda],
        )
        if agenda_change:
            changes.update(agenda_change)
            meeting.agenda_rows = agenda
    changes.update(writes.assign(meeting, values))
    writes.record_update(session, meeting, MEETING, changes)
    writes.commit(session)
    return meeting


def delete_meeting(session: Session, *, meeting_id: int, check: writes.Check) -> None:
    meeting = records.find(session, Meeting, MEETING, meeting_id, for_update=True)
    check(meeting)
    for participant in session.scalars(
        records.live(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting.id)
    ):
        writes.soft_delete(session, participant, PARTICIPANT)
    writes.soft_delete(session, meeting, MEETING)
    writes.commit(session)


# --- participants ----------------------------------------------------------------------------


def list_meeting_participants(
    session: Session, *, meeting_id: int, page: PageRequest, filters: MeetingParticipantFilters
) -> Page[MeetingParticipant]:
    meeting = records.find(session, Meeting, MEETING, meeting_id)
    statement = records.live(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting.id)
    if "role" in filters:
        statement = statement.where(MeetingParticipant.role == filters["role"])
    return keyset_page(session, statement, MeetingParticipant.id, page)


def get_meeting_participant(
    session: Session, *, meeting_id: int, participant_id: int
) -> MeetingParticipant:
    meeting = records.find(session, Meeting, MEETING, meeting_id)
    return records.find_child(
        session, MeetingParticipant, PARTICIPANT, "meeting_id", meeting.id, participant_id
    )


def _check_participant(
    session: Session, values: MeetingParticipantIn, current: MeetingParticipant | None
) -> None:
    if (person_id := values.get("person_id")) is not None:
        records.referenced(session, Person, EntityType.PERSON, person_id, "person_id")
    if (organization_id := values.get("organization_id")) is not None:
        records.referenced(
            session, Organization, EntityType.ORGANIZATION, organization_id, "organization_id"
        )
    person_id = values.get("person_id", current.person_id if current else None)
    organization_id = values.get("organization_id", current.organization_id if current else None)
    if person_id is None and organization_id is None:
        message = "A participant is a person, an organization, or both: give person_id or organization_id."
        raise InvalidInput(message, errors={"person_id": [message]})


def create_meeting_participant(
    session: Session, *, meeting_id: int, data: MeetingParticipantIn
) -> MeetingParticipant:
    meeting = records.find(session, Meeting, MEETING, meeting_id, for_update=True)
    _check_participant(session, data, None)
    participant = writes.add(
        session, MeetingParticipant(meeting_id=meeting.id, **data), PARTICIPANT
    )
    writes.commit(session)
    return participant


def update_meeting_participant(
    session: Session,
    *,
    meeting_id: int,
    participant_id: int,
    data: MeetingParticipantIn,
    check: writes.Check,
) -> MeetingParticipant:
    meeting = records.find(session, Meeting, MEETING, meeting_id, for_update=True)
    participant = records.find_child(
        session,
        MeetingParticipant,
        PARTICIPANT,
        "meeting_id",
        meeting.id,
        participant_id,
        for_update=True,
    )
    check(participant)
    _check_participant(session, data, participant)
    writes.record_update(session, participant, PARTICIPANT, writes.assign(participant, data))
    writes.commit(session)
    return participant


def delete_meeting_participant(
    session: Session, *, meeting_id: int, participant_id: int, check: writes.Check
) -> None:
    meeting = records.find(session, Meeting, MEETING, meeting_id, for_update=True)
    participant = records.find_child(
        session,
        MeetingParticipant,
        PARTICIPANT,
        "meeting_id",
        meeting.id,
        participant_id,
        for_update=True,
    )
    check(participant)
    writes.soft_delete(session, participant, PARTICIPANT)
    writes.commit(session)
