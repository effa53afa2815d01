"""The change feed: every write, in commit order, resumable with `after`."""

from __future__ import annotations

import time

from flask.testing import FlaskClient
from sqlalchemy import Connection

from service.http.observability import LONG_POLL_REFUSALS
from tests.conftest import app_on_connection


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
