"""Domain rules on input that a schema alone cannot check, through HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.builders import (
    make_agreement,
    make_commitment,
    make_meeting,
    make_meeting_series,
    make_organization,
    make_person,
    make_source,
    make_theme,
)
from tests.helpers import problem_errors


@pytest.mark.parametrize(
    ("value", "stored", "precision"),
    [
        ("2024", "2024", "year"),
        ("2024-03", "2024-03", "month"),
        ("2024-03-04", "2024-03-04", "day"),
        (None, None, "unknown"),
    ],
)
def test_dates_keep_their_precision(
    client: FlaskClient, value: str | None, stored: str | None, precision: str
) -> None:
    body = client.post("/api/v1/meetings", json={"title": "Dialogue", "start_date": value}).json
    assert (body["start_date"], body["start_date_precision"]) == (stored, precision)


@pytest.mark.parametrize(
    "value", ["2024-13", "2024-02-30", "24-03-04", "2024/03/04", "March 2024", "0000", 2024]
)
def test_impossible_dates_are_refused_by_field(client: FlaskClient, value: object) -> None:
    assert "start_date" in problem_errors(
        client.post("/api/v1/meetings", json={"title": "x", "start_date": value}), 422
    )


def test_an_end_before_the_start_is_refused(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/meetings", json={"title": "x", "start_date": "2024-03-04", "end_date": "2024-03"}
    )
    assert "end_date" in problem_errors(response, 422)


def test_a_series_cannot_have_two_meetings_with_one_number(
    client: FlaskClient, session: Session
) -> None:
    series = make_meeting_series(session)
    make_meeting(session, series_id=series.id, sequence=2)
    response = client.post(
        "/api/v1/meetings", json={"title": "x", "series_id": series.id, "sequence": 2}
    )
    assert "sequence" in problem_errors(response, 409)


def test_meeting_links_name_real_agreements_and_commitments(
    client: FlaskClient, session: Session
) -> None:
    agreement = make_agreement(session)
    commitment = make_commitment(session, agreement)
    response = client.post(
        "/api/v1/meetings",
        json={
            "title": "x",
            "agreements": [{"agreement_id": agreement.id, "link": "reviewed"}],
            "agenda_commitment_ids": [commitment.id],
        },
    )
    assert response.status_code == 201
    assert response.json["agreements"] == [{"agreement_id": agreement.id, "link": "reviewed"}]
    bad = client.post(
        "/api/v1/meetings",
        json={"title": "x", "agreements": [{"agreement_id": 999999, "link": "reviewed"}]},
    )
    assert "agreements" in problem_errors(bad, 422)
    bad_link = client.post(
        "/api/v1/meetings",
        json={"title": "x", "agreements": [{"agreement_id": agreement.id, "link": "admired"}]},
    )
    assert "agreements.0.link" in problem_errors(bad_link, 422)
    replaced = client.patch(
        f"/api/v1/meetings/{response.json['id']}", json={"agenda_commitment_ids": []}
    )
    assert replaced.json["agenda_commitment_ids"] == []


def test_a_membership_is_of_a_post_or_an_organization(
    client: FlaskClient, session: Session
) -> None:
    person = make_person(session)
    assert "post_id" in problem_errors(
        client.post("/api/v1/memberships", json={"person_id": person.id}), 422
    )
    response = client.post(
        "/api/v1/memberships", json={"person_id": person.id, "organization_id": 999999}
    )
    assert "organization_id" in problem_errors(response, 422)


def test_a_citation_names_a_real_record_and_field(client: FlaskClient, session: Session) -> None:
    source, agreement = make_source(session), make_agreement(session)
    base = {"source_id": source.id, "entity_type": "agreement", "entity_id": agreement.id}
    assert client.post("/api/v1/citations", json={**base, "field": "aliases"}).status_code == 201
    assert "field" in problem_errors(
        client.post("/api/v1/citations", json={**base, "field": "colour"}), 422
    )
    assert "field" in problem_errors(
        client.post("/api/v1/citations", json={**base, "field": "metadata"}), 422
    )
    assert "entity_id" in problem_errors(
        client.post("/api/v1/citations", json={**base, "entity_id": 999999}), 422
    )
    assert "entity_id" in problem_errors(
        client.post("/api/v1/citations", json={**base, "entity_type": "person"}), 422
    )


def test_sources_are_unique_by_url_and_need_http(client: FlaskClient, session: Session) -> None:
    source = make_source(session)
    assert "url" in problem_errors(
        client.post("/api/v1/sources", json={"url": source.url, "title": "x"}), 409
    )
    assert "url" in problem_errors(
        client.post("/api/v1/sources", json={"url": "javascript:alert(1)", "title": "x"}), 422
    )


def test_unknown_theme_slugs_are_named(client: FlaskClient, session: Session) -> None:
    make_theme(session, slug="real-theme")
    response = client.post(
        "/api/v1/agreements",
        json={
            "slug": "a-b",
            "title": "x",
            "doc_type": "mou",
            "themes": ["real-theme", "imaginary"],
        },
    )
    assert problem_errors(response, 422) == {"themes": ["No theme with slug 'imaginary'."]}


@pytest.mark.parametrize("resource", ["themes", "organizations"])
def test_a_parent_loop_is_a_409(client: FlaskClient, resource: str) -> None:
    extra = {"classification": "state"} if resource == "organizations" else {}
    top = client.post(f"/api/v1/{resource}", json={"slug": "top", "name": "Top", **extra}).json
    child = client.post(
        f"/api/v1/{resource}", json={"slug": "child", "name": "C", "parent_id": top["id"], **extra}
    ).json
    response = client.patch(f"/api/v1/{resource}/{top['id']}", json={"parent_id": child["id"]})
    assert "parent_id" in problem_errors(response, 409)
    assert (
        client.patch(f"/api/v1/{resource}/{top['id']}", json={"parent_id": top["id"]}).status_code
        == 409
    )
    assert client.delete(f"/api/v1/{resource}/{top['id']}").status_code == 409


def test_slugs_are_never_all_digits(client: FlaskClient) -> None:
    # An all-digit slug would be read as an id in /themes/{ref}.
    assert "slug" in problem_errors(
        client.post("/api/v1/themes", json={"slug": "2024", "name": "x"}), 422
    )


def test_a_deleted_slug_can_be_reused(client: FlaskClient, session: Session) -> None:
    organization = make_organization(session, slug="reusable")
    assert client.delete(f"/api/v1/organizations/{organization.id}").status_code == 204
    again = client.post(
        "/api/v1/organizations", json={"slug": "reusable", "name": "x", "classification": "state"}
    )
    assert again.status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "initiated", "as_of": "2999-01-01", "assessor_kind": "media"}, "as_of"),
        (
            {
                "status": "initiated",
                "as_of": "2024-01",
                "assessor_kind": "media",
                "progress_pct": 101,
            },
            "progress_pct",
        ),
        (
            {
                "status": "initiated",
                "as_of": "2024-01",
                "assessor_kind": "media",
                "source_ids": [999999],
            },
            "source_ids",
        ),
        (
            {
                "status": "initiated",
                "as_of": "2024-01",
                "assessor_kind": "media",
                "meeting_id": 999999,
            },
            "meeting_id",
        ),
        (
            {
                "status": "initiated",
                "as_of": "2024-01",
                "assessor_kind": "media",
                "assessed_at": "2024-01-01T00:00:00",
            },
            "assessed_at",
        ),
    ],
)
def test_assessment_input_rules(
    client: FlaskClient, session: Session, body: dict[str, Any], field: str
) -> None:
    commitment = make_commitment(session)
    if "source_ids" not in body:
        body = {**body, "source_ids": [make_source(session).id]}
    assert field in problem_errors(
        client.post(f"/api/v1/commitments/{commitment.id}/assessments", json=body), 422
    )


def test_a_signing_names_real_people(client: FlaskClient, session: Session) -> None:
    agreement = make_agreement(session)
    response = client.post(
        f"/api/v1/agreements/{agreement.id}/events", json={"type": "signed", "signer_ids": [999999]}
    )
    assert "signer_ids" in problem_errors(response, 422)


def test_an_agreement_cannot_relate_to_itself(client: FlaskClient, session: Session) -> None:
    agreement = make_agreement(session)
    response = client.post(
        f"/api/v1/agreements/{agreement.id}/relations",
        json={"related_agreement_id": agreement.id, "kind": "amends"},
    )
    assert "related_agreement_id" in problem_errors(response, 422)


@pytest.mark.parametrize("value", ["\x00", "x" * 501])
def test_strings_are_bounded_and_nul_free(client: FlaskClient, value: str) -> None:
    response = client.post(
        "/api/v1/agreements", json={"slug": "loi", "title": value, "doc_type": "mou"}
    )
    assert "title" in problem_errors(response, 422)


def test_a_nested_record_is_found_only_under_its_parent(
    client: FlaskClient, session: Session
) -> None:
    first, second = make_agreement(session), make_agreement(session)
    event = client.post(f"/api/v1/agreements/{first.id}/events", json={"type": "signed"}).json
    assert client.get(f"/api/v1/agreements/{first.id}/events/{event['id']}").status_code == 200
    assert client.get(f"/api/v1/agreements/{second.id}/events/{event['id']}").status_code == 404


@pytest.mark.parametrize(
    ("url", "param", "message"),
    [
        ("/api/v1/commitments", "agreement", "No agreement with slug 'nope'."),
        ("/api/v1/commitments", "theme", "No theme with slug 'nope'."),
        ("/api/v1/commitments", "party", "No organization with slug 'nope'."),
        ("/api/v1/commitments", "actor", "No organization with slug 'nope'."),
        ("/api/v1/agreements", "theme", "No theme with slug 'nope'."),
        ("/api/v1/agreements", "party", "No organization with slug 'nope'."),
        ("/api/v1/meetings", "series", "No meeting series with slug 'nope'."),
        ("/api/v1/meetings", "agreement", "No agreement with slug 'nope'."),
        ("/api/v1/themes", "parent", "No theme with slug 'nope'."),
        ("/api/v1/organizations", "parent", "No organization with slug 'nope'."),
        ("/api/v1/posts", "organization", "No organization with slug 'nope'."),
        ("/api/v1/memberships", "person", "No person with slug 'nope'."),
        ("/api/v1/memberships", "organization", "No organization with slug 'nope'."),
        ("/api/v1/exports/commitments.csv", "theme", "No theme with slug 'nope'."),
        ("/api/v1/exports/agreements.jsonl", "party", "No organization with slug 'nope'."),
    ],
)
def test_a_filter_naming_no_record_is_a_422_naming_the_parameter(
    client: FlaskClient, url: str, param: str, message: str
) -> None:
    """An empty list would be a wrong answer that looks right (a typo in a slug)."""
    response = client.get(url, query_string={param: "nope"})
    assert problem_errors(response, 422) == {param: [message]}
    assert response.json["detail"] == message


def test_a_filter_naming_no_record_by_id_or_a_deleted_one_is_a_422(
    client: FlaskClient, session: Session
) -> None:
    gone = make_theme(session)
    client.delete(f"/api/v1/themes/{gone.id}")
    for param, value, message in [
        ("agreement", "999999", "No agreement with id 999999."),
        ("theme", str(gone.id), f"No theme with id {gone.id}."),
        ("theme", gone.slug, f"No theme with slug {gone.slug!r}."),
    ]:
        response = client.get("/api/v1/commitments", query_string={param: value})
        assert problem_errors(response, 422) == {param: [message]}
    assert problem_errors(
        client.get("/api/v1/memberships", query_string={"post": "999999"}), 422
    ) == {"post": ["No post with id 999999."]}
    assert problem_errors(
        client.get("/api/v1/citations", query_string={"source": "999999"}), 422
    ) == {"source": ["No source with id 999999."]}
    assert "parent" in problem_errors(
        client.get("/api/v1/organizations", query_string={"parent": ""}), 400
    )


def test_a_filter_naming_a_record_with_nothing_under_it_is_an_empty_list(
    client: FlaskClient, session: Session
) -> None:
    make_meeting(session, title="Without a series")
    series = make_meeting_series(session)
    make_organization(session, slug="orphan")
    for url, params in [
        ("/api/v1/meetings", {"series": series.slug}),
        ("/api/v1/organizations", {"parent": "orphan"}),
        ("/api/v1/commitments", {"agreement": make_agreement(session).slug}),
        ("/api/v1/memberships", {"person": make_person(session).slug}),
    ]:
        response = client.get(url, query_string=params)
        assert response.status_code == 200, url
        assert response.json["items"] == [], url


def test_a_partial_update_still_needs_whole_list_items(
    client: FlaskClient, session: Session
) -> None:
    meeting = make_meeting(session)
    agreement = make_agreement(session)
    response = client.patch(
        f"/api/v1/meetings/{meeting.id}", json={"agreements": [{"agreement_id": agreement.id}]}
    )
    assert "agreements.0.link" in problem_errors(response, 422)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("verifiable", 0),
        ("verifiable", "true"),
        ("weight", "2"),
        ("weight", True),
        ("parent_id", True),
        ("parent_id", "1"),
        ("parent_id", 1.0),
    ],
)
def test_json_types_are_taken_literally(
    client: FlaskClient, session: Session, field: str, value: object
) -> None:
    agreement = make_agreement(session)
    response = client.post(
        f"/api/v1/agreements/{agreement.id}/commitments", json={"title": "x", field: value}
    )
    assert field in problem_errors(response, 422)


def test_a_deleted_meeting_frees_its_number_in_the_series(
    client: FlaskClient, session: Session
) -> None:
    series = make_meeting_series(session)
    first = make_meeting(session, series_id=series.id, sequence=1)
    assert client.delete(f"/api/v1/meetings/{first.id}").status_code == 204
    again = client.post(
        "/api/v1/meetings", json={"title": "x", "series_id": series.id, "sequence": 1}
    )
    assert again.status_code == 201
