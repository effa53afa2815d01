"""Webhook subscriptions, and the outbox worker that delivers their events: it reads the
ChangeEvent feed after each subscription's cursor, records one delivery per event, and sends
the deliveries that are due, signed, retrying with exponential backoff. Several workers may
run at once: rows are claimed with FOR UPDATE SKIP LOCKED on PostgreSQL, and on SQLite
every write transaction holds the database's write lock."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.changes.models import ChangeEvent
from service.changes.recording import json_value
from service.changes.services import below_fences
from service.core import records, writes
from service.core.db import begin_write, utcnow
from service.core.errors import InvalidInput
from service.core.pagination import Page, PageRequest, keyset_page
from service.core.vocabularies import DeliveryStatus, EntityType
from service.webhooks.events import events_of
from service.webhooks.inputs import WebhookDeliveryFilters, WebhookFilters, WebhookIn
from service.webhooks.models import WebhookDelivery, WebhookSubscription
from service.webhooks.targets import Outcome, Refused, Sender, resolve_target, send_http

log = logging.getLogger(__name__)
WEBHOOK = EntityType.WEBHOOK
SIGNATURE_HEADER = "X-PolicyTracker-Signature"
USER_AGENT = "policy-tracker-webhooks/1"


@dataclass(frozen=True)
class DeliverySettings:
    timeout_seconds: float = 5.0
    max_attempts: int = 8
    backoff_base_seconds: float = 10.0
    backoff_max_seconds: float = 3600.0
    # Off by default: a subscription must not make the service call into its own network.
    allow_private_targets: bool = False


# --- subscriptions ---------------------------------------------------------------------------


def _validate(session: Session, values: WebhookIn, settings: DeliverySettings) -> None:
    if "url" in values:
        try:
            resolve_target(values["url"], allow_private=settings.allow_private_targets)
        except Refused as refused:
            raise InvalidInput(str(refused), errors={"url": [str(refused)]}) from None


def list_webhooks(
    session: Session, *, page: PageRequest, filters: WebhookFilters
) -> Page[WebhookSubscription]:
    statement = records.live(WebhookSubscription)
    if "active" in filters:
        statement = statement.where(WebhookSubscription.active.is_(filters["active"]))
    return keyset_page(session, statement, WebhookSubscription.id, page)


def get_webhook(session: Session, *, webhook_id: int) -> WebhookSubscription:
    return records.find(session, WebhookSubscription, WEBHOOK, webhook_id)


def create_webhook(
    session: Session, *, data: WebhookIn, settings: DeliverySettings
) -> WebhookSubscription:
    values = data.copy()
    values["event_types"] = sorted(set(values["event_types"]))
    _validate(session, values, settings)
    # A new subscription hears of what happens from now on, not of the whole history: from
    # below any bulk write still in progress, whose events it will hear of too.
    last_seq = session.scalar(
        below_fences(
            select(func.coalesce(func.max(ChangeEvent.seq), 0)), session.get_bind().dialect
        )
    )
    subscription = writes.add(session, WebhookSubscription(**values, last_seq=last_seq), WEBHOOK)
    writes.commit(session)
    return subscription


def update_webhook(
    session: Session,
    *,
    webhook_id: int,
    data: WebhookIn,
    check: writes.Check,
    settings: DeliverySettings,
) -> WebhookSubscription:
    subscription = records.find(session, WebhookSubscription, WEBHOOK, webhook_id, for_update=True)
    check(subscription)
    values = data.copy()
    if "event_types" in values:
        values["event_types"] = sorted(set(values["event_types"]))
    _validate(session, values, settings)
    writes.record_update(session, subscription, WEBHOOK, writes.assign(subscription, values))
    writes.commit(session)
    return subscription


def delete_webhook(session: Session, *, webhook_id: int, check: writes.Check) -> None:
    subscription = records.find(session, WebhookSubscription, WEBHOOK, webhook_id, for_update=True)
    check(subscription)
    writes.soft_delete(session, subscription, WEBHOOK)
    writes.commit(session)


def list_webhook_deliveries(
    session: Session, *, webhook_id: int, page: PageRequest, filters: WebhookDeliveryFilters
) -> Page[WebhookDelivery]:
    subscription = records.find(session, WebhookSubscription, WEBHOOK, webhook_id)
    statement = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
    if "status" in filters:
        statement = statement.where(WebhookDelivery.status == filters["status"])
    return keyset_page(session, statement, WebhookDelivery.id, page)


# --- the worker ------------------------------------------------------------------------------


def fan_out(session: Session, *, batch: int = 500) -> int:
    """Turn the ChangeEvents after each subscription's cursor into deliveries; return how many
    were made. A subscription another worker is fanning out is skipped, not waited for."""
    made = 0
    begin_write(session)
    subscriptions = session.scalars(
        records.live(WebhookSubscription)
        .where(WebhookSubscription.active.is_(True))
        .order_by(WebhookSubscription.id)
        .with_for_update(skip_locked=True)
    ).all()
    dialect = session.get_bind().dialect
    for subscription in subscriptions:
        wanted = set(subscription.event_types)
        # Never past a bulk write still in progress: the cursor would skip its events.
        changes = session.scalars(
            below_fences(
                select(ChangeEvent).where(ChangeEvent.seq > subscription.last_seq), dialect
            )
            .order_by(ChangeEvent.seq)
            .limit(batch)
        ).all()
        for change in changes:
            for event_type in events_of(change.entity, change.op, change.changes):
                if event_type in wanted:
                    session.add(
                        WebhookDelivery(
                            subscription_id=subscription.id,
                            change_seq=change.seq,
                            event_type=event_type,
                        )
                    )
                    made += 1
        if changes:
            subscription.last_seq = changes[-1].seq
    session.commit()
    return made


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: receivers recompute and compare it,
    and refuse old timestamps to stop replays."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def payload(delivery: WebhookDelivery, change: ChangeEvent) -> bytes:
    document = {
        "id": delivery.id,
        "event": delivery.event_type,
        "change": {
            "seq": change.seq,
            "occurred_at": json_value(change.occurred_at),
            "entity": change.entity.value,
            "entity_id": change.entity_id,
            "op": change.op.value,
            "changes": change.changes,
            "actor": change.actor,
            "actor_key_id": change.actor_key_id,
            "request_id": change.request_id,
        },
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def backoff(attempts: int, settings: DeliverySettings) -> timedelta:
    """base, 2 base, 4 base... up to the cap, with a tenth of jitter so retries spread out."""
    seconds = min(settings.backoff_base_seconds * 2 ** (attempts - 1), settings.backoff_max_seconds)
    return timedelta(seconds=seconds * random.uniform(0.9, 1.1))


def deliver_due(
    session: Session,
    settings: DeliverySettings,
    *,
    batch: int = 20,
    send: Sender = send_http,
    now: Callable[[], datetime] = utcnow,
) -> int:
    """Send the deliveries that are due; return how many were tried. Each is claimed with its
    row locked (others skip it), so no two workers send the same one."""
    begin_write(session)
    due = session.scalars(
        select(WebhookDelivery)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now(),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    ).all()
    for delivery in due:
        subscription = session.get(WebhookSubscription, delivery.subscription_id)
        change = session.get(ChangeEvent, delivery.change_seq)
        if (
            subscription is None
            or change is None
            or subscription.deleted_at is not None
            or not subscription.active
        ):
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = "The subscription was deleted or paused."
            continue
        body = payload(delivery, change)
        refused_target = False
        try:
            # Resolved and checked at every attempt: the request goes to what was checked.
            target = resolve_target(subscription.url, allow_private=settings.allow_private_targets)
        except Refused as refused:
            outcome, refused_target = Outcome(None, str(refused)), True
        else:
            headers = {
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "X-PolicyTracker-Event": delivery.event_type,
                "X-PolicyTracker-Delivery": str(delivery.id),
                SIGNATURE_HEADER: signature(subscription.secret, int(time.time()), body),
            }
            outcome = send(target, body, headers, settings.timeout_seconds)
        delivery.attempts += 1
        delivery.last_attempt_at = now()
        delivery.last_status_code = outcome.status_code
        delivery.last_error = outcome.error
        if outcome.ok:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = delivery.last_attempt_at
        elif delivery.attempts >= settings.max_attempts or refused_target:
            delivery.status = DeliveryStatus.FAILED
        else:
            delivery.next_attempt_at = now() + backoff(delivery.attempts, settings)
        log.info(
            "webhook delivery %s (%s) attempt %s: %s",
            delivery.id,
            delivery.event_type,
            delivery.attempts,
            outcome.status_code or outcome.error,
        )
    session.commit()
    return len(due)
