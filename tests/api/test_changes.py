"""The change feed: every write, in commit order, resumable with `after`."""

from __future__ import annotations

import time
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from service.core.vocabularies import EntityType
from service.http.observability import LONG_POLL_REFUSALS
from service.seeding.loader import load_seeds
from tests.builders import make_agreement, make_commitment, make_meeting, make_person, make_theme
from tests.conftest import app_on_connection
from tests.helpers import SEEDS, change_event_errors


def test_the_feed_lists_writes_in_order_and_resumes_after_a_seq(client: FlaskClient) -> None:
    start = client.get("/api/v1/changes", query_string={"page_size": 200}).json["items"]
    last = start[-1]["seq"] if start else 0
    theme = client.post(
        "/api/v1/themes",
        json={"slug": "feed-theme", "name": "Feed"},
        headers={"X-Request-ID": "r-1"},
    )
    client.patch(f"/api/v1/themes/{theme.json['id']}", json={"name": "Feed!"})
    client.delete(f"/api/v1/themes/{theme.json['id']}")
    changes = client.get("/api/v1/changes", query_string={"after": last}).json["items"]
    assert [(c["entity"], c["op"]) for c in changes] == [
        ("theme", "create"),
        ("theme", "update"),
        ("theme", "delete"),
    ]
    assert changes[0]["request_id"] == "r-1"
    assert changes[0]["changes"]["slug"] == "feed-theme"
    assert changes[1]["changes"] == {"name": ["Feed", "Feed!"]}
    seqs = [c["seq"] for c in changes]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    resumed = client.get("/api/v1/changes", query_string={"after": seqs[0]}).json["items"]
    assert [c["seq"] for c in resumed] == seqs[1:]


def test_the_feed_filters_by_entity_and_id(client: FlaskClient) -> None:
    first = client.post("/api/v1/themes", json={"slug": "one", "name": "One"}).json
    client.post("/api/v1/people", json={"slug": "someone", "name": "Someone"})
    themed = client.get(
        "/api/v1/changes", query_string={"entity": "theme", "entity_id": first["id"]}
    ).json["items"]
    assert [(c["entity"], c["entity_id"]) for c in themed] == [("theme", first["id"])]
    assert client.get("/api/v1/changes", query_string={"entity": "planet"}).status_code == 400
    assert client.get("/api/v1/changes", query_string={"after": "-1"}).status_code == 400


