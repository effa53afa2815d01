"""An agreement's derived lifecycle status, and what deleting it takes with it."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.agreements.lifecycle import derive_lifecycle_status
from service.commitments.models import Commitment
from service.core.dates import PartialDate
from service.core.vocabularies import AgreementEventType as Event
from service.core.vocabularies import LifecycleStatus as Lifecycle
from tests.builders import make_agreement, make_commitment, make_event


def on(text: str) -> PartialDate:
    return PartialDate.parse(text)


@pytest.mark.parametrize(
    ("events", "status"),
    [
        ([], Lifecycle.UNKNOWN),
        ([(Event.SIGNED, on("2024-01-26"))], Lifecycle.SIGNED),
        (
            [(Event.ENTERED_INTO_FORCE, on("2024-01-26")), (Event.SIGNED, on("2024-01-26"))],
            Lifecycle.IN_FORCE,
        ),
        (
            [
                (Event.SIGNED, on("2020")),
                (Event.TERMINATED, on("2023-05")),
                (Event.AMENDED, on("2024")),
            ],
            Lifecycle.TERMINATED,
        ),
        (
            [(Event.SIGNED, PartialDate.unknown()), (Event.RATIFIED, on("2021-02-01"))],
            Lifecycle.RATIFIED,
        ),
        ([(Event.NEGOTIATION_OPENED, on("2024-09"))], Lifecycle.UNDER_NEGOTIATION),
    ],
)
def test_lifecycle_status_follows_the_latest_event(
    events: list[tuple[Event, PartialDate]], status: Lifecycle
) -> None:
    assert derive_lifecycle_status(events) is status


def test_events_through_the_api_move_the_lifecycle_status(
    client: FlaskClient, session: Session
) -> None:
    agreement = make_agreement(session)
    make_event(session, agreement, type=Event.SIGNED, date="2024-01-26")
    url = f"/api/v1/agreements/{agreement.id}"
    assert client.get(url).json["lifecycle_status"] == "signed"
    in_force = client.post(
        f"{url}/events", json={"type": "entered_into_force", "date": "2024-03"}
    ).json
    assert client.get(url).json["lifecycle_status"] == "in_force"
    client.delete(f"{url}/events/{in_force['id']}")
    assert client.get(url).json["lifecycle_status"] == "signed"
    assert client.get(url, query_string={"lifecycle_status": "x"}).status_code == 400
    listed = client.get("/api/v1/agreements", query_string={"lifecycle_status": "signed"}).json[
        "items"
    ]
    assert [item["id"] for item in listed] == [agreement.id]


def test_deleting_an_agreement_deletes_what_it_owns(client: FlaskClient, session: Session) -> None:
    agreement = make_agreement(session)
    commitment = make_commitment(session, agreement)
    make_event(session, agreement)
    assert client.delete(f"/api/v1/agreements/{agreement.id}").status_code == 204
    assert client.get(f"/api/v1/commitments/{commitment.id}").status_code == 404
    assert (
        session.scalar(select(Commitment.deleted_at).where(Commitment.id == commitment.id))
        is not None
    )
    assert client.get(f"/api/v1/agreements/{agreement.slug}").status_code == 404


def test_search_finds_an_agreement_by_any_of_its_names(
    client: FlaskClient, session: Session
) -> None:
    loi = make_agreement(
        session,
        title="Letter of Intent on Defence Space Cooperation",
        aliases=["Letter of intent on defence space partnership"],
    )
    make_agreement(session, title="Roadmap on horizon 2047")
    for query in ("partnership", "Defence Space", "cooperation"):
        found = client.get("/api/v1/agreements", query_string={"q": query}).json["items"]
        assert [item["id"] for item in found] == [loi.id], query
