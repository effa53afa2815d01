"""A commitment whose indicators drive its progress (`progress_from_indicators`, off by
default): its own progress is the mean of its indicators' where known, in place of what its
assessments' statuses give; its status stays its assessments'. The roll-up, the as-of reads,
the statistics and the series follow, after every write to the flag or to the indicators."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from service.core.vocabularies import ImplementationStatus as Status
from service.progress.month_rows import rebuild_months
from service.progress.tallies import rebuild_tallies
from tests.builders import make_agreement, make_assessment, make_commitment, make_source
from tests.jobs.running import imported
from tests.progress.test_months import assert_same_rows, kept_rows
from tests.progress.test_tallies import kept_rows as kept_tallies


@pytest.fixture
def tree(session: Session) -> dict[str, Any]:
    """An agreement with two commitments of equal weight: `driven`, assessed initiated (25)
    in 2024-03, and `other`, assessed advanced (60)."""
    agreement = make_agreement(session)
    driven = make_commitment(session, agreement, title="Joint training of officers")
    other = make_commitment(session, agreement, title="Exchange of space situational data")
    source = make_source(session)
    make_assessment(session, driven, status=Status.INITIATED, as_of="2024-03-04")
    make_assessment(session, other, status=Status.ADVANCED, as_of="2024-03-04")
    session.commit()
    return {
        "agreement": agreement.slug,
        "driven": f"/api/v1/commitments/{driven.id}",
        "other": f"/api/v1/commitments/{other.id}",
        "source": source.id,
        "ids": [driven.id, other.id],
        "agreement_id": agreement.id,
    }


def _indicator(source: int, target: float, actuals: list[tuple[float, str]]) -> dict[str, Any]:
    """Higher is better from a baseline of 0, a period a year for each actual."""
    return {
        "title": "Officers trained",
        "measure": "unit",
        "baseline_value": 0,
        "baseline_date": "2024-01",
        "baseline_source_ids": [source],
        "periods": [
            {
                "end_date": as_of[:4],
                "target_value": target,
                "target_as_of": "2024-01-26",
                "target_source_ids": [source],
                "actual_value": actual,
                "actual_as_of": as_of,
                "actual_source_ids": [source],
            }
            for actual, as_of in actuals
        ],
    }


def _progress(client: FlaskClient, path: str, **query: str) -> tuple[str, float | None]:
    answer = client.get(path, query_string=query)
    assert answer.status_code == 200, answer.json
    return answer.json["current_status"], answer.json["current_progress"]


def _agreement_progress(client: FlaskClient, tree: dict[str, Any]) -> float | None:
    progress: float | None = client.get(f"/api/v1/agreements/{tree['agreement']}").json["progress"]
    return progress


def test_indicators_drive_a_commitments_progress_only_when_it_says_so(
    client: FlaskClient, session: Session, tree: dict[str, Any]
) -> None:
    source, driven = tree["source"], tree["driven"]
    created = client.post(f"{driven}/indicators", json=_indicator(source, 40, [(30, "2025-06-30")]))
    assert created.status_code == 201, created.json
    assert created.json["progress"] == 75.0
    # Off by default: the assessments' status gives the progress.
    assert client.get(driven).json["progress_from_indicators"] is False
    assert _progress(client, driven) == ("initiated", 25.0)
    assert _agreement_progress(client, tree) == pytest.approx((25 + 60) / 2)

    turned = client.patch(driven, json={"progress_from_indicators": True})
    assert turned.status_code == 200, turned.json
    assert (turned.json["current_status"], turned.json["current_progress"]) == ("initiated", 75.0)
    assert _agreement_progress(client, tree) == pytest.approx((75 + 60) / 2)

    # A second indicator: the mean of the two, each counting once.
    second = client.post(
        f"{driven}/indicators", json=_indicator(source, 10, [(2, "2024-09"), (5, "2025-09")])
    )
    assert second.status_code == 201 and second.json["progress"] == 50.0
    assert _progress(client, driven) == ("initiated", 62.5)
    # Its actual changes: the commitment and the agreement move with it.
    moved = client.patch(
        second.headers["Location"],
        json={"periods": _indicator(source, 10, [(2, "2024-09"), (10, "2025-09")])["periods"]},
    )
    assert moved.status_code == 200 and moved.json["progress"] == 100.0
    assert _progress(client, driven) == ("initiated", 87.5)
    assert _agreement_progress(client, tree) == pytest.approx((87.5 + 60) / 2)

    # As of a date, the indicators as they stood: the first's actual not yet known, the
    # second's 2024 one (20); before any actual, the assessments' progress.
    assert _progress(client, driven, as_of="2025-01-01") == ("initiated", 20.0)
    assert _progress(client, driven, as_of="2024-06-01") == ("initiated", 25.0)
    listed = client.get(
        f"/api/v1/agreements/{tree['agreement']}/commitments", query_string={"as_of": "2025-01-01"}
    ).json["items"]
    assert [item["current_progress"] for item in listed] == [20.0, 60.0]

    # The series: month by month, as the indicators' actuals came in.
    series = client.get(
        "/api/v1/stats/progress",
        query_string={"agreement": tree["agreement"], "from": "2024-08", "to": "2025-10"},
        headers={"Cache-Control": "no-cache"},
    ).json["points"]
    by_month = {point["month"]: point["progress"] for point in series}
    assert by_month["2024-08"] == pytest.approx((25 + 60) / 2)
    assert by_month["2024-09"] == pytest.approx((20 + 60) / 2)
    assert by_month["2025-06"] == pytest.approx(((75 + 20) / 2 + 60) / 2)
    assert by_month["2025-09"] == pytest.approx((87.5 + 60) / 2)
    summary = client.get(
        "/api/v1/stats/summary",
        query_string={"agreement": tree["agreement"]},
        headers={"Cache-Control": "no-cache"},
    ).json
    assert summary["progress"] == pytest.approx((87.5 + 60) / 2, abs=0.01)

    # What upkeep kept is what a rebuild from the history and the indicators writes.
    months, tallies = kept_rows(session), kept_tallies(session)
    rebuild_months(session, [tree["agreement_id"]])
    rebuild_tallies(session, [tree["agreement_id"]])
    assert_same_rows(kept_rows(session), months, "rebuilt")
    assert kept_tallies(session) == tallies

    # The change feed says why the commitment's progress moved.
    events = client.get(
        "/api/v1/changes",
        query_string={"entity": "commitment", "entity_id": tree["ids"][0]},
    ).json["items"]
    assert events[-1]["changes"]["current_progress"] == [62.5, 87.5]

    # Deleting the indicators, then turning the flag off: back to the assessments'.
    client.delete(second.headers["Location"])
    assert _progress(client, driven) == ("initiated", 75.0)
    client.delete(created.headers["Location"])
    assert _progress(client, driven) == ("initiated", 25.0)
    client.post(f"{driven}/indicators", json=_indicator(source, 40, [(40, "2025-06-30")]))
    assert _progress(client, driven) == ("initiated", 100.0)
    assert client.patch(driven, json={"progress_from_indicators": False}).status_code == 200
    assert _progress(client, driven) == ("initiated", 25.0)
    assert _agreement_progress(client, tree) == pytest.approx((25 + 60) / 2)


def test_a_commitment_that_no_longer_stands_takes_no_progress_from_its_indicators(
    client: FlaskClient, session: Session, tree: dict[str, Any]
) -> None:
    source, driven = tree["source"], tree["driven"]
    client.patch(driven, json={"progress_from_indicators": True})
    client.post(f"{driven}/indicators", json=_indicator(source, 40, [(20, "2025-06-30")]))
    assert _progress(client, driven) == ("initiated", 50.0)
    cancelled = client.post(
        f"{driven}/assessments",
        json={
            "status": "cancelled",
            "as_of": "2025-08",
            "assessor_kind": "official",
            "source_ids": [source],
        },
    )
    assert cancelled.status_code == 201, cancelled.json
    assert _progress(client, driven) == ("cancelled", None)
    assert _progress(client, driven, as_of="2025-07-01") == ("initiated", 50.0)
    assert _agreement_progress(client, tree) == 60.0


def test_a_commitment_with_no_assessment_takes_its_indicators_progress(
    client: FlaskClient, session: Session
) -> None:
    agreement = make_agreement(session)
    parent = make_commitment(session, agreement, title="Capacity building")
    child = make_commitment(session, agreement, parent_id=parent.id, progress_from_indicators=True)
    source = make_source(session).id
    session.commit()
    path = f"/api/v1/commitments/{child.id}"
    assert client.get(path).json["progress_from_indicators"] is True
    client.post(f"{path}/indicators", json=_indicator(source, 8, [(2, "2025-02-10")]))
    assert _progress(client, path) == ("not_assessed", 25.0)
    # Its parent rolls it up.
    assert _progress(client, f"/api/v1/commitments/{parent.id}") == ("not_assessed", 25.0)
    assert client.get(f"/api/v1/agreements/{agreement.slug}").json["progress"] == 25.0


def test_the_indicators_import_moves_the_progress_they_drive(
    client: FlaskClient, tree: dict[str, Any]
) -> None:
    client.patch(tree["driven"], json={"progress_from_indicators": True})
    line = {"commitment_id": tree["ids"][0], "external_id": "officers-trained"}
    line |= _indicator(tree["source"], 40, [(10, "2025-06-30")])
    job = imported(client, "indicators", json.dumps(line), content_type="application/x-ndjson")
    assert job["state"] == "succeeded", job
    assert _progress(client, tree["driven"]) == ("initiated", 25.0)  # 10 of 40
    line["periods"][0]["actual_value"] = 30
    job = imported(client, "indicators", json.dumps(line), content_type="application/x-ndjson")
    assert job["result"]["updated"] == 1, job
    assert _progress(client, tree["driven"]) == ("initiated", 75.0)
