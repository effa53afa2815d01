"""Issue 15, items 6 and 7: values at the edges of what Python represents are answered, never
a 500; a commitment tree stays within its depth, wherever its parents are set; a slug is one
strict pattern; a body of many bad items gets a short answer; the assessments of a deleted
commitment are gone with it."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from service.commitments.services import MAX_TREE_DEPTH
from service.http.problems import MAX_REPORTED_ERRORS
from tests.builders import (
    make_agreement,
    make_assessment,
    make_commitment,
    make_source,
    unique,
)
from tests.jobs.running import imported

TOO_MANY_DIGITS = "9" * 5000  # Python converts at most 4,300 digits to an int


def _commitment_due_at_the_end_of_time(client: FlaskClient, session: Session) -> TestResponse:
    agreement = make_agreement(session)
    return client.post(
        f"/api/v1/agreements/{agreement.id}/commitments",
        json={"title": "Someday", "due_date": "9999-12"},
    )


def _commitment_moved_to_the_end_of_time(client: FlaskClient, session: Session) -> TestResponse:
    commitment = make_commitment(session)
    return client.patch(f"/api/v1/commitments/{commitment.id}", json={"due_date": "9999-12"})


def _series_of_the_last_month(client: FlaskClient, session: Session) -> TestResponse:
    make_commitment(session)
    return client.get("/api/v1/stats/progress", query_string={"from": "9999-12", "to": "9999-12"})


def _assessed_before_the_first_utc_instant(client: FlaskClient, session: Session) -> TestResponse:
    commitment = make_commitment(session)
    return client.post(
        f"/api/v1/commitments/{commitment.id}/assessments",
        json={
            "status": "initiated",
            "as_of": "2024-03",
            "assessor_kind": "official",
            "assessed_at": "0001-01-01T00:00:00+14:00",
            "source_ids": [make_source(session).id],
        },
    )


def _weight_of_too_many_digits(client: FlaskClient, session: Session) -> TestResponse:
    agreement = make_agreement(session)
    body = '{"title": "Heavy", "weight": ' + TOO_MANY_DIGITS + "}"
    return client.post(
        f"/api/v1/agreements/{agreement.id}/commitments",
        data=body,
        content_type="application/json",
    )


def _source_id_of_too_many_digits(client: FlaskClient, session: Session) -> TestResponse:
    commitment = make_commitment(session)
    body = (
        '{"status": "initiated", "as_of": "2024-03", "assessor_kind": "official", '
        '"source_ids": [' + TOO_MANY_DIGITS + "]}"
    )
    return client.post(
        f"/api/v1/commitments/{commitment.id}/assessments",
        data=body,
        content_type="application/json",
    )


def _agreement_id_of_too_many_digits(client: FlaskClient, session: Session) -> TestResponse:
    return client.get(f"/api/v1/agreements/{TOO_MANY_DIGITS}")


def _series_to_an_empty_month(client: FlaskClient, session: Session) -> TestResponse:
    return client.get("/api/v1/stats/progress", query_string={"to": ""})


def _series_of_the_last_year_allowed(client: FlaskClient, session: Session) -> TestResponse:
    agreement = make_agreement(session)
    client.post(
        f"/api/v1/agreements/{agreement.id}/commitments",
        json={"title": "Someday", "due_date": "9998-12"},
    )
    return client.get(
        "/api/v1/stats/progress",
        query_string={"agreement": agreement.slug, "from": "9998-12", "to": "9998-12"},
    )


def _one_point_at_the_edge(response: TestResponse) -> None:
    [point] = response.json["points"]
    assert (point["month"], point["as_of"], point["total"]) == ("9998-12", "9998-12-31", 1)


def _names(*fields: str) -> Callable[[TestResponse], None]:
    def check(response: TestResponse) -> None:
        assert response.mimetype == "application/problem+json"
        assert sorted(response.json["errors"]) == sorted(fields)

    return check


def _not_found(response: TestResponse) -> None:
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("send", "status", "check"),
    [
        pytest.param(
            _commitment_due_at_the_end_of_time, 422, _names("due_date"), id="due_date-create"
        ),
        pytest.param(
            _commitment_moved_to_the_end_of_time, 422, _names("due_date"), id="due_date-update"
        ),
        pytest.param(_series_of_the_last_month, 400, _names("from", "to"), id="progress-9999-12"),
        pytest.param(_series_of_the_last_year_allowed, 200, _one_point_at_the_edge, id="9998-12"),
        pytest.param(_series_to_an_empty_month, 400, _names("to"), id="progress-to-empty"),
        pytest.param(
            _assessed_before_the_first_utc_instant, 422, _names("assessed_at"), id="assessed_at"
        ),
        pytest.param(_weight_of_too_many_digits, 400, _names("weight"), id="integer-in-body"),
        pytest.param(
            _source_id_of_too_many_digits, 400, _names("source_ids.0"), id="integer-in-a-list"
        ),
        pytest.param(_agreement_id_of_too_many_digits, 404, _not_found, id="integer-in-path"),
    ],
)
def test_values_at_the_edges_of_dates_and_integers_are_answered_never_with_a_500(
    client: FlaskClient,
    session: Session,
    send: Callable[[FlaskClient, Session], TestResponse],
    status: int,
    check: Callable[[TestResponse], None],
) -> None:
    response = send(client, session)
    assert response.status_code == status, response.json
    check(response)


def _chain(session: Session, agreement: Any, name: str, levels: int) -> list[Any]:
    chain = [make_commitment(session, agreement, external_id=f"{name}-1")]
    for level in range(2, levels + 1):
        chain.append(
            make_commitment(
                session, agreement, external_id=f"{name}-{level}", parent_id=chain[-1].id
            )
        )
    return chain


def _move_by_patch(client: FlaskClient, moved: Any, parent: Any) -> tuple[bool, str, str]:
    """Whether the move was made, what the answer said, and the field it should name."""
    response = client.patch(f"/api/v1/commitments/{moved.id}", json={"parent_id": parent.id})
    assert response.status_code in (200, 422), response.json
    return response.status_code == 200, json.dumps(response.json), "parent_id"


def _move_by_import(client: FlaskClient, moved: Any, parent: Any) -> tuple[bool, str, str]:
    text = client.get("/api/v1/exports/commitments.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        if row["external_id"] == moved.external_id:
            row["parent_external_id"] = parent.external_id
    edited = io.StringIO()
    writer = csv.DictWriter(edited, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    job = imported(client, "commitments", edited.getvalue())
    return job["state"] == "succeeded", json.dumps(job), "parent_external_id"


@pytest.mark.parametrize("move", [_move_by_patch, _move_by_import], ids=["patch", "import"])
def test_a_subtree_cannot_be_moved_deeper_than_a_tree_may_be(
    client: FlaskClient, session: Session, move: Callable[..., tuple[bool, str, str]]
) -> None:
    agreement = make_agreement(session)
    branch = _chain(session, agreement, "branch", 7)
    subtree = _chain(session, agreement, "subtree", 7)
    # 7 levels above the moved commitment and 7 from it down: 14, where 12 is the limit.
    made, messages, column = move(client, subtree[0], branch[-1])
    assert not made, messages
    assert f"at most {MAX_TREE_DEPTH} levels deep" in messages
    assert column in messages
    moved = client.get(f"/api/v1/commitments/{subtree[0].id}").json
    assert moved["parent_id"] is None  # nothing written

    # Within the limit, the same move is made: 5 levels above it and 7 from it down.
    made, messages, _column = move(client, subtree[0], branch[4])
    assert made, messages
    assert client.get(f"/api/v1/commitments/{subtree[0].id}").json["parent_id"] == branch[4].id


# What else each slugged resource needs to be created.
SLUGGED = {
    "themes": {"name": "N"},
    "agreements": {"title": "T", "doc_type": "treaty"},
    "organizations": {"name": "N", "classification": "state"},
    "people": {"name": "N"},
    "meeting-series": {"name": "N"},
}


@pytest.mark.parametrize("collection", SLUGGED)
def test_a_slug_matches_the_whole_pattern_so_no_trailing_newline_makes_a_second_one(
    client: FlaskClient, collection: str
) -> None:
    body = SLUGGED[collection]
    response = client.post(f"/api/v1/{collection}", json={"slug": "nl-theme\n", **body})
    assert response.status_code == 422, response.json
    assert list(response.json["errors"]) == ["slug"]
    created = client.post(f"/api/v1/{collection}", json={"slug": "nl-theme", **body})
    assert created.status_code == 201
    assert client.get(f"/api/v1/{collection}/nl-theme%0A").status_code == 404


@pytest.mark.parametrize(
    ("body", "listed"),
    [
        pytest.param({"aliases": [1] * 200_000}, ["aliases"], id="200k-bad-list-items"),
        pytest.param(
            {f"unknown{number:03d}": 1 for number in range(150)}, None, id="150-unknown-fields"
        ),
    ],
)
def test_a_body_of_many_bad_items_gets_a_short_answer(
    client: FlaskClient, body: dict[str, Any], listed: list[str] | None
) -> None:
    sent = {"slug": unique("many"), "title": "T", "doc_type": "treaty", **body}
    response = client.post("/api/v1/agreements", json=sent)
    assert response.status_code == 422
    assert len(response.get_data()) < 20_000
    problem = response.get_json()
    messages = sum(len(field_messages) for field_messages in problem["errors"].values())
    assert messages <= MAX_REPORTED_ERRORS
    if listed is not None:
        # Refused as a whole, before any item is read.
        assert list(problem["errors"]) == listed
        assert problem["errors"]["aliases"] == ["Longer than maximum length 50."]
    else:
        assert (
            f"Only the first {MAX_REPORTED_ERRORS} of 150 problems are listed" in problem["detail"]
        )


def test_the_assessments_of_a_deleted_commitment_are_gone_with_it(
    client: FlaskClient, session: Session
) -> None:
    agreement = make_agreement(session)
    parent = make_commitment(session, agreement)
    child = make_commitment(session, agreement, parent_id=parent.id)
    assessed = [make_assessment(session, commitment) for commitment in (parent, child)]
    for assessment in assessed:
        assert client.get(f"/api/v1/assessments/{assessment.id}").status_code == 200

    assert client.delete(f"/api/v1/commitments/{parent.id}").status_code == 204

    for assessment, commitment in zip(assessed, (parent, child), strict=True):
        for path in (
            f"/api/v1/assessments/{assessment.id}",
            f"/api/v1/commitments/{commitment.id}/assessments",
        ):
            assert client.get(path).status_code == 404, path
        cited = client.post(
            "/api/v1/citations",
            json={
                "source_id": make_source(session).id,
                "entity_type": "assessment",
                "entity_id": assessment.id,
            },
        )
        assert cited.status_code == 422
        assert list(cited.json["errors"]) == ["entity_id"]
    # Gone with the agreement too.
    other = make_commitment(session)
    survivor = make_assessment(session, other)
    assert client.delete(f"/api/v1/agreements/{other.agreement_id}").status_code == 204
    assert client.get(f"/api/v1/assessments/{survivor.id}").status_code == 404
