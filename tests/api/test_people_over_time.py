"""People over time: who held a post on a date, from the memberships' partial dates
(service/people/tenure.py), as the memberships' `as_of` filter and as a post's holders."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from service.core.dates import PartialDate
from tests.builders import make_membership, make_person, make_post
from tests.helpers import problem_errors


def _held(session: Session) -> tuple[Any, dict[str, int]]:
    """One post, and its holders over the years, each with dates of a different precision."""
    post = make_post(session, label="Secretary (Space)")

    def holder(name: str, start: str | None, end: str | None) -> int:
        person = make_person(session, name=name)
        membership = make_membership(
            session,
            person_id=person.id,
            post_id=post.id,
            start_date=PartialDate.parse(start) if start else None,
            end_date=PartialDate.parse(end) if end else None,
        )
        return int(membership.id)

    return post, {
        "Dara (no start, until 2018)": holder("Dara", None, "2018"),
        "Asha (15 Jan 2019 to June 2021)": holder("Asha", "2019-01-15", "2021-06"),
        "Bruno (1 July 2021 to 2023)": holder("Bruno", "2021-07-01", "2023"),
        "Chloé (from Feb 2024)": holder("Chloé", "2024-02", None),
    }


@pytest.mark.parametrize(
    ("day", "names"),
    [
        ("2017-03-01", ["Dara"]),
        ("2018-12-31", ["Dara"]),  # "until 2018": the whole year
        ("2019-01-14", []),  # after Dara, the day before Asha began
        ("2019-01-15", ["Asha"]),
        ("2021-06-30", ["Asha"]),  # "until June 2021": the whole month
        ("2021-07-01", ["Bruno"]),
        ("2023-12-31", ["Bruno"]),
        ("2024-01-31", []),  # Chloé began in February
        ("2024-02-01", ["Chloé"]),
        ("2030-05-05", ["Chloé"]),  # no end date: not ended
    ],
)
def test_memberships_as_of_a_date_are_those_in_effect_then(
    client: FlaskClient, session: Session, day: str, names: list[str]
) -> None:
    post, memberships = _held(session)
    listed = client.get("/api/v1/memberships", query_string={"post": post.id, "as_of": day})
    assert listed.status_code == 200, listed.json
    expected = [ident for label, ident in memberships.items() if label.split()[0] in names]
    assert [item["id"] for item in listed.json["items"]] == sorted(expected)

    shown = client.get(f"/api/v1/posts/{post.id}", query_string={"as_of": day})
    assert shown.status_code == 200, shown.json
    assert shown.json["as_of"] == day
    assert [holder["person"]["name"] for holder in shown.json["holders"]] == names
    listed_posts = client.get(
        "/api/v1/posts", query_string={"organization": post.organization_id, "as_of": day}
    )
    assert listed_posts.json["items"] == [shown.json]


def test_a_post_shows_todays_holders_by_default_and_leaves_out_deleted_ones(
    client: FlaskClient, session: Session
) -> None:
    post, memberships = _held(session)
    shown = client.get(f"/api/v1/posts/{post.id}").json
    assert shown["as_of"] is None
    [holder] = shown["holders"]
    assert holder["membership_id"] == memberships["Chloé (from Feb 2024)"]
    assert (holder["start_date"], holder["end_date"]) == ("2024-02", None)
    assert set(holder["person"]) == {"id", "slug", "name"}

    assert client.delete(f"/api/v1/memberships/{holder['membership_id']}").status_code == 204
    assert client.get(f"/api/v1/posts/{post.id}").json["holders"] == []
    bruno = client.get(f"/api/v1/posts/{post.id}", query_string={"as_of": "2022-01-01"}).json
    [held] = bruno["holders"]
    assert client.delete(f"/api/v1/people/{held['person']['id']}").status_code == 204
    after = client.get(f"/api/v1/posts/{post.id}", query_string={"as_of": "2022-01-01"}).json
    assert after["holders"] == []


def test_a_write_to_a_post_keeps_its_etag_contract(client: FlaskClient, session: Session) -> None:
    """A post's answer holds its holders, so its ETag names them too: If-Match with the
    ETag of a read succeeds, and one from before a holder changed is stale."""
    post, memberships = _held(session)
    location = f"/api/v1/posts/{post.id}"
    etag = client.get(location).headers["ETag"]
    chloe = memberships["Chloé (from Feb 2024)"]
    assert client.patch(f"/api/v1/memberships/{chloe}", json={"role": "acting"}).status_code == 200
    stale = client.patch(location, json={"label": "Space Secretary"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    fresh = client.get(location).headers["ETag"]
    answer = client.patch(location, json={"label": "Space Secretary"}, headers={"If-Match": fresh})
    assert answer.status_code == 200, answer.json
    assert answer.json["label"] == "Space Secretary"
    assert [holder["role"] for holder in answer.json["holders"]] == ["acting"]


@pytest.mark.parametrize("path", ["/api/v1/memberships", "/api/v1/posts", "/api/v1/posts/1"])
def test_as_of_must_be_a_date(client: FlaskClient, session: Session, path: str) -> None:
    make_post(session)
    for bad in ("2024-13-01", "yesterday", "2024-02"):
        assert "as_of" in problem_errors(client.get(path, query_string={"as_of": bad}), 400)
