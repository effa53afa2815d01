"""An agreement's lifecycle status, derived from its events (UN Treaty Collection actions)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from service.core.dates import PartialDate
from service.core.vocabularies import AgreementEventType, LifecycleStatus

STATUS_AFTER_EVENT: dict[AgreementEventType, LifecycleStatus | None] = {
    AgreementEventType.PROPOSED: LifecycleStatus.PROPOSED,
    AgreementEventType.NEGOTIATION_OPENED: LifecycleStatus.UNDER_NEGOTIATION,
    AgreementEventType.SIGNED: LifecycleStatus.SIGNED,
    AgreementEventType.RATIFIED: LifecycleStatus.RATIFIED,
    AgreementEventType.ENTERED_INTO_FORCE: LifecycleStatus.IN_FORCE,
    AgreementEventType.PROVISIONALLY_APPLIED: LifecycleStatus.PROVISIONALLY_APPLIED,
    # An amendment changes the text, not whether the agreement stands.
    AgreementEventType.AMENDED: None,
    AgreementEventType.SUSPENDED: LifecycleStatus.SUSPENDED,
    AgreementEventType.TERMINATED: LifecycleStatus.TERMINATED,
    AgreementEventType.EXPIRED: LifecycleStatus.EXPIRED,
    AgreementEventType.SUPERSEDED: LifecycleStatus.SUPERSEDED,
    AgreementEventType.WITHDRAWN: LifecycleStatus.WITHDRAWN,
}

_STAGE = {event_type: rank for rank, event_type in enumerate(AgreementEventType)}


def derive_lifecycle_status(
    events: Iterable[tuple[AgreementEventType, PartialDate]],
) -> LifecycleStatus:
    """The status after the latest event that changes it.

    Events are ordered by date; on the same date (or with no known date, which sorts first)
    by their stage in the lifecycle, so "signed" and "entered into force" on one day end
    in force.
    """
    ordered = sorted(
        events,
        key=lambda event: (event[1].value if event[1].is_known else date.min, _STAGE[event[0]]),
    )
    status = LifecycleStatus.UNKNOWN
    for event_type, _when in ordered:
        status = STATUS_AFTER_EVENT[event_type] or status
    return status
