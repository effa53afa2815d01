"""Webhooks in one process: which events a change raises, the outbox, signing, retries."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.db import utcnow
from service.core.vocabularies import ChangeOperation, DeliveryStatus, EntityType
from service.webhooks import services
from service.webhooks.events import WebhookEventType, events_of
from service.webhooks.models import WebhookDelivery, WebhookSubscription
from service.webhooks.targets import Outcome, Target
from tests.builders import make_assessment, make_commitment, make_theme

LOCAL = services.DeliverySettings(
    allow_private_targets=True, backoff_base_seconds=10, max_attempts=3
)
SECRET = "a-shared-secret-of-some-length"


class Receiver:
    """Stands in for the network: records what would be sent, answers with `statuses`."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.calls: list[tuple[Target, bytes, dict[str, str]]] = []

    def __call__(
        self, target: Target, body: bytes, headers: dict[str, str], timeout: float
    ) -> Outcome:
        self.calls.append((target, body, headers))
        status = self.statuses.pop(0) if self.statuses else 200
        return Outcome(status, None if status < 300 else f"HTTP {status}")


def subscribe(session: Session, *events: str) -> WebhookSubscription:
    return services.create_webhook(
        session,
        data={"url": "http://127.0.0.1:9/hook", "secret": SECRET, "event_types": list(events)},
        settings=LOCAL,
    )


def test_a_change_raises_its_events() -> None:
    assert events_of(EntityType.ASSESSMENT, ChangeOperation.CREATE, {}) == ["assessment.created"]
    assert events_of(
        EntityType.COMMITMENT, ChangeOperation.UPDATE, {"current_status": ["a", "b"]}
    ) == ["commitment.updated", "commitment.status_changed"]
    assert events_of(EntityType.API_KEY, ChangeOperation.CREATE, {}) == []
    assert "agreement.lifecycle_changed" in {event.value for event in WebhookEventType}


def test_events_are_fanned_out_signed_and_delivered(session: Session) -> None:
    subscription = subscribe(session, "assessment.created", "commitment.status_changed")
    commitment = make_commitment(session)
    make_theme(session)  # an event no one asked for
    make_assessment(session, commitment)
    assert services.fan_out(session) == 2
    assert services.fan_out(session) == 0, "the cursor moved: nothing twice"
    receiver = Receiver()
    assert services.deliver_due(session, LOCAL, send=receiver) == 2
    assert sorted(
        headers["X-PolicyTracker-Event"] for _target, _body, headers in receiver.calls
    ) == [
        "assessment.created",
        "commitment.status_changed",
    ]
    for _target, body, headers in receiver.calls:
        timestamp, signed = (
            part.split("=", 1)[1] for part in headers["X-PolicyTracker-Signature"].split(",")
        )
        expected = hmac.new(
            SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
        ).hexdigest()
        assert hmac.compare_digest(signed, expected)
        document = json.loads(body)
        assert document["change"]["entity"] in {"assessment", "commitment"}
    statuses = session.scalars(
        select(WebhookDelivery.status).where(WebhookDelivery.subscription_id == subscription.id)
    ).all()
    assert set(statuses) == {DeliveryStatus.DELIVERED}


def test_a_failed_delivery_is_retried_with_backoff_then_given_up(session: Session) -> None:
    subscribe(session, "theme.created")
    make_theme(session)
    services.fan_out(session)
    clock = [utcnow()]
    receiver = Receiver(500, 503, 502)
    assert services.deliver_due(session, LOCAL, send=receiver, now=lambda: clock[0]) == 1
    delivery = session.scalars(select(WebhookDelivery)).one()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.PENDING,
        1,
        500,
    )
    first_wait = delivery.next_attempt_at - clock[0]
    assert timedelta(seconds=9) <= first_wait <= timedelta(seconds=11)
    assert services.deliver_due(session, LOCAL, send=receiver, now=lambda: clock[0]) == 0, (
        "not due yet"
    )
    clock[0] = delivery.next_attempt_at
    services.deliver_due(session, LOCAL, send=receiver, now=lambda: clock[0])
    session.refresh(delivery)
    assert timedelta(seconds=18) <= delivery.next_attempt_at - clock[0] <= timedelta(seconds=22), (
        "doubled"
    )
    clock[0] = delivery.next_attempt_at
    services.deliver_due(session, LOCAL, send=receiver, now=lambda: clock[0])
    session.refresh(delivery)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 3)


def test_a_receiver_that_fails_first_gets_it_on_the_retry(session: Session) -> None:
    subscribe(session, "theme.created")
    make_theme(session)
    services.fan_out(session)
    receiver = Receiver(500)
    services.deliver_due(session, LOCAL, send=receiver)
    later = lambda: utcnow() + timedelta(minutes=5)  # noqa: E731
    services.deliver_due(session, LOCAL, send=receiver, now=later)
    delivery = session.scalars(select(WebhookDelivery)).one()
    assert (delivery.status, delivery.attempts, len(receiver.calls)) == (
        DeliveryStatus.DELIVERED,
        2,
        2,
    )
    assert receiver.calls[0][1] == receiver.calls[1][1], "the same event, the same body"


def test_a_subscription_hears_only_of_what_happens_after_it(session: Session) -> None:
    make_theme(session)
    subscribe(session, "theme.created")
    assert services.fan_out(session) == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.1.2.3/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest",
        "ftp://example.org/x",
    ],
)
def test_private_and_odd_targets_are_refused(client: FlaskClient, url: str) -> None:
    response = client.post(
        "/api/v1/webhooks", json={"url": url, "secret": SECRET, "event_types": ["theme.created"]}
    )
    assert response.status_code == 422
    assert "url" in response.json["errors"]


def test_webhooks_through_the_api(client: FlaskClient, session: Session) -> None:
    created = subscribe(session, "theme.created")
    shown = client.get(f"/api/v1/webhooks/{created.id}").json
    assert "secret" not in shown and shown["event_types"] == ["theme.created"]
    make_theme(session)
    services.fan_out(session)
    services.deliver_due(session, LOCAL, send=Receiver(500))
    deliveries = client.get(f"/api/v1/webhooks/{created.id}/deliveries").json["items"]
    assert [
        (d["event_type"], d["status"], d["attempts"], d["last_status_code"]) for d in deliveries
    ] == [("theme.created", "pending", 1, 500)]
    paused = client.patch(f"/api/v1/webhooks/{created.id}", json={"active": False})
    assert paused.json["active"] is False
    bad = client.post(
        "/api/v1/webhooks",
        json={"url": "https://example.org/h", "secret": "short", "event_types": ["no.such_event"]},
    )
    assert set(bad.json["errors"]) == {"secret", "event_types.0"}


def test_a_subscription_secret_never_reaches_the_change_feed(
    client: FlaskClient, session: Session
) -> None:
    created = subscribe(session, "theme.created")
    client.patch(f"/api/v1/webhooks/{created.id}", json={"secret": "another-secret-of-length"})
    feed = client.get("/api/v1/changes", query_string={"entity": "webhook"})
    assert len(feed.json["items"]) == 2
    assert SECRET not in feed.get_data(as_text=True)
    assert "another-secret-of-length" not in feed.get_data(as_text=True)
