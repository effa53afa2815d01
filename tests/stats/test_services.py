"""The statistics, computed in SQL, against the rules of progress.rules computed in
Python on the same random trees: they must agree, month by month, on both databases."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from service.agreements.models import Agreement
from service.commitments.models import Commitment
from service.core.dates import PartialDate
from service.core.vocabularies import ImplementationStatus as Status
from service.progress.month_rows import rebuild_months
from service.progress.months import month_range
from service.progress.rules import (
    TERMINAL_STATUSES,
    TreeNode,
    roll_up,
    state_from_assessments,
    weighted_mean,
)
from service.progress.upkeep import assessment_facts
from service.stats.services import Scope, progress_over_time, summary
from tests.builders import make_agreement, make_assessment, make_commitment, make_theme

STATUSES = [
    Status.NOT_STARTED,
    Status.INITIATED,
    Status.ADVANCED,
    Status.COMPLETED,
    Status.STALLED,
    Status.CANCELLED,
    Status.PARTIALLY_COMPLETED,
]

# Day dates on a month's last and first days too: the edges of "after its due period".
DUE_DATES = ["2024-02", "2025", "2024-06-15", "2023-12-31", "2024-04-30", "2024-08-01", "2024"]


def random_agreement(
    session: Session, rng: random.Random, theme_slug: str
) -> tuple[Agreement, list[Commitment]]:
    agreement = make_agreement(session)
    commitments: list[Commitment] = []
    for _ in range(rng.randint(3, 9)):
        parent = rng.choice([None, *commitments]) if commitments else None
        commitments.append(
            make_commitment(
                session,
                agreement,
                parent_id=parent.id if parent else None,
                weight=rng.choice([1.0, 1.0, 2.0, 0.5, 0.0]),
                themes=[theme_slug] if rng.random() < 0.4 else [],
                due_date=PartialDate.parse(rng.choice(DUE_DATES)) if rng.random() < 0.6 else None,
            )
        )
    for commitment in commitments:
        previous = None
        for _ in range(rng.randint(0, 4)):
            status = rng.choice(STATUSES)
            month = rng.randint(1, 12)
            assessment = make_assessment(
                session,
                commitment,
                status=status,
                as_of=f"2024-{month:02d}-{rng.randint(1, 28):02d}",
                progress_pct=float(rng.randint(0, 100))
                if status is Status.PARTIALLY_COMPLETED
                else None,
                supersedes_id=previous.id if previous is not None and rng.random() < 0.2 else None,
            )
            previous = assessment
    return agreement, commitments


def expected_point(
    session: Session, commitments: list[Commitment], in_scope: set[int], when: date
) -> tuple[float | None, Counter[Status], int]:
    """Progress, counts by status and the number overdue on `when`, by the Python rules."""
    facts = assessment_facts(session, [c.id for c in commitments])
    states = {c.id: state_from_assessments(facts.get(c.id, []), when) for c in commitments}
    nodes = [TreeNode(c.id, c.parent_id, c.weight, states[c.id].progress) for c in commitments]
    rolled = roll_up(nodes)
    parents = {c.id: c.parent_id for c in commitments}
    top = [node for node in nodes if node.id in in_scope and parents[node.id] not in in_scope]
    progress = weighted_mean((rolled[node.id], node.weight) for node in top)
    due_by = {c.id: c.due_by for c in commitments}
    overdue = sum(
        1
        for c_id in in_scope
        if (due := due_by[c_id]) is not None
        and due < when
        and states[c_id].status not in TERMINAL_STATUSES
    )
    return progress, Counter(states[c_id].status for c_id in in_scope), overdue


@pytest.mark.parametrize("rebuilt", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_sql_series_follows_the_python_rules_month_by_month(
    session: Session, seed: int, rebuilt: bool
) -> None:
    """A scope of several agreements (the theme's spans both), from the monthly rows as the
    writes kept them and as a rebuild writes them."""
    rng = random.Random(seed)
    theme = make_theme(session)
    built = [random_agreement(session, rng, theme.slug) for _ in range(2)]
    if rebuilt:
        rebuild_months(session, [agreement.id for agreement, _ in built])
    everything = [c for _agreement, commitments in built for c in commitments]
    scopes = {
        Scope(agreement=str(built[0][0].id)): {c.id for c in built[0][1]},
        Scope(theme=theme.slug): {c.id for c in everything if theme.slug in c.theme_slugs},
    }
    for scope, in_scope in scopes.items():
        series = progress_over_time(session, scope, first=date(2023, 12, 1), last=date(2024, 12, 1))
        for point, month in zip(
            series["points"], month_range(date(2023, 12, 1), date(2024, 12, 1)), strict=True
        ):
            month_end = date(month.year + month.month // 12, month.month % 12 + 1, 1)
            from datetime import timedelta

            progress, counts, overdue = expected_point(
                session, everything, in_scope, month_end - timedelta(days=1)
            )
            assert point["progress"] == (None if progress is None else round(progress, 2)), (
                scope,
                point["month"],
            )
            assert {
                item["status"]: item["count"] for item in point["by_status"] if item["count"]
            } == dict(counts)
            assert (point["total"], point["overdue"]) == (len(in_scope), overdue), (
                scope,
                point["month"],
            )
            assert point["as_of"] == month_end - timedelta(days=1)


def test_the_summary_follows_the_current_values(session: Session) -> None:
    rng = random.Random(7)
    theme = make_theme(session)
    agreement, commitments = random_agreement(session, rng, theme.slug)
    session.refresh(agreement)
    result = summary(session, Scope(agreement=str(agreement.id)), today=date(2024, 7, 1))
    assert result["progress"] == (
        None if agreement.progress is None else round(agreement.progress, 2)
    )
    for commitment in commitments:
        session.refresh(commitment)
    counts = Counter(c.current_status for c in commitments)
    assert {item["status"]: item["count"] for item in result["by_status"] if item["count"]} == dict(
        counts
    )
    overdue = [
        c
        for c in commitments
        if c.due_by
        and c.due_by < date(2024, 7, 1)
        and c.current_status
        not in (Status.COMPLETED, Status.NOT_FULFILLED, Status.SUPERSEDED, Status.CANCELLED)
    ]
    assert result["overdue"] == len(overdue)
    assert result["total"] == len(commitments)


def test_a_month_due_date_is_overdue_only_after_the_month(session: Session) -> None:
    agreement = make_agreement(session)
    make_commitment(session, agreement, due_date=PartialDate.parse("2024-06"))
    scope = Scope(agreement=str(agreement.id))
    assert summary(session, scope, today=date(2024, 6, 30))["overdue"] == 0
    assert summary(session, scope, today=date(2024, 7, 1))["overdue"] == 1


def test_stats_through_http(client: FlaskClient, session: Session) -> None:
    agreement = make_agreement(session)
    commitment = make_commitment(session, agreement)
    make_assessment(session, commitment, status=Status.ADVANCED, as_of="2024-03-04")
    body = client.get("/api/v1/stats/summary", query_string={"agreement": agreement.slug}).json
    assert body["progress"] == 60 and body["total"] == 1
    assert [item["status"] for item in body["by_status"]] == [status.value for status in Status]
    series = client.get(
        "/api/v1/stats/progress",
        query_string={"agreement": agreement.slug, "from": "2024-02", "to": "2024-04"},
    ).json
    assert [(p["month"], p["progress"]) for p in series["points"]] == [
        ("2024-02", None),
        ("2024-03", 60),
        ("2024-04", 60),
    ]
    assert client.get(
        "/api/v1/stats/progress", query_string={"from": "2024-05", "to": "2024-04"}
    ).json["errors"] == {"from": ["Must not be after `to`."]}
    # Each month is valid alone; together they ask too much: a 422 naming the field.
    too_long = client.get(
        "/api/v1/stats/progress", query_string={"from": "2000-01", "to": "2024-04"}
    )
    assert too_long.status_code == 422
    assert too_long.json["errors"] == {"from": ["A series covers at most 120 months."]}
    assert client.get("/api/v1/stats/progress", query_string={"from": "2024-13"}).status_code == 400


def test_the_overdue_filter_lists_what_the_summary_counts(
    client: FlaskClient, session: Session
) -> None:
    agreement = make_agreement(session)
    late = make_commitment(session, agreement, due_date=PartialDate.parse("2020-01"))
    done = make_commitment(session, agreement, due_date=PartialDate.parse("2020-01"))
    make_assessment(session, done, status=Status.COMPLETED, as_of="2020-01-15")
    undated = make_commitment(session, agreement)
    url = f"/api/v1/agreements/{agreement.id}/commitments"
    assert [c["id"] for c in client.get(url, query_string={"overdue": "true"}).json["items"]] == [
        late.id
    ]
    assert [c["id"] for c in client.get(url, query_string={"overdue": "false"}).json["items"]] == [
        done.id,
        undated.id,
    ]
    assert (
        client.get("/api/v1/stats/summary", query_string={"agreement": agreement.id}).json[
            "overdue"
        ]
        == 1
    )
