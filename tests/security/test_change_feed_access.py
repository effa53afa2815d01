"""Issue 15, item 1: the change feed, its long poll and webhooks show each caller only the
kinds of record its role may read (API keys: admin; webhooks: editor and admin)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.auth.permissions import READ_ROLE, readable_by
from service.auth.services import create_api_key
from service.changes import services as changes
from service.changes.models import ChangeEvent
from service.core.pagination import PageRequest
from service.core.vocabularies import EntityType, Role
from service.webhooks import services as webhooks
from service.webhooks.events import NOT_DATA, WebhookEventType
from service.webhooks.models import WebhookDelivery
from tests.builders import make_theme
from tests.conftest import client_with_key

LOCAL = webhooks.DeliverySettings(allow_private_targets=True)
KEY_NAME = "payroll export key"
HOOK_URL = "http://127.0.0.1:9/T000/B000/incoming-hook-token"


def head(session: Session) -> int:
    return session.scalar(select(func.coalesce(func.max(ChangeEvent.seq), 0))) or 0


def make_hidden_and_public_changes(session: Session) -> int:
    """theme, api key, webhook, theme, api key, theme: returns the seq before them."""
    start = head(session)
    make_theme(session, slug="public-one")
    create_api_key(session, data={"name": KEY_NAME, "role": Role.READER})
    webhooks.create_webhook(
        session,
        data={"url": HOOK_URL, "secret": "s" * 20, "event_types": ["theme.created"]},
        settings=LOCAL,
    )
    make_theme(session, slug="public-two")
    create_api_key(session, data={"name": KEY_NAME + " 2", "role": Role.ADMIN})
    make_theme(session, slug="public-three")
    return start


def follow(app: Flask, key: str | None, query: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item of the feed for `query`, page by page through next_page_token."""
    client = client_with_key(app, key)
    items: list[dict[str, Any]] = []
    response = client.get("/api/v1/changes", query_string=query)
    while True:
        assert response.status_code == 200, response.json
        items += response.json["items"]
        token = response.json["next_page_token"]
        if token is None:
            return items
        response = client.get("/api/v1/changes", query_string={**query, "page_token": token})


def test_the_feed_shows_each_caller_only_what_its_role_may_read(
    app: Flask, keys: dict[Role, str], session: Session
) -> None:
    start = make_hidden_and_public_changes(session)
    expected = {
        None: ["theme"] * 3,
        Role.READER: ["theme"] * 3,
        Role.EDITOR: ["theme", "webhook", "theme", "theme"],
        Role.ADMIN: ["theme", "api_key", "webhook", "theme", "api_key", "theme"],
    }
    for role, entities in expected.items():
        key = keys[role] if role else None
        # Small pages: a page of hidden events in the middle must not end the walk early.
        for page_size in (1, 2, 50):
            items = follow(app, key, {"after": start, "page_size": page_size})
            assert [item["entity"] for item in items] == entities, (role, page_size)
            seqs = [item["seq"] for item in items]
            assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        text = str(follow(app, key, {"after": start}))
        assert (KEY_NAME in text) is (role is Role.ADMIN), role
        assert (HOOK_URL in text) is (role in {Role.EDITOR, Role.ADMIN}), role

    # Asking for a hidden kind by name is refused, as the records' own list is.
    anonymous = client_with_key(app, None).get("/api/v1/changes?entity=api_key")
    assert anonymous.status_code == 401, anonymous.json
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert KEY_NAME not in anonymous.get_data(as_text=True)
    for role, kind in [
        (Role.READER, "api_key"),
        (Role.EDITOR, "api_key"),
        (Role.READER, "webhook"),
    ]:
        refused = client_with_key(app, keys[role]).get(f"/api/v1/changes?entity={kind}")
        assert refused.status_code == 403, (role, kind)
        assert refused.mimetype == "application/problem+json"
    assert client_with_key(app, None).get("/api/v1/changes?entity=webhook").status_code == 401
    webhooks_seen = follow(app, keys[Role.EDITOR], {"after": start, "entity": "webhook"})
    assert [item["changes"]["url"] for item in webhooks_seen] == [HOOK_URL]
    keys_seen = follow(app, keys[Role.ADMIN], {"after": start, "entity": "api_key"})
    assert len(keys_seen) == 2
    # Filters that do not name a kind still leave the hidden ones out.
    hook_id = webhooks_seen[0]["entity_id"]
    by_id = follow(app, None, {"after": start, "entity_id": hook_id})
    assert "webhook" not in {item["entity"] for item in by_id}


def test_a_long_poll_keeps_waiting_through_changes_it_may_not_see(session: Session) -> None:
    after = head(session)
    now = [0.0]
    looks: list[float] = []

    def sleep(seconds: float) -> None:
        looks.append(seconds)
        now[0] += seconds
        if len(looks) == 1:  # a change the poller may not see commits first
            create_api_key(session, data={"name": KEY_NAME, "role": Role.ADMIN})
        if len(looks) == 4:
            make_theme(session, slug="worth-waking-for")

    page = changes.list_changes(
        session,
        page=PageRequest(None, 50),
        filters={"after": after, "wait": 10},
        reader=None,
        waiter=changes.Polling(sleep),
        clock=lambda: now[0],
    )
    assert [change.entity for change in page.items] == [EntityType.THEME]
    assert len(looks) == 4 and now[0] < 10


def test_webhooks_never_hear_of_api_keys_or_webhooks(session: Session) -> None:
    # One rule: what a webhook may hear of is what a reader may read.
    assert NOT_DATA == frozenset(EntityType) - readable_by(Role.READER) == set(READ_ROLE)
    subscribable = {event.value.split(".")[0] for event in WebhookEventType}
    assert not subscribable & {"api_key", "webhook"}
    # Even a subscription whose stored event types were edited by hand to ask for them.
    subscription = webhooks.create_webhook(
        session,
        data={"url": HOOK_URL, "secret": "s" * 20, "event_types": ["theme.created"]},
        settings=LOCAL,
    )
    subscription.event_types = ["api_key.created", "webhook.created", "theme.created"]
    session.commit()
    make_hidden_and_public_changes(session)
    webhooks.fan_out(session)
    delivered = session.scalars(
        select(WebhookDelivery.event_type).where(WebhookDelivery.subscription_id == subscription.id)
    ).all()
    assert sorted(delivered) == ["theme.created"] * 3
