from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from service.agreements.models import Agreement
from service.assessments.inputs import AssessmentFilters, AssessmentIn
from service.assessments.models import StatusAssessment, assessment_sources
from service.changes.recording import record_change
from service.commitments.models import Commitment
from service.commitments.services import under_commitments
from service.core import records, writes
from service.core.db import utcnow
from service.core.errors import Conflict, InvalidInput
from service.core.pagination import Page, PageRequest, keyset_page
from service.core.vocabularies import ChangeOperation, EntityType
from service.core.vocabularies import ImplementationStatus as Status
from service.meetings.models import Meeting
from service.organizations.models import Organization
from service.progress import upkeep
from service.progress.rules import HAS_NO_PROGRESS, NEEDS_STATED_PROGRESS
from service.progress.sql import is_standing
from service.sources.models import Source

ASSESSMENT = EntityType.ASSESSMENT
COMMITMENT = EntityType.COMMITMENT
MEETING = EntityType.MEETING


def list_commitment_assessments(
    session: Session, *, commitment_id: int, page: PageRequest, filters: AssessmentFilters
) -> Page[StatusAssessment]:
    commitment = records.find(session, Commitment, COMMITMENT, commitment_id)
    return list_assessments(session, page=page, filters={**filters, "commitment": commitment.id})


def list_assessments(
    session: Session, *, page: PageRequest, filters: AssessmentFilters
) -> Page[StatusAssessment]:
    """Assessments of live commitments, in id order, filtered."""
    statement = records.live(StatusAssessment).where(
        *under_commitments(session, StatusAssessment.commitment_id, filters)
    )
    if "meeting" in filters:
        meeting = records.referenced(session, Meeting, MEETING, filters["meeting"], "meeting")
        statement = statement.where(StatusAssessment.meeting_id == meeting.id)
    if "status" in filters:
        statement = statement.where(StatusAssessment.status == filters["status"])
    if "as_of" in filters:
        statement = statement.where(StatusAssessment.as_of_value <= filters["as_of"])
    if "standing" in filters:
        standing = is_standing(StatusAssessment)
        statement = statement.where(standing if filters["standing"] else ~standing)
    return keyset_page(session, statement, StatusAssessment.id, page)


def get_assessment(session: Session, *, assessment_id: int) -> StatusAssessment:
    return records.find(session, StatusAssessment, ASSESSMENT, assessment_id)


def rule_errors(data: AssessmentIn) -> dict[str, str]:
    """What breaks the rules of an assessment on its own (no lookups), by field; the API and
    the bulk import both apply them."""
    errors: dict[str, str] = {}
    status, stated = data["status"], data.get("progress_pct")
    if status in NEEDS_STATED_PROGRESS and stated is None:
        errors["progress_pct"] = f"A {status.value} assessment must state progress_pct."
    if status in HAS_NO_PROGRESS and stated is not None:
        errors["progress_pct"] = (
            f"A {status.value} assessment has no progress; leave progress_pct out."
        )
    if status is not Status.NOT_ASSESSED and not data.get("source_ids"):
        # Evidence before status: a judgement that something happened names where it is said.
        errors["source_ids"] = (
            f"A {status.value} assessment must cite at least one source; "
            "only not_assessed may have none."
        )
    as_of = data["as_of"].value
    if as_of is not None and as_of > datetime.now(UTC).date():
        errors["as_of"] = "Must not be after today."
    if (assessed_at := data.get("assessed_at")) is not None and assessed_at > datetime.now(UTC):
        errors["assessed_at"] = "Must not be in the future."
    return errors


def _validate(session: Session, commitment_id: int, data: AssessmentIn) -> None:
    for field, message in rule_errors(data).items():
        detail = {
            "as_of": "as_of is in the future.",
            "assessed_at": "assessed_at is in the future.",
            "source_ids": "An assessment other than not_assessed must cite a source.",
        }
        raise InvalidInput(detail.get(field, message), errors={field: [message]})
    if (organization_id := data.get("assessor_organization_id")) is not None:
        records.referenced(
            session,
            Organization,
            EntityType.ORGANIZATION,
            organization_id,
            "assessor_organization_id",
        )
    if (meeting_id := data.get("meeting_id")) is not None:
        records.referenced(session, Meeting, EntityType.MEETING, meeting_id, "meeting_id")
    if (supersedes_id := data.get("supersedes_id")) is not None:
        corrected = records.referenced(
            session, StatusAssessment, ASSESSMENT, supersedes_id, "supersedes_id"
        )
        if corrected.commitment_id != commitment_id:
            message = "An assessment can only correct an assessment of the same commitment."
            raise InvalidInput(message, errors={"supersedes_id": [message]})
        if corrected.superseded_by is not None:
            message = (
                f"Assessment {corrected.id} is already corrected by {corrected.superseded_by.id}."
            )
            raise Conflict(message, errors={"supersedes_id": [message]})


def create_commitment_assessment(
    session: Session, *, commitment_id: int, data: AssessmentIn
) -> StatusAssessment:
    """Append an assessment, and bring the commitment's status and every roll-up above it
    up to date, in one transaction.

    The busiest write, so it skips the ORM's unit of work: the row is inserted with one Core
    statement (writes.insert_row; bench/notes.md measured the plain `writes.add` slower)
    and the derived values are refreshed on plain rows.
    """
    # Lock the agreement: concurrent assessments of its commitments apply one at a time.
    # What the refresh reads is read after the lock, as the previous writer left it.
    agreement_id = records.lock_parent(
        session, Commitment, COMMITMENT, commitment_id, Commitment.agreement_id, Agreement
    )
    values = data.copy()
    _validate(session, commitment_id, values)
    sources = records.referenced_all(
        session, Source, EntityType.SOURCE, values.pop("source_ids", []), "source_ids"
    )
    now = utcnow()
    if values.get("assessed_at") is None:
        values["assessed_at"] = now
    assessment = StatusAssessment(
        commitment_id=commitment_id, created_at=now, effective_progress=None, **values
    )
    writes.insert_row(session, assessment)
    if sources:
        session.execute(
            insert(assessment_sources),
            [{"assessment_id": assessment.id, "source_id": source.id} for source in sources],
        )
    # Said without a query: its sources are those given, and a new assessment is corrected
    # by none.
    set_committed_value(assessment, "sources", sources)
    set_committed_value(assessment, "superseded_by", None)
    source_ids = [source.id for source in sources]
    record_change(
        session,
        assessment,
        ASSESSMENT,
        ChangeOperation.CREATE,
        {**writes.snapshot(assessment), "source_ids": source_ids},
    )
    upkeep.refresh_progress(
        session, agreement_id, reassessed_ids=[commitment_id], new_assessment_ids=[assessment.id]
    )
    writes.commit(session)
    return assessment
