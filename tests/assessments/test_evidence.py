"""Evidence before status: an assessment other than not_assessed cites at least one source,
through the API, the bulk import and the seed alike (one rule, in assessments.services)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.assessments.models import StatusAssessment, rests_only_on_low_sources
from service.core.vocabularies import ImplementationStatus, Reliability
from service.sources.models import best_reliability
from tests.builders import (
    make_agreement,
    make_assessment,
    make_commitment,
    make_source,
    make_theme,
)
from tests.jobs.running import imported


@pytest.mark.parametrize(
    "status", [status.value for status in ImplementationStatus if status.value != "not_assessed"]
)
def test_a_status_without_a_source_is_a_422_naming_source_ids(
    client: FlaskClient, session: Session, status: str
) -> None:
    commitment = make_commitment(session)
    body: dict[str, Any] = {"status": status, "as_of": "2024-03", "assessor_kind": "independent"}
    if status == "partially_completed":
        body["progress_pct"] = 40
    before = session.scalar(select(func.count()).select_from(StatusAssessment))

    no_sources: list[dict[str, list[int]]] = [{}, {"source_ids": []}]
    for sources in no_sources:
        answer = client.post(
            f"/api/v1/commitments/{commitment.id}/assessments", json={**body, **sources}
        )
        assert answer.status_code == 422
        assert answer.content_type == "application/problem+json"
        assert "must cite at least one source" in answer.json["errors"]["source_ids"][0]

    assert session.scalar(select(func.count()).select_from(StatusAssessment)) == before
    cited = client.post(
        f"/api/v1/commitments/{commitment.id}/assessments",
        json={**body, "source_ids": [make_source(session).id]},
    )
    assert cited.status_code == 201, cited.json


def test_not_assessed_needs_no_source(client: FlaskClient, session: Session) -> None:
    commitment = make_commitment(session)
    answer = client.post(
        f"/api/v1/commitments/{commitment.id}/assessments",
        json={"status": "not_assessed", "as_of": "2024-03", "assessor_kind": "independent"},
    )
    assert answer.status_code == 201, answer.json


def test_the_bulk_import_refuses_a_status_without_a_source(
    client: FlaskClient, session: Session
) -> None:
    commitment = make_commitment(session)
    text = (
        "commitment_id,status,as_of,assessor_kind,source_ids\n"
        f"{commitment.id},initiated,2024-03,independent,\n"
    )
    job = imported(client, "assessments", text)
    assert job["state"] == "failed"
    assert [(e["row"], e["column"]) for e in job["result"]["row_errors"]] == [(2, "source_ids")]


@pytest.mark.parametrize(
    ("reliabilities", "expected"),
    [
        (["low"], "low"),
        (["low", "low"], "low"),
        (["low", "unknown"], "unknown"),
        (["low", "high"], "high"),
        (["medium", "unknown"], "medium"),
        ([], None),
    ],
)
def test_an_assessment_says_when_it_rests_only_on_low_sources(
    client: FlaskClient, session: Session, reliabilities: list[str], expected: str | None
) -> None:
    commitment = make_commitment(session)
    source_ids = [make_source(session, reliability=level).id for level in reliabilities]
    status = "initiated" if source_ids else "not_assessed"
    created = client.post(
        f"/api/v1/commitments/{commitment.id}/assessments",
        json={
            "status": status,
            "as_of": "2024-03",
            "assessor_kind": "independent",
            "source_ids": source_ids,
        },
    )
    assert created.status_code == 201, created.json
    assert created.json["evidence_reliability"] == expected
    [listed] = client.get(f"/api/v1/commitments/{commitment.id}/assessments").json["items"]
    assert listed["evidence_reliability"] == expected


def test_the_sql_rule_for_low_only_evidence_is_the_python_rule(session: Session) -> None:
    """`rests_only_on_low_sources` restates `best_reliability(...) is low` in SQL: every
    combination of up to three sources' reliabilities gives the same answer both ways."""
    commitment = make_commitment(session)
    levels = [level.value for level in Reliability]
    combinations: list[list[str]] = [[]] + [
        list(combo) for size in (1, 2, 3) for combo in itertools.product(levels, repeat=size)
    ]
    for reliabilities in combinations:
        source_ids = [make_source(session, reliability=level).id for level in reliabilities]
        assessment = make_assessment(
            session,
            commitment,
            status=ImplementationStatus.NOT_ASSESSED,
            source_ids=source_ids,
        )
        in_sql = session.scalar(select(rests_only_on_low_sources(assessment.id)))
        assert bool(in_sql) == (best_reliability(assessment.sources) is Reliability.LOW), (
            reliabilities
        )


def weak_and_strong(session: Session, weak: Any, strong: Any) -> None:
    """`weak` completed on a low source alone, `strong` initiated on a high one."""
    make_assessment(
        session,
        weak,
        status=ImplementationStatus.COMPLETED,
        source_ids=[make_source(session, reliability="low").id],
    )
    make_assessment(
        session,
        strong,
        status=ImplementationStatus.INITIATED,
        source_ids=[make_source(session, reliability="high").id],
    )


def summaries(client: FlaskClient, **scope: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The scope's summary, then the same leaving out what rests only on low sources."""
    every = client.get("/api/v1/stats/summary", query_string=scope).get_json()
    strict = client.get(
        "/api/v1/stats/summary", query_string={**scope, "exclude_low_reliability": "true"}
    ).get_json()
    return every, strict


def test_statistics_can_leave_out_what_rests_only_on_low_sources(
    client: FlaskClient, session: Session
) -> None:
    agreement = make_agreement(session)
    weak, strong = make_commitment(session, agreement), make_commitment(session, agreement)
    weak_and_strong(session, weak, strong)
    every, strict = summaries(client, agreement=agreement.slug)
    assert (every["total"], every["progress"], every["left_out"]) == (2, 62.5, 0)
    assert (strict["total"], strict["progress"], strict["left_out"]) == (1, 25.0, 1)
    counts = {item["status"]: item["count"] for item in strict["by_status"]}
    assert counts["completed"] == 0 and counts["initiated"] == 1


def test_leaving_out_low_sources_works_within_a_theme(
    client: FlaskClient, session: Session
) -> None:
    """A theme's scope with its top commitments found inside it, the weak one left out."""
    theme = make_theme(session)
    agreement = make_agreement(session)
    section = make_commitment(session, agreement, themes=[theme.slug])
    weak = make_commitment(session, agreement, parent_id=section.id, themes=[theme.slug])
    weak_and_strong(session, weak, section)
    every, strict = summaries(client, theme=theme.slug)
    assert (every["total"], every["progress"], every["left_out"]) == (2, 100.0, 0)
    # The section stays, and with it the progress rolled up from its children: the caveat
    # of a roll-up, which leaving out counts and top commitments does not change.
    assert (strict["total"], strict["left_out"]) == (1, 1)
    assert strict["progress"] == 100.0