def test_a_long_poll_returns_as_soon_as_a_change_commits(session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from service.changes import services
    from service.changes.services import Polling
    from service.core.pagination import PageRequest
    from tests.builders import make_theme

    start = services.list_changes(session, page=PageRequest(None, 200), filters={}).items
    after = start[-1].seq if start else 0
    now = [0.0]
    looks: list[float] = []

    def sleep(seconds: float) -> None:
        looks.append(seconds)
        now[0] += seconds
        if len(looks) == 3:  # a writer commits while the poller waits
            make_theme(session, slug="arrives-while-waiting")

    page = services.list_changes(
        session,
        page=PageRequest(None, 50),
        filters={"after": after, "wait": 10},
        waiter=Polling(sleep),
        clock=lambda: now[0],
    )
    assert [change.changes["slug"] for change in page.items] == ["arrives-while-waiting"]
    assert len(looks) == 3 and now[0] < 10


def test_a_long_poll_gives_up_empty_after_its_wait(session) -> None:  # type: ignore[no-untyped-def]
    from service.changes import services
    from service.changes.services import Polling
    from service.core.pagination import PageRequest

    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    page = services.list_changes(
        session,
        page=PageRequest(None, 50),
        filters={"after": 2**40, "wait": 3},
        waiter=Polling(sleep),
        clock=lambda: now[0],
    )
    assert page.items == [] and now[0] == 3


def test_wait_is_bounded(client: FlaskClient) -> None:
    assert client.get("/api/v1/changes", query_string={"wait": 26}).status_code == 400
    assert client.get("/api/v1/changes", query_string={"wait": 1, "after": 0}).status_code == 200


def test_a_long_poll_past_the_processs_bound_is_a_503_with_retry_after(
    database_url: str, connection: Connection
) -> None:
    """A long poll holds its worker's thread or greenlet: past LONG_POLLS_PER_PROCESS the
    caller is told to come back, at once, never left to hang; a plain read is not bounded."""
    app = app_on_connection(database_url, connection, long_polls_per_process=2)
    gate = app.extensions["long_polls"]
    client = app.test_client()
    refused_before = LONG_POLL_REFUSALS._value.get()
    gate.enter()
    gate.enter()  # the two places, as two long polls in flight would hold them
    started = time.monotonic()
    refused = client.get("/api/v1/changes", query_string={"after": 0, "wait": 5})
    assert time.monotonic() - started < 1
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    assert refused.content_type == "application/problem+json"
    assert "long polls" in refused.json["detail"]
    assert LONG_POLL_REFUSALS._value.get() == refused_before + 1
    assert client.get("/api/v1/changes", query_string={"after": 0}).status_code == 200
    gate.leave()
    answered = client.get("/api/v1/changes", query_string={"after": 0, "wait": 1})
    assert answered.status_code == 200
    gate.leave()
    # Every place taken was given back: both can be taken again.
    gate.enter()
    gate.enter()


def test_the_seed_and_edits_of_lists_record_the_typed_change_events_of_the_spec(
    client: FlaskClient, session: Session
) -> None:
    """Every change the seed data makes, and updates of the fields kept in tables of their
    own (themes, signers, a meeting's agreements and agenda, a series' organizations), are
    the typed change events the spec states, field by field."""
    session.info["actor"] = "seed"
    load_seeds(session, SEEDS)
    agreement = make_agreement(session)
    commitment = make_commitment(session, agreement)
    meeting = make_meeting(session)
    theme, person = make_theme(session), make_person(session)
    organization_id = client.get("/api/v1/organizations").json["items"][0]["id"]
    series = client.post(
        "/api/v1/meeting-series", json={"slug": "typed-feed", "name": "Typed feed"}
    ).json
    event = client.post(f"/api/v1/agreements/{agreement.id}/events", json={"type": "signed"}).json
    edits: list[tuple[str, dict[str, Any]]] = [
        (f"/api/v1/agreements/{agreement.id}", {"themes": [theme.slug]}),
        (f"/api/v1/commitments/{commitment.id}", {"themes": [theme.slug], "weight": 2.5}),
        (
            f"/api/v1/meetings/{meeting.id}",
            {
                "agreements": [{"agreement_id": agreement.id, "link": "reviewed"}],
                "agenda_commitment_ids": [commitment.id],
                "start_date": "2026-03",
            },
        ),
        (
            f"/api/v1/agreements/{agreement.id}/events/{event['id']}",
            {"signer_ids": [person.id]},
        ),
        (f"/api/v1/meeting-series/{series['id']}", {"organization_ids": [organization_id]}),
    ]
    actor = client.post(
        f"/api/v1/commitments/{commitment.id}/actors",
        json={"organization_id": organization_id, "role": "responsible"},
    )
    assert actor.status_code == 201, actor.json
    for path, body in edits:
        answer = client.patch(path, json=body)
        assert answer.status_code == 200, (path, answer.json)

    events, token = [], None
    while True:
        query = {"page_size": 200, **({"page_token": token} if token else {})}
        page = client.get("/api/v1/changes", query_string=query).json
        events += page["items"]
        token = page["next_page_token"]
        if token is None:
            break
    updated = {
        (event["entity"], name)
        for event in events
        if event["op"] == "update"
        for name in event["changes"]
    }
    assert updated >= {
        ("agreement", "themes"),
        ("commitment", "themes"),
        ("meeting", "agreements"),
        ("meeting", "agenda_commitment_ids"),
        ("meeting", "start_date"),
        ("agreement_event", "signer_ids"),
        ("meeting_series", "organization_ids"),
    }
    # Every kind of record the seed writes or this test does (the seed has no indicators:
    # tests/api/test_resources.py types theirs).
    unwritten = {EntityType.API_KEY, EntityType.WEBHOOK, EntityType.INDICATOR}
    assert {event["entity"] for event in events} >= {
        kind.value for kind in EntityType if kind not in unwritten
    }
    for event in events:
        assert change_event_errors(event) == [], event


def test_the_head_is_the_latest_change_the_caller_may_read(
    client: FlaskClient, anonymous_client: FlaskClient
) -> None:
    """GET /changes/head: where a follower starts from to see only what comes next."""
    assert anonymous_client.get("/api/v1/changes/head").json == {"seq": 0}
    agreement = client.post(
        "/api/v1/agreements", json={"slug": "followed", "title": "Followed", "doc_type": "mou"}
    )
    assert agreement.status_code == 201
    feed = anonymous_client.get("/api/v1/changes").json["items"]
    head = anonymous_client.get("/api/v1/changes/head").json["seq"]
    assert head == feed[-1]["seq"] > 0
    # A change the anonymous caller may not read moves the head of an admin's feed only.
    assert (
        client.post("/api/v1/api-keys", json={"name": "robot", "role": "reader"}).status_code == 201
    )
    assert anonymous_client.get("/api/v1/changes/head").json["seq"] == head
    admin_head = client.get("/api/v1/changes/head").json["seq"]
    assert admin_head > head
    assert client.get("/api/v1/changes", query_string={"after": admin_head}).json["items"] == []
    assert anonymous_client.get("/api/v1/changes", query_string={"after": head}).json["items"] == []
