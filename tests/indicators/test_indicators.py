"""A commitment's indicators (IATI's result indicators): every value dated and sourced, and
progress from baseline, target and actual, today or as of a date."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from service.core.vocabularies import IndicatorMeasure
from service.progress.indicators import period_progress
from tests.builders import make_commitment, make_source
from tests.helpers import problem_errors


@pytest.fixture
def place(session: Session) -> dict[str, Any]:
    commitment = make_commitment(session, title="Training of officers")
    source = make_source(session)
    session.commit()
    return {"path": f"/api/v1/commitments/{commitment.id}/indicators", "source": source.id}


def _period(
    source: int, end: str, target: float, actual: float | None, as_of: str
) -> dict[str, Any]:
    period: dict[str, Any] = {
        "end_date": end,
        "target_value": target,
        "target_as_of": "2024-01-26",
        "target_source_ids": [source],
    }
    if actual is not None:
        period |= {"actual_value": actual, "actual_as_of": as_of, "actual_source_ids": [source]}
    return period


def _indicator(source: int, **fields: Any) -> dict[str, Any]:
    return {
        "title": "Officers trained in space situational awareness",
        "measure": "unit",
        "unit_label": "officers",
        "baseline_value": 0,
        "baseline_date": "2024-01",
        "baseline_source_ids": [source],
        **fields,
    }


def test_progress_is_the_latest_actuals_share_of_the_way_to_its_target(
    client: FlaskClient, place: dict[str, Any]
) -> None:
    source = place["source"]
    body = _indicator(
        source,
        periods=[
            _period(source, "2024", 20, 10, "2024-12"),
            _period(source, "2025", 40, 30, "2025-11-30"),
            _period(source, "2026", 60, None, ""),
        ],
    )
    created = client.post(place["path"], json=body)
    assert created.status_code == 201, created.json
    assert created.json["progress"] == 75.0
    assert [period["progress"] for period in created.json["periods"]] == [50.0, 75.0, None]
    location = created.headers["Location"]

    # As of a date, the actuals dated after it were not yet known.
    then = client.get(location, query_string={"as_of": "2025-06-01"}).json
    assert (then["progress"], then["as_of"]) == (50.0, "2025-06-01")
    assert then["periods"][1]["actual_value"] is None and then["periods"][1]["progress"] is None
    before = client.get(location, query_string={"as_of": "2024-06-01"}).json
    assert before["progress"] is None
    listed = client.get(place["path"], query_string={"as_of": "2025-06-01"}).json["items"]
    assert [item["progress"] for item in listed] == [50.0]
    commitment_id = created.json["commitment_id"]
    everywhere = client.get(
        "/api/v1/indicators", query_string={"commitment": commitment_id, "as_of": "2025-06-01"}
    )
    assert everywhere.json["items"] == listed
    assert (
        client.get("/api/v1/indicators", query_string={"agreement": "no-such"}).status_code == 422
    )
    periods = client.get(
        "/api/v1/exports/indicator_periods.csv", query_string={"commitment": commitment_id}
    ).get_data(as_text=True)
    assert periods.splitlines()[0].startswith("indicator_id,period,start_date,end_date")
    assert len(periods.splitlines()) == 4  # the header and three periods
    for fmt in ("csv", "jsonl"):
        early = client.get(
            f"/api/v1/exports/indicator_periods.{fmt}",
            query_string={"commitment": commitment_id, "as_of": "2025-06-01"},
        )
        assert early.status_code == 200
        text = early.get_data(as_text=True)  # streamed: read to its end
        assert text.count("2025-11-30") == 0 and "2024-12" in text, text


def test_lower_is_better_and_progress_stays_within_0_and_100(
    client: FlaskClient, place: dict[str, Any]
) -> None:
    source = place["source"]

    def progress(actual: float) -> float:
        body = _indicator(
            source,
            title="Debris-generating incidents",
            ascending=False,
            baseline_value=100,
            periods=[_period(source, "2026", 40, actual, "2025")],
        )
        answer = client.post(place["path"], json=body)
        assert answer.status_code == 201, answer.json
        return float(answer.json["progress"])

    assert progress(70) == 50.0
    assert progress(30) == 100.0  # better than the target: done
    assert progress(120) == 0.0  # worse than the baseline: none


def test_every_value_is_dated_and_cites_a_source_that_exists(
    client: FlaskClient, place: dict[str, Any]
) -> None:
    source = place["source"]
    undated = _indicator(source, periods=[_period(source, "2026", 40, 5, "")])
    undated["periods"][0].pop("actual_as_of")
    assert "periods.0.actual_as_of" in problem_errors(client.post(place["path"], json=undated), 422)
    unsourced = _indicator(source, periods=[_period(source, "2026", 40, 5, "2025")])
    unsourced["periods"][0]["actual_source_ids"] = []
    errors = problem_errors(client.post(place["path"], json=unsourced), 422)
    assert "periods.0.actual_source_ids" in errors
    assert "baseline_source_ids" in problem_errors(
        client.post(place["path"], json=_indicator(source, baseline_source_ids=[])), 422
    )
    missing = _indicator(source, periods=[_period(999_999, "2026", 40, 5, "2025")])
    errors = problem_errors(client.post(place["path"], json=missing), 422)
    assert {"periods.0.target_source_ids", "periods.0.actual_source_ids"} <= set(errors)
    assert client.get(place["path"]).json["items"] == []  # nothing half-written


def test_the_measure_and_direction_rules(client: FlaskClient, place: dict[str, Any]) -> None:
    source = place["source"]
    percent = _indicator(
        source, measure="percentage", periods=[_period(source, "2026", 100, 120, "2025")]
    )
    assert "periods.0.actual_value" in problem_errors(client.post(place["path"], json=percent), 422)
    backwards = _indicator(
        source, baseline_value=50, periods=[_period(source, "2026", 40, None, "")]
    )
    assert "periods.0.target_value" in problem_errors(
        client.post(place["path"], json=backwards), 422
    )
    words = _indicator(
        source,
        measure="qualitative",
        baseline_value=None,
        baseline_comment="No joint training existed.",
        periods=[
            {
                "target_comment": "A joint course each year",
                "target_as_of": "2024-01-26",
                "target_source_ids": [source],
                "actual_comment": "The first course was held in Toulouse.",
                "actual_as_of": "2025-03",
                "actual_source_ids": [source],
            }
        ],
    )
    answer = client.post(place["path"], json=words)
    assert answer.status_code == 201, answer.json
    assert answer.json["progress"] is None
    numbers = dict(words, baseline_value=3)
    assert "baseline_value" in problem_errors(client.post(place["path"], json=numbers), 422)


def test_periods_are_replaced_whole_and_the_change_is_recorded(
    client: FlaskClient, place: dict[str, Any]
) -> None:
    source = place["source"]
    body = _indicator(source, periods=[_period(source, "2026", 40, 10, "2025")])
    location = client.post(place["path"], json=body).headers["Location"]
    renamed = client.patch(location, json={"title": "Officers trained"})
    assert renamed.status_code == 200 and len(renamed.json["periods"]) == 1
    new_periods = [
        _period(source, "2026", 40, 20, "2025-06"),
        _period(source, "2027", 60, None, ""),
    ]
    answer = client.patch(location, json={"periods": new_periods})
    assert answer.status_code == 200, answer.json
    assert [p["actual_value"] for p in answer.json["periods"]] == [20.0, None]
    assert answer.json["progress"] == 50.0
    indicator_id = answer.json["id"]
    feed = client.get(
        "/api/v1/changes", query_string={"entity": "indicator", "entity_id": indicator_id}
    ).json["items"]
    assert [event["op"] for event in feed] == ["create", "update", "update"]
    old, new = feed[2]["changes"]["periods"]
    assert (old[0]["actual_value"], new[0]["actual_value"]) == (10, 20)


def test_an_indicator_goes_with_its_commitment(
    client: FlaskClient, session: Session, place: dict[str, Any]
) -> None:
    source = place["source"]
    location = client.post(place["path"], json=_indicator(source)).headers["Location"]
    commitment_path = place["path"].removesuffix("/indicators")
    assert client.delete(commitment_path).status_code == 204
    assert client.get(location).status_code == 404
    assert client.get(place["path"]).status_code == 404


@pytest.mark.parametrize(
    ("ascending", "baseline", "target", "actual", "expected"),
    [
        (True, 0, 40, 10, 25.0),
        (True, None, 40, 10, 25.0),  # no baseline: from 0
        (False, None, 40, 10, None),  # lower is better, no baseline: cannot be placed
        (True, 40, 40, 40, 100.0),  # target equals baseline: reached or not
        (True, 40, 40, 39, 0.0),
        (False, 40, 40, 39, 100.0),
        (True, 0, 40, None, None),
        (True, 0, None, 10, None),
    ],
)
def test_period_progress(
    ascending: bool,
    baseline: float | None,
    target: float | None,
    actual: float | None,
    expected: float | None,
) -> None:
    assert period_progress(IndicatorMeasure.UNIT, ascending, baseline, target, actual) == expected
    assert (
        period_progress(IndicatorMeasure.QUALITATIVE, ascending, baseline, target, actual) is None
    )


def test_a_track_compares_progress_with_the_time_gone(
    client: FlaskClient, session: Session, place: dict[str, Any]
) -> None:
    """A period from 2025-01-01 to 2026-12-31, half gone by 2026-01-01: an actual then at 60 %
    of the way is on track, at 40 % off track; at the target, met. The statistics count the
    scope's indicators by track."""
    source = place["source"]

    def indicator(actual: float | None, **fields: Any) -> str:
        period = _period(source, "2026", 100, actual, "2026-01-01") | {"start_date": "2025"}
        answer = client.post(place["path"], json=_indicator(source, periods=[period], **fields))
        assert answer.status_code == 201, answer.json
        return str(answer.json["track"])

    assert indicator(60) == "on_track"
    assert indicator(40) == "off_track"
    assert indicator(100) == "met"
    assert indicator(None) == "unknown"
    commitment = client.get(place["path"]).json["items"][0]["commitment_id"]
    agreement = client.get(f"/api/v1/commitments/{commitment}").json["agreement_id"]
    stats = client.get("/api/v1/stats/summary", query_string={"agreement": agreement}).json
    assert stats["indicators"] == {
        "total": 4,
        "by_track": [
            {"track": "met", "count": 1},
            {"track": "on_track", "count": 1},
            {"track": "off_track", "count": 1},
            {"track": "unknown", "count": 1},
        ],
    }


def test_a_change_is_checked_against_what_the_indicator_keeps(
    client: FlaskClient, session: Session, place: dict[str, Any]
) -> None:
    """Turning an indicator to lower-is-better, or to a percentage, is refused where the
    targets and values it keeps would break the rule; a change that touches no value does
    not check the evidence again (a source deleted since does not block a new title)."""
    source = place["source"]
    body = _indicator(
        source, baseline_value=10, periods=[_period(source, "2026", 140, 120, "2025")]
    )
    location = client.post(place["path"], json=body).headers["Location"]
    assert "periods.0.target_value" in problem_errors(
        client.patch(location, json={"ascending": False}), 422
    )
    assert "periods.0.actual_value" in problem_errors(
        client.patch(location, json={"measure": "percentage"}), 422
    )
    assert client.delete(f"/api/v1/sources/{source}").status_code == 204
    renamed = client.patch(location, json={"title": "Officers trained, all services"})
    assert renamed.status_code == 200, renamed.json
