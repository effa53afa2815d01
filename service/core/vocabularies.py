"""The closed vocabularies of the domain (DESIGN §1), each defined once.

Each enum becomes one named component in the OpenAPI spec; its values are what the API
accepts and returns, and what the database stores.
"""

from __future__ import annotations

from enum import StrEnum


class DatePrecision(StrEnum):
    DAY = "day"
    MONTH = "month"
    YEAR = "year"
    UNKNOWN = "unknown"


class OrganizationClassification(StrEnum):
    STATE = "state"
    GOVERNMENT_BODY = "government_body"
    AGENCY = "agency"
    INTERGOVERNMENTAL_ORG = "intergovernmental_org"
    COMPANY = "company"
    NGO = "ngo"
    OTHER = "other"


class DocType(StrEnum):
    TREATY = "treaty"
    MOU = "mou"
    LETTER_OF_INTENT = "letter_of_intent"
    JOINT_STATEMENT = "joint_statement"
    ROADMAP = "roadmap"
    ACTION_PLAN = "action_plan"
    FRAMEWORK = "framework"
    OTHER = "other"


class Binding(StrEnum):
    BINDING = "binding"
    NON_BINDING = "non_binding"
    UNKNOWN = "unknown"


class TextAvailability(StrEnum):
    PUBLIC = "public"
    RESTRICTED = "restricted"
    UNDISCLOSED = "undisclosed"


class AgreementEventType(StrEnum):
    PROPOSED = "proposed"
    NEGOTIATION_OPENED = "negotiation_opened"
    SIGNED = "signed"
    RATIFIED = "ratified"
    ENTERED_INTO_FORCE = "entered_into_force"
    PROVISIONALLY_APPLIED = "provisionally_applied"
    AMENDED = "amended"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"


class LifecycleStatus(StrEnum):
    """An agreement's state, derived from its latest lifecycle event."""

    UNKNOWN = "unknown"
    PROPOSED = "proposed"
    UNDER_NEGOTIATION = "under_negotiation"
    SIGNED = "signed"
    RATIFIED = "ratified"
    IN_FORCE = "in_force"
    PROVISIONALLY_APPLIED = "provisionally_applied"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"


class ParticipantRole(StrEnum):
    PARTY = "party"
    SIGNATORY = "signatory"
    DEPOSITARY = "depositary"
    GUARANTOR = "guarantor"
    WITNESS = "witness"
    OBSERVER = "observer"
    LEAD_IMPLEMENTER = "lead_implementer"
    IMPLEMENTING = "implementing"
    FUNDING = "funding"


class RelationKind(StrEnum):
    AMENDS = "amends"
    SUPERSEDES = "supersedes"
    IMPLEMENTS = "implements"
    FRAMEWORK_FOR = "framework_for"
    RELATED = "related"


class CommitmentKind(StrEnum):
    SECTION = "section"
    COMMITMENT = "commitment"
    ACTION = "action"


class ActorRole(StrEnum):
    RESPONSIBLE = "responsible"
    IMPLEMENTING = "implementing"
    BENEFICIARY = "beneficiary"


class ImplementationStatus(StrEnum):
    """Ordered: the declaration order is the order of the scale in DESIGN §1."""

    NOT_ASSESSED = "not_assessed"
    NOT_STARTED = "not_started"
    INITIATED = "initiated"
    ADVANCED = "advanced"
    COMPLETED = "completed"
    PARTIALLY_COMPLETED = "partially_completed"
    STALLED = "stalled"
    SUSPENDED = "suspended"
    NOT_FULFILLED = "not_fulfilled"
    SUPERSEDED = "superseded"
    CANCELLED = "cancelled"


class IndicatorMeasure(StrEnum):
    """How an indicator is measured (IATI's indicator measures): a count of units, a
    percentage, or in words only."""

    UNIT = "unit"
    PERCENTAGE = "percentage"
    QUALITATIVE = "qualitative"


class IndicatorTrack(StrEnum):
    """Where an indicator stands against its target: met; on track (as far along as the
    time gone from its period's start to its end); off track; or unknown (no actual, no
    target, a qualitative indicator, or no dates to measure the time by)."""

    MET = "met"
    ON_TRACK = "on_track"
    OFF_TRACK = "off_track"
    UNKNOWN = "unknown"


class AssessorKind(StrEnum):
    OFFICIAL = "official"
    SELF = "self"
    INDEPENDENT = "independent"
    MEDIA = "media"


class Confidence(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Reliability(StrEnum):
    """How far a source can be trusted in general (an outlet's record), as against a
    citation's `confidence` in one fact."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    UNKNOWN = "unknown"


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"
    POSTPONED = "postponed"
    CANCELLED = "cancelled"


class MeetingParticipantRole(StrEnum):
    CO_CHAIR = "co_chair"
    HEAD_OF_DELEGATION = "head_of_delegation"
    DELEGATE = "delegate"
    OBSERVER = "observer"


class MeetingAgreementLink(StrEnum):
    REVIEWED = "reviewed"
    ANNOUNCED = "announced"
    SIGNED_AT = "signed_at"


class SourceKind(StrEnum):
    OFFICIAL_STATEMENT = "official_statement"
    PRESS_REPORT = "press_report"
    AGREEMENT_TEXT = "agreement_text"
    DATASET = "dataset"
    OTHER = "other"


class ChangeOperation(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class Role(StrEnum):
    """What an API key may do. Ordered: each role can do what the ones before it can."""

    READER = "reader"
    EDITOR = "editor"
    ADMIN = "admin"


class DeliveryStatus(StrEnum):
    """Where a webhook delivery stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class JobKind(StrEnum):
    """What a background job does."""

    IMPORT_COMMITMENTS = "import_commitments"
    IMPORT_ASSESSMENTS = "import_assessments"
    IMPORT_DECIDIM_RESULTS = "import_decidim_results"
    IMPORT_INDICATORS = "import_indicators"


class JobState(StrEnum):
    """Where a background job stands: queued, taken by a worker, or finished either way."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class EntityType(StrEnum):
    """The kinds of record that a citation can support and a change event can name."""

    AGREEMENT = "agreement"
    AGREEMENT_EVENT = "agreement_event"
    AGREEMENT_PARTICIPANT = "agreement_participant"
    AGREEMENT_RELATION = "agreement_relation"
    API_KEY = "api_key"
    ASSESSMENT = "assessment"
    CITATION = "citation"
    COMMITMENT = "commitment"
    COMMITMENT_ACTOR = "commitment_actor"
    INDICATOR = "indicator"
    MEETING = "meeting"
    MEETING_PARTICIPANT = "meeting_participant"
    MEETING_SERIES = "meeting_series"
    MEMBERSHIP = "membership"
    ORGANIZATION = "organization"
    PERSON = "person"
    POST = "post"
    SOURCE = "source"
    THEME = "theme"
    WEBHOOK = "webhook"
