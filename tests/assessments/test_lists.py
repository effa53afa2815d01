"""Assessments listed across commitments: those a meeting reviewed, an agreement's, a
commitment's (`GET /api/v1/assessments`), and the `meeting` filter of a commitment's list."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.builders import make_agreement, make_assessment, make_commitment, make_meeting
from tests.helpers import problem_errors


def _ids(client: FlaskClient, path: str, **query: Any) -> list[int]:
    found, token = [], None
    while True:
        page = client.get(
            path, query_string={**query, "page_size": 2, **({"page_token": token} if token else {})}
        )
        assert page.status_code == 200, page.json
        found += [item["id"] for item in page.json["items"]]
        token = page.json["next_page_token"]
        if token is None:
            return found


def test_assessments_are_listed_by_the_meeting_that_reviewed_them(
    client: FlaskClient, session: Session
) -> None:
    dialogue, other = make_meeting(session), make_meeting(session)
    loi, roadmap = make_agreement(session), make_agreement(session, slug="space-roadmap")
    training, exchanges = make_commitment(session, loi), make_commitment(session, loi)
    launch = make_commitment(session, roadmap)

    def assessed(commitment: Any, meeting: Any, as_of: str) -> int:
        return int(
            make_assessment(
                session, commitment, meeting_id=meeting.id if meeting else None, as_of=as_of
            ).id
        )

    reviewed = [
        assessed(training, dialogue, "2024-01"),
        assessed(exchanges, dialogue, "2024-02"),
        assessed(launch, dialogue, "2024-03"),
    ]
    elsewhere = assessed(training, other, "2024-04")
    unreviewed = assessed(exchanges, None, "2024-05")

    assert _ids(client, "/api/v1/assessments", meeting=dialogue.id) == reviewed
    assert _ids(client, "/api/v1/assessments", meeting=dialogue.id, agreement="space-roadmap") == [
        reviewed[2]
    ]
    assert _ids(client, "/api/v1/assessments", agreement=loi.id) == [
        reviewed[0],
        reviewed[1],
        elsewhere,
        unreviewed,
    ]
    assert _ids(client, "/api/v1/assessments", commitment=training.id) == [reviewed[0], elsewhere]
    assert _ids(client, f"/api/v1/commitments/{training.id}/assessments", meeting=other.id) == [
        elsewhere
    ]
    everything = _ids(client, "/api/v1/assessments")
    assert {*reviewed, elsewhere, unreviewed} <= set(everything)

    # A deleted commitment takes its assessments out of every list.
    assert client.delete(f"/api/v1/commitments/{launch.id}").status_code == 204
    assert _ids(client, "/api/v1/assessments", meeting=dialogue.id) == reviewed[:2]


def test_a_filter_naming_no_record_is_a_422_naming_it(
    client: FlaskClient, session: Session
) -> None:
    commitment = make_commitment(session)
    for path in ("/api/v1/assessments", f"/api/v1/commitments/{commitment.id}/assessments"):
        assert "meeting" in problem_errors(client.get(path, query_string={"meeting": 999999}), 422)
    missing = client.get("/api/v1/assessments", query_string={"agreement": "no-such-agreement"})
    assert "agreement" in problem_errors(missing, 422)
    assert "meeting" in problem_errors(
        client.get("/api/v1/assessments", query_string={"meeting": "x"}), 400
    )
