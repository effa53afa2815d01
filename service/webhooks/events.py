"""The events a webhook can subscribe to, and which a ChangeEvent raises."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from service.auth.permissions import readable_by
from service.core.vocabularies import ChangeOperation, EntityType, Role

# A delivery goes to a URL that shows no key, wherever its data then travels: whatever the
# role of the editor who subscribed it, it hears only of what a reader may read. Changes to
# the service's own settings (API keys, webhooks) raise no events.
NOT_DATA = frozenset(EntityType) - readable_by(Role.READER)
_PAST = {
    ChangeOperation.CREATE: "created",
    ChangeOperation.UPDATE: "updated",
    ChangeOperation.DELETE: "deleted",
}
# Events for a derived value that moved: what dashboards and alerts most want.
_DERIVED = {
    (EntityType.COMMITMENT, "current_status"): "commitment.status_changed",
    (EntityType.AGREEMENT, "lifecycle_status"): "agreement.lifecycle_changed",
}

WebhookEventType = StrEnum(  # type: ignore[misc]
    "WebhookEventType",
    {
        name.upper().replace(".", "_"): name
        for name in [
            *(
                f"{entity.value}.{past}"
                for entity in EntityType
                if entity not in NOT_DATA
                for past in _PAST.values()
            ),
            *_DERIVED.values(),
        ]
    },
)
WebhookEventType.__doc__ = "What a webhook subscription listens to: <entity>.<created|updated|deleted>, or a derived change."


def events_of(entity: EntityType, op: ChangeOperation, changes: dict[str, Any]) -> list[str]:
    """The event types one ChangeEvent raises (keys and webhooks raise none: not data)."""
    if entity in NOT_DATA:
        return []
    raised = [f"{entity.value}.{_PAST[op]}"]
    if op is ChangeOperation.UPDATE:  # a record made with a value has not changed it
        raised += [
            event
            for (kind, field), event in _DERIVED.items()
            if kind is entity and field in changes
        ]
    return raised
