"""The statistics through HTTP: a scope naming no record is an error, and each point of the
series carries what the summary carries."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from service.core.dates import PartialDate
from service.core.vocabularies import AgreementEventType
from service.core.vocabularies import ImplementationStatus as Status
from service.stats import services as stats_services
from tests.builders import (
    make_agreement,
    make_assessment,
    make_commitment,
    make_event,
    make_organization,
    make_participant,
    make_theme,
)

STATS = ["/api/v1/stats/summary", "/api/v1/stats/progress"]


@pytest.mark.parametrize("url", STATS)
@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("agreement", "nope", "No agreement with slug 'nope'."),
        ("agreement", "999999", "No agreement with id 999999."),
        ("organization", "nope", "No organization with slug 'nope'."),
        ("theme", "nope", "No theme with slug 'nope'."),
    ],
)
def test_a_scope_naming_no_record_is_a_422_naming_the_parameter(
    client: FlaskClient, url: str, param: str, value: str, message: str
) -> None:
    """Zeros for a mistyped slug would be a wrong answer that looks right."""
    response = client.get(url, query_string={param: value})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["errors"] == {param: [message]}
    assert response.json["detail"] == message


def test_a_scope_naming_a_record_with_no_commitments_gives_zeros(
    client: FlaskClient, session: Session
) -> None:
    agreement = make_agreement(session)
    body = client.get("/api/v1/stats/summary", query_string={"agreement": agreement.slug}).json
    assert (body["total"], body["overdue"], body["progress"]) == (0, 0, None)


def test_each_point_carries_the_summarys_figures_as_of_its_months_end(
    client: FlaskClient, session: Session
) -> None:
    agreement = make_agreement(session)
    due_in_march = make_commitment(session, agreement, due_date=PartialDate.parse("2024-03"))
    make_assessment(session, due_in_march, status=Status.INITIATED, as_of="2024-02-10")
    make_assessment(session, due_in_march, status=Status.COMPLETED, as_of="2024-06-01")
    # Due on the last day of April: still on time at April's end, late at May's.
    make_commitment(session, agreement, due_date=PartialDate.parse("2024-04-30"))
    make_commitment(session, agreement, due_date=PartialDate.parse("2025"))
    scope = {"agreement": agreement.slug}
    summary = client.get("/api/v1/stats/summary", query_string=scope).get_json()
    series = client.get(
        "/api/v1/stats/progress", query_string={**scope, "from": "2024-02", "to": "2024-07"}
    ).json
    for point in series["points"]:
        assert set(point) == set(summary) - {"scope", "left_out", "indicators"} | {"month"}
    assert [(p["month"], p["as_of"], p["total"], p["overdue"]) for p in series["points"]] == [
        ("2024-02", "2024-02-29", 3, 0),
        ("2024-03", "2024-03-31", 3, 0),
        ("2024-04", "2024-04-30", 3, 1),
        ("2024-05", "2024-05-31", 3, 2),
        ("2024-06", "2024-06-30", 3, 1),
        ("2024-07", "2024-07-31", 3, 1),
    ]
    # Now: the one due in 2025 is late too, the completed one is not.
    assert (summary["total"], summary["overdue"]) == (3, 2)


def test_the_summary_of_each_agreement_is_its_scopes_summary(
    client: FlaskClient, session: Session
) -> None:
    """/stats/agreements: for each agreement the agreements list selects, in its order and
    pages, the figures /stats/summary gives for that agreement."""
    party = make_organization(session)
    late = make_agreement(session, title="Late")
    make_participant(session, late, organization_id=party.id)
    overdue = make_commitment(session, late, due_date=PartialDate.parse("2020-06"))
    make_assessment(session, overdue, status=Status.INITIATED, as_of="2020-01")
    parent = make_commitment(session, late, weight=2.0)
    child = make_commitment(session, late, parent_id=parent.id)
    make_assessment(session, child, status=Status.ADVANCED, as_of="2021-01")
    done = make_agreement(session, title="Done")
    finished = make_commitment(session, done, due_date=PartialDate.parse("2020-06"))
    make_assessment(session, finished, status=Status.COMPLETED, as_of="2020-05")
    empty = make_agreement(session, title="Empty")
    session.commit()

    listed = client.get("/api/v1/stats/agreements", query_string={"page_size": 2})
    assert listed.status_code == 200, listed.json
    items = listed.json["items"]
    rest = client.get(
        "/api/v1/stats/agreements",
        query_string={"page_size": 2, "page_token": listed.json["next_page_token"]},
    ).json
    items += rest["items"]
    assert rest["next_page_token"] is None
    assert [item["agreement"]["slug"] for item in items] == [late.slug, done.slug, empty.slug]
    for item in items:
        slug = item["agreement"]["slug"]
        summary = client.get("/api/v1/stats/summary", query_string={"agreement": slug}).json
        for name in ("total", "by_status", "progress", "overdue", "as_of"):
            assert item[name] == summary[name], (slug, name)
    assert [(item["total"], item["overdue"]) for item in items] == [(3, 1), (1, 0), (0, 0)]
    assert items[0]["progress"] == pytest.approx((25 + 2 * 60) / 3, abs=0.01)

    of_party = client.get("/api/v1/stats/agreements", query_string={"party": party.slug}).json
    assert [item["agreement"]["title"] for item in of_party["items"]] == ["Late"]
    unknown = client.get("/api/v1/stats/agreements", query_string={"party": "nope"})
    assert unknown.status_code == 422 and "party" in unknown.json["errors"]


def test_as_of_a_day_the_figures_are_those_of_that_day(
    client: FlaskClient, session: Session
) -> None:
    """/stats/summary and /stats/agreements with `as_of`: computed from the history, they
    are the series' point at a month's end, the kept figures today, and each agreement's own
    summary; the lifecycle status is the one after the events up to that day."""
    theme = make_theme(session)
    party = make_organization(session)
    first = make_agreement(session, title="First")
    make_participant(session, first, organization_id=party.id)
    make_event(session, first, type=AgreementEventType.SIGNED, date="2024-01-26")
    make_event(session, first, type=AgreementEventType.ENTERED_INTO_FORCE, date="2024-07")
    parent = make_commitment(
        session, first, themes=[theme.slug], due_date=PartialDate.parse("2024-05")
    )
    child = make_commitment(session, first, parent_id=parent.id, weight=3.0)
    make_assessment(session, child, status=Status.INITIATED, as_of="2024-02-10")
    make_assessment(session, child, status=Status.ADVANCED, as_of="2024-06-01")
    make_assessment(session, parent, status=Status.COMPLETED, as_of="2024-09-01")
    second = make_agreement(session, title="Second")
    late = make_commitment(
        session, second, themes=[theme.slug], due_date=PartialDate.parse("2024-03-31")
    )
    make_assessment(session, late, status=Status.STALLED, progress_pct=40.0, as_of="2024-03")
    session.commit()
    series_of = {}
    for scope in (
        {},
        {"agreement": first.slug},
        {"theme": theme.slug},
        {"organization": party.slug},
    ):
        points = client.get(
            "/api/v1/stats/progress", query_string={**scope, "from": "2024-01", "to": "2024-12"}
        ).json["points"]
        series_of[tuple(scope.items())] = points
        for point in points:
            day = point["as_of"]
            then = client.get("/api/v1/stats/summary", query_string={**scope, "as_of": day})
            assert then.status_code == 200, then.json
            for name in ("total", "by_status", "progress", "overdue", "as_of"):
                assert then.json[name] == point[name], (scope, day, name)
        now = client.get("/api/v1/stats/summary", query_string=scope).json
        today = client.get(
            "/api/v1/stats/summary", query_string={**scope, "as_of": now["as_of"]}
        ).json
        for name in ("total", "by_status", "progress", "overdue"):
            assert today[name] == now[name], (scope, name)

    for day, lifecycle in (
        ("2024-01-25", "unknown"),
        ("2024-03-01", "signed"),
        ("2024-12-31", "in_force"),
    ):
        items = client.get("/api/v1/stats/agreements", query_string={"as_of": day}).json["items"]
        by_slug = {item["agreement"]["slug"]: item for item in items}
        assert by_slug[first.slug]["lifecycle_status"] == lifecycle, day
        for slug, item in by_slug.items():
            own = client.get(
                "/api/v1/stats/summary", query_string={"agreement": slug, "as_of": day}
            ).json
            for name in ("total", "by_status", "progress", "overdue", "as_of"):
                assert item[name] == own[name], (slug, day, name)
    # Late on the first of April 2024; 40 % then.
    april = client.get(
        "/api/v1/stats/agreements", query_string={"as_of": "2024-04-01", "q": "Second"}
    ).json["items"]
    assert [(item["overdue"], item["progress"]) for item in april] == [(1, 40.0)]

    mixed = client.get(
        "/api/v1/stats/summary",
        query_string={"as_of": "2024-04-01", "exclude_low_reliability": "true"},
    )
    assert mixed.status_code == 422 and "exclude_low_reliability" in mixed.json["errors"]
    assert (
        client.get("/api/v1/stats/agreements", query_string={"as_of": "2024-13-01"}).status_code
        == 400
    )


def test_an_event_of_unknown_date_counts_from_the_first_dated_one(
    client: FlaskClient, session: Session
) -> None:
    """As of a day, a lifecycle event of unknown date has happened once the agreement's first
    dated event has (before it, nothing says it had), or on any day when none is dated."""
    dated = make_agreement(session, title="Dated")
    make_event(session, dated, type=AgreementEventType.PROPOSED, date=None)
    make_event(session, dated, type=AgreementEventType.SIGNED, date="2024-01-26")
    undated = make_agreement(session, title="Undated")
    make_event(session, undated, type=AgreementEventType.PROPOSED, date=None)
    session.commit()

    def statuses(day: str) -> list[str]:
        items = client.get("/api/v1/stats/agreements", query_string={"as_of": day}).json["items"]
        return [item["lifecycle_status"] for item in items]

    assert statuses("2023-06-01") == ["unknown", "proposed"]
    assert statuses("2024-01-26") == ["signed", "proposed"]


def test_figures_as_of_a_day_read_a_bounded_history(
    client: FlaskClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Computed from the trees' histories, figures as of a day are refused (422, naming
    `as_of`) for more commitments than the bound: no request reads an unbounded history."""
    small = make_agreement(session)
    for _ in range(2):
        make_commitment(session, small)
    large = make_agreement(session)
    for _ in range(3):
        make_commitment(session, large)
    session.commit()
    monkeypatch.setattr(stats_services, "MAX_AS_OF_COMMITMENTS", 3)
    day = {"as_of": "2025-01-01"}
    assert (
        client.get(
            "/api/v1/stats/summary", query_string={**day, "agreement": large.slug}
        ).status_code
        == 200
    )
    everything = client.get("/api/v1/stats/summary", query_string=day)
    assert everything.status_code == 422
    assert "as_of" in everything.json["errors"]
    assert "at most 3 commitments; this asks for 5" in everything.json["detail"]
    one_page = client.get("/api/v1/stats/agreements", query_string={**day, "page_size": 1})
    assert one_page.status_code == 200
    both = client.get("/api/v1/stats/agreements", query_string={**day, "page_size": 2})
    assert both.status_code == 422 and "as_of" in both.json["errors"]
    # Today's figures are kept, not computed: no bound.
    assert client.get("/api/v1/stats/summary").status_code == 200
