"""The bulk import of indicators from JSON lines (service/exchange/indicator_imports.py):
keyed on external_id, every line checked by the API's rules, all lines or none."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.exchange.csv_files import ImportRefused
from service.exchange.indicator_imports import import_indicators
from service.indicators.models import Indicator
from tests.builders import make_commitment, make_source
from tests.jobs.running import imported


@pytest.fixture
def world(session: Session) -> dict[str, Any]:
    return {
        "first": make_commitment(session, external_id="loi-1"),
        "second": make_commitment(session),
        "source": make_source(session).id,
    }


def _line(world: dict[str, Any], key: str, **fields: Any) -> dict[str, Any]:
    source = world["source"]
    return {
        "external_id": key,
        "title": f"Indicator {key}",
        "measure": "unit",
        "baseline_value": 0,
        "baseline_date": "2024",
        "baseline_source_ids": [source],
        "periods": [
            {
                "end_date": "2026",
                "target_value": 40,
                "target_as_of": "2024-01-26",
                "target_source_ids": [source],
                "actual_value": 10,
                "actual_as_of": "2025-03",
                "actual_source_ids": [source],
            }
        ],
        **fields,
    }


def _file(*lines: Any) -> bytes:
    return "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines).encode()


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Indicator)) or 0


def test_lines_create_then_update_by_external_id(session: Session, world: dict[str, Any]) -> None:
    body = _file(
        _line(world, "officers", commitment_external_id="loi-1"),
        "",
        _line(world, "exchanges", commitment_id=world["second"].id, description="Visits"),
    )
    report = import_indicators(session, body, dry_run=False)
    assert (report.rows, report.created, report.updated, report.unchanged) == (2, 2, 0, 0)
    again = import_indicators(session, body, dry_run=False)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    # A line states its indicator whole: what it leaves out is cleared.
    changed = _file(
        _line(world, "officers", commitment_external_id="loi-1", title="Officers trained"),
        _line(world, "exchanges", commitment_id=world["second"].id),
    )
    later = import_indicators(session, changed, dry_run=False)
    assert (later.created, later.updated, later.unchanged) == (0, 2, 0)
    session.expire_all()
    rows = session.scalars(select(Indicator).order_by(Indicator.id)).all()
    assert [(i.title, i.description) for i in rows] == [
        ("Officers trained", None),
        ("Indicator exchanges", None),
    ]
    assert [len(i.periods) for i in rows] == [1, 1]


def test_every_wrong_line_is_named_and_nothing_is_written(
    session: Session, world: dict[str, Any]
) -> None:
    unsourced = _line(world, "b", commitment_id=world["first"].id)
    unsourced["periods"][0]["actual_source_ids"] = []
    body = _file(
        _line(world, "a", commitment_id=world["first"].id),
        "{not json",
        unsourced,
        _line(world, "c", commitment_external_id="no-such"),
        _line(world, "d", commitment_id=world["first"].id, colour="blue"),
        _line(world, "a", commitment_id=world["first"].id),
        [1, 2],
        {"title": "No commitment", "measure": "unit"},
    )
    with pytest.raises(ImportRefused) as refused:
        import_indicators(session, body, dry_run=False)
    found = {(e.row, e.column) for e in refused.value.report.errors}
    assert found >= {(2, "_row"), (5, "colour"), (7, "_row"), (8, "commitment_id")}, found
    assert _count(session) == 0
    # Once the lines that do not parse are gone, the rules of each indicator are checked.
    body = _file(
        _line(world, "a", commitment_id=world["first"].id),
        unsourced,
        _line(world, "c", commitment_external_id="no-such"),
        _line(world, "a", commitment_id=world["first"].id),
    )
    with pytest.raises(ImportRefused) as refused:
        import_indicators(session, body, dry_run=False)
    found = {(e.row, e.column) for e in refused.value.report.errors}
    assert found == {
        (2, "periods.0.actual_source_ids"),
        (3, "commitment_external_id"),
        (4, "external_id"),
    }, found
    assert _count(session) == 0


def test_a_dry_run_writes_nothing(session: Session, world: dict[str, Any]) -> None:
    report = import_indicators(
        session, _file(_line(world, "a", commitment_id=world["first"].id)), dry_run=True
    )
    assert report.created == 1 and _count(session) == 0


def test_the_api_and_the_command_line_import_json_lines(
    client: FlaskClient, session: Session, world: dict[str, Any], tmp_path: Path
) -> None:
    session.commit()
    body = _file(_line(world, "api", commitment_id=world["first"].id))
    job = imported(client, "indicators", body, content_type="application/x-ndjson")
    assert (job["state"], job["kind"], job["result"]["created"]) == (
        "succeeded",
        "import_indicators",
        1,
    )
    assert job["rows_total"] == 1
    listed = client.get(f"/api/v1/commitments/{world['first'].id}/indicators").json["items"]
    assert [(i["external_id"], i["progress"]) for i in listed] == [("api", 25.0)]
    path = tmp_path / "indicators.jsonl"
    path.write_bytes(_file(_line(world, "cli", commitment_id=world["second"].id)))
    runner = client.application.test_cli_runner()
    result = runner.invoke(args=["import-indicators", str(path), "--dry-run"])
    assert result.exit_code == 0 and "1 would be created" in result.output, result.output
    result = runner.invoke(args=["import-indicators", str(path)])
    assert result.exit_code == 0 and "1 were created" in result.output, result.output
