"""Commitment lists and reads through HTTP: filters, as_of, children, and their cost."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from service.agreements.services import update_agreement
from service.commitments.models import Commitment
from service.commitments.rows import read_commitment
from service.commitments.schemas import CommitmentSchema
from service.core.dates import PartialDate
from service.core.vocabularies import ImplementationStatus as Status
from service.core.vocabularies import ParticipantRole
from service.progress.as_of import commitments_as_of
from service.seeding.loader import load_seeds
from tests.builders import (
    make_agreement,
    make_assessment,
    make_commitment,
    make_organization,
    make_participant,
    make_theme,
)
from tests.conftest import StatementLog
from tests.helpers import SEEDS


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


def test_status_filter_uses_the_current_status_or_the_status_as_of(
    client: FlaskClient, session: Session
) -> None:
    agreement = make_agreement(session)
    early, late, never = (make_commitment(session, agreement) for _ in range(3))
    make_assessment(session, early, status=Status.COMPLETED, as_of="2024-01-01")
    make_assessment(session, late, status=Status.INITIATED, as_of="2024-01-01")
    make_assessment(session, late, status=Status.COMPLETED, as_of="2024-06-01")
    url = f"/api/v1/agreements/{agreement.id}/commitments"
    assert ids(client.get(url, query_string={"status": "completed"})) == [early.id, late.id]
    assert ids(client.get(url, query_string={"status": "completed", "as_of": "2024-03-01"})) == [
        early.id
    ]
    assert ids(
        client.get(
            url, query_string={"status": ["initiated", "not_assessed"], "as_of": "2024-03-01"}
        )
    ) == [late.id, never.id]
    as_of = client.get(url, query_string={"as_of": "2024-03-01"}).json["items"]
    assert [(item["current_status"], item["as_of"]) for item in as_of] == [
        ("completed", "2024-03-01"),
        ("initiated", "2024-03-01"),
        ("not_assessed", "2024-03-01"),
    ]


def test_get_a_commitment_as_of_a_date(client: FlaskClient, session: Session) -> None:
    commitment = make_commitment(session)
    make_assessment(session, commitment, status=Status.INITIATED, as_of="2024-01-01")
    make_assessment(session, commitment, status=Status.ADVANCED, as_of="2024-06-01")
    then = client.get(f"/api/v1/commitments/{commitment.id}", query_string={"as_of": "2024-02-01"})
    assert then.json["current_status"] == "initiated"
    assert then.json["current_progress"] == 25
    assert then.json["as_of"] == "2024-02-01"
    now = client.get(f"/api/v1/commitments/{commitment.id}")
    assert (now.json["current_status"], now.json["as_of"]) == ("advanced", None)
    assert then.headers["ETag"] != now.headers["ETag"]
    bad = client.get(f"/api/v1/commitments/{commitment.id}", query_string={"as_of": "2024-02"})
    assert bad.status_code == 400
    assert "as_of" in bad.json["errors"]


def test_theme_filter_includes_narrower_themes(client: FlaskClient, session: Session) -> None:
    defence = make_theme(session, slug="defence-x")
    make_theme(session, slug="space-security-x", parent_id=defence.id)
    agreement = make_agreement(session)
    tagged = make_commitment(session, agreement, themes=["space-security-x"])
    make_commitment(session, agreement)
    assert ids(client.get("/api/v1/commitments", query_string={"theme": "defence-x"})) == [
        tagged.id
    ]
    unknown = client.get("/api/v1/commitments", query_string={"theme": "no-such-theme"})
    assert unknown.status_code == 422
    assert unknown.json["errors"] == {"theme": ["No theme with slug 'no-such-theme'."]}


def test_party_and_actor_filters_include_bodies_under_an_organization(
    client: FlaskClient, session: Session
) -> None:
    india = make_organization(session, slug="india-x")
    ministry = make_organization(session, slug="india-mod-x", parent_id=india.id)
    agreement = make_agreement(session)
    make_participant(session, agreement, organization_id=ministry.id, role=ParticipantRole.PARTY)
    inside = make_commitment(session, agreement)
    outside = make_commitment(session)
    client.post(
        f"/api/v1/commitments/{outside.id}/actors",
        json={"organization_id": ministry.id, "role": "responsible"},
    )
    assert ids(client.get("/api/v1/commitments", query_string={"party": "india-x"})) == [inside.id]
    assert ids(client.get("/api/v1/commitments", query_string={"actor": "india-x"})) == [outside.id]
    assert ids(client.get("/api/v1/agreements", query_string={"party": "india-x"})) == [
        agreement.id
    ]


def test_overdue_is_judged_on_the_as_of_date_with_the_status_of_that_date(
    client: FlaskClient, session: Session
) -> None:
    agreement = make_agreement(session)
    due_later = make_commitment(session, agreement, due_date=PartialDate.parse("2025"))
    done_late = make_commitment(session, agreement, due_date=PartialDate.parse("2024-03"))
    make_assessment(session, done_late, status=Status.INITIATED, as_of="2024-01-10")
    make_assessment(session, done_late, status=Status.COMPLETED, as_of="2024-06-01")
    undated = make_commitment(session, agreement)
    url = f"/api/v1/agreements/{agreement.id}/commitments"

    def overdue(value: str, **query: str) -> list[int]:
        return ids(client.get(url, query_string={"overdue": value, **query}))

    # Today: the one due in 2025 is late and the other was completed.
    assert overdue("true") == [due_later.id]
    # On 1 May 2024: not yet due in 2025; due in March 2024 and only initiated then.
    assert overdue("true", as_of="2024-05-01") == [done_late.id]
    assert overdue("false", as_of="2024-05-01") == [due_later.id, undated.id]
    # On 1 July 2024 it was completed: no longer overdue.
    assert overdue("true", as_of="2024-07-01") == []
    listed = client.get(url, query_string={"overdue": "true", "as_of": "2024-05-01"}).json
    assert [(c["current_status"], c["as_of"]) for c in listed["items"]] == [
        ("initiated", "2024-05-01")
    ]


def test_due_before_compares_known_due_dates(client: FlaskClient, session: Session) -> None:
    agreement = make_agreement(session)
    due = make_commitment(session, agreement, due_date=PartialDate.parse("2024-06"))
    make_commitment(session, agreement)
    url = f"/api/v1/agreements/{agreement.id}/commitments"
    assert ids(client.get(url, query_string={"due_before": "2024-07-01"})) == [due.id]
    assert ids(client.get(url, query_string={"due_before": "2024-06-01"})) == []


def test_full_text_search(client: FlaskClient, session: Session) -> None:
    agreement = make_agreement(session)
    hit = make_commitment(
        session,
        agreement,
        title="Space situational awareness",
        summary="To prevent collisions in space",
    )
    make_commitment(session, agreement, title="Training")
    assert ids(client.get("/api/v1/commitments", query_string={"q": "collisions"})) == [hit.id]
    assert ids(client.get("/api/v1/commitments", query_string={"q": "space awareness"})) == [hit.id]
    assert ids(client.get("/api/v1/commitments", query_string={"q": "100% _"})) == []


def test_children_and_top_level(client: FlaskClient, session: Session) -> None:
    agreement = make_agreement(session)
    parent = make_commitment(session, agreement)
    child = make_commitment(session, agreement, parent_id=parent.id)
    assert ids(client.get(f"/api/v1/commitments/{parent.id}/children")) == [child.id]
    assert ids(
        client.get(
            "/api/v1/commitments", query_string={"agreement": agreement.id, "top_level": "true"}
        )
    ) == [parent.id]
    assert client.get("/api/v1/commitments/999999/children").status_code == 404


def test_a_page_token_is_bound_to_its_filters(client: FlaskClient, session: Session) -> None:
    agreement = make_agreement(session)
    for _ in range(3):
        make_commitment(session, agreement)
    first = client.get("/api/v1/commitments", query_string={"page_size": 1, "kind": "commitment"})
    token = first.json["next_page_token"]
    reused = client.get(
        "/api/v1/commitments", query_string={"page_size": 1, "kind": "section", "page_token": token}
    )
    assert reused.status_code == 400


def test_page_size_is_bounded(client: FlaskClient) -> None:
    for size in (0, 201, -1):
        response = client.get("/api/v1/commitments", query_string={"page_size": size})
        assert response.status_code == 400
        assert "page_size" in response.json["errors"]


def _bulk_commitments(session: Session, count: int) -> int:
    agreement = make_agreement(session)
    session.execute(
        insert(Commitment),
        [
            {
                "agreement_id": agreement.id,
                "title": f"Commitment {n}",
                "kind": "commitment",
                "weight": 1.0,
                "current_status": "not_assessed",
                "due_date_precision": "unknown",
            }
            for n in range(count)
        ],
    )
    session.commit()
    return int(agreement.id)


def test_a_page_of_50_costs_the_same_statements_whatever_the_page(
    anonymous_client: FlaskClient, session: Session, sql: StatementLog
) -> None:
    client = anonymous_client  # a public read: no key lookup in the count
    agreement_id = _bulk_commitments(session, 150)
    some = make_theme(session)
    update_agreement(
        session,
        agreement_ref=str(agreement_id),
        data={"themes": [some.slug]},
        check=lambda _r: None,
    )
    url = f"/api/v1/agreements/{agreement_id}/commitments"
    with sql:
        first = client.get(url, query_string={"page_size": 50})
    first_count = sql.count
    with sql:
        second = client.get(
            url, query_string={"page_size": 50, "page_token": first.json["next_page_token"]}
        )
    assert len(first.json["items"]) == len(second.json["items"]) == 50
    assert sql.count == first_count
    assert first_count <= 4, (
        sql.statements
    )  # agreement, page, themes of the page (+ savepoint noise none)
    with sql:
        as_of = client.get(url, query_string={"page_size": 50, "as_of": "2024-01-01"})
    assert as_of.status_code == 200
    assert sql.count <= first_count + 2, sql.statements  # the tree, then its assessments


def test_a_page_deep_in_10000_rows_is_fetched_by_keyset(
    client: FlaskClient, session: Session, sql: StatementLog
) -> None:
    agreement_id = _bulk_commitments(session, 10_000)
    url = f"/api/v1/agreements/{agreement_id}/commitments"
    response = client.get(url, query_string={"page_size": 200})
    for _ in range(40):
        response = client.get(
            url, query_string={"page_size": 200, "page_token": response.json["next_page_token"]}
        )
    with sql:
        deep = client.get(
            url, query_string={"page_size": 200, "page_token": response.json["next_page_token"]}
        )
    assert deep.status_code == 200
    assert len(deep.json["items"]) == 200
    [(page_query, parameters)] = [
        (statement, parameters)
        for statement, parameters in zip(sql.statements, sql.parameters, strict=True)
        if "FROM commitments" in statement and "LIMIT" in statement.upper()
    ]
    assert "commitments.id >" in page_query
    # SQLAlchemy writes "OFFSET ?" with 0 into every SQLite LIMIT; PostgreSQL gets no OFFSET at all.
    assert "OFFSET" not in page_query.upper() or list(parameters)[-1] == 0


@pytest.mark.postgres_only
def test_the_commitment_page_query_uses_an_index_on_postgresql(
    client: FlaskClient, session: Session, sql: StatementLog
) -> None:
    from sqlalchemy import text

    agreement_id = _bulk_commitments(session, 10_000)
    session.execute(text("ANALYZE commitments"))
    plan = "\n".join(
        session.scalars(
            text(
                "EXPLAIN SELECT * FROM commitments WHERE deleted_at IS NULL AND agreement_id = :a AND id > 5000 "
                "ORDER BY id LIMIT 51"
            ),
            {"a": agreement_id},
        )
    )
    assert "Index" in plan, plan
    assert "Seq Scan on commitments" not in plan, plan


def test_every_commitment_read_as_rows_is_the_record_the_orm_loads(
    client: FlaskClient, session: Session
) -> None:
    """Commitments are shown from plain rows (service/commitments/rows.py): every
    commitment a list or a read of one answers must be the record as the ORM loads it,
    dumped by the same schema; as of a date, the same with the status of that date."""
    session.info["actor"] = "seed"
    load_seeds(session, SEEDS)
    kept, dropped = make_theme(session, slug="kept-x"), make_theme(session, slug="dropped-x")
    agreement = make_agreement(session)
    parent = make_commitment(
        session, agreement, themes=["kept-x", "dropped-x"], due_date=PartialDate.parse("2027-04")
    )
    child = make_commitment(
        session, agreement, parent_id=parent.id, due_date=PartialDate.parse("2026")
    )
    make_assessment(session, child, status=Status.ADVANCED, as_of="2024-06-01")
    dropped.deleted_at = kept.created_at  # a theme deleted since it was filed
    session.commit()

    def listed(path: str, **query: str) -> list[dict[str, Any]]:
        items, token = [], None
        while True:
            page = client.get(
                path, query_string={**query, **({"page_token": token} if token else {})}
            )
            assert page.status_code == 200, page.json
            items += page.json["items"]
            token = page.json["next_page_token"]
            if token is None:
                return items

    def loaded(commitment_id: int, as_of: date | None = None) -> Any:
        session.expire_all()
        record: Any = session.get(Commitment, commitment_id)
        shown = json.loads(client.application.json.dumps(CommitmentSchema().dump(record)))
        if as_of is not None:
            today = read_commitment(session, commitment_id)
            assert today is not None
            [row] = commitments_as_of(session, [today], as_of)
            past = {
                "current_status": row.current_status and row.current_status.value,
                "current_progress": row.current_progress,
                "current_assessment_id": row.current_assessment_id,
            }
            shown |= past | {"as_of": as_of.isoformat()}
        else:
            shown["as_of"] = None  # the ORM record has no as_of: today's status is stored
        return shown

    everything = listed("/api/v1/commitments", page_size="7")
    live = select(func.count()).select_from(Commitment).where(Commitment.deleted_at.is_(None))
    assert len(everything) == session.scalar(live) > 2  # the seed data's and these
    pages = [
        everything,
        listed(f"/api/v1/agreements/{agreement.id}/commitments"),
        listed(f"/api/v1/commitments/{parent.id}/children"),
    ]
    for items in pages:
        for item in items:
            assert item == loaded(item["id"])
            assert item == client.get(f"/api/v1/commitments/{item['id']}").json
    assert {item["id"]: item["themes"] for item in pages[1]}[parent.id] == ["kept-x"]
    for item in listed("/api/v1/commitments", as_of="2024-03-01"):
        assert item == loaded(item["id"], date(2024, 3, 1))
        alone = client.get(
            f"/api/v1/commitments/{item['id']}", query_string={"as_of": "2024-03-01"}
        )
        assert item == alone.json
