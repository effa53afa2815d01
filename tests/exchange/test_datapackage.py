"""The evidence in bulk: exports of assessments, sources and citations, and the Frictionless
Data Package descriptor served beside the exports, validated with the `frictionless` library
against every export as the service writes it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import frictionless
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from service.seeding.loader import load_seeds
from tests.builders import make_assessment, make_commitment, make_meeting, make_source
from tests.helpers import SEEDS


def _package(client: FlaskClient, folder: Path) -> Path:
    """The descriptor and every file it names, downloaded as a user would, into `folder`."""
    descriptor = client.get("/api/v1/exports/datapackage.json")
    assert descriptor.status_code == 200, descriptor.json
    (folder / "datapackage.json").write_bytes(descriptor.data)
    for resource in descriptor.json["resources"]:
        answer = client.get(f"/api/v1/exports/{resource['path']}")
        assert answer.status_code == 200, resource["path"]
        (folder / resource["path"]).write_bytes(answer.data)
    return folder / "datapackage.json"


def _errors(report: frictionless.Report) -> list[str]:
    return [error.message for task in report.tasks for error in task.errors] + [
        error.message for error in report.errors
    ]


def test_the_package_and_every_export_are_valid_frictionless_data(
    client: FlaskClient, session: Session, tmp_path: Path
) -> None:
    session.info["actor"] = "seed"
    load_seeds(session, SEEDS)
    commitment = make_commitment(session, title="=cmd|' /C calc'!A0")  # a formula, neutralized
    sources = [make_source(session, title="Title; with a separator"), make_source(session)]
    make_assessment(
        session,
        commitment,
        as_of="2025-05",
        source_ids=[source.id for source in sources],
        meeting_id=make_meeting(session).id,
    )
    session.commit()
    indicator = client.post(
        f"/api/v1/commitments/{commitment.id}/indicators",
        json={
            "title": "Officers trained",
            "measure": "unit",
            "baseline_value": 0,
            "baseline_date": "2024",
            "baseline_source_ids": [sources[0].id],
            "periods": [
                {
                    "end_date": "2026",
                    "target_value": 40,
                    "target_as_of": "2024-01-26",
                    "target_source_ids": [sources[0].id],
                    "actual_value": 10,
                    "actual_as_of": "2025-03",
                    "actual_source_ids": [sources[1].id],
                },
                {"end_date": "2027"},
            ],
        },
    )
    assert indicator.status_code == 201, indicator.json

    path = _package(client, tmp_path)
    report = frictionless.validate(str(path))
    assert report.valid, _errors(report)
    names = [resource["name"] for resource in json.loads(path.read_text())["resources"]]
    assert names == [
        "agreements",
        "commitments",
        "assessments",
        "indicators",
        "indicator_periods",
        "sources",
        "citations",
    ]
    # Each file has the rows the package reads: the seed's citations among them.
    package = frictionless.Package(str(path))
    rows = {
        resource.name: resource.read_rows()  # type: ignore[attr-defined]
        for resource in package.resources
    }
    assert all(rows[name] for name in names), {name: len(rows[name]) for name in names}
    [ours] = [row for row in rows["assessments"] if row["commitment_id"] == commitment.id]
    assert ours["source_ids"] == ";".join(str(source.id) for source in sources)
    assert ours["as_of"] == "2025-05" and ours["status"] == "initiated"
    [officers] = rows["indicators"]
    assert (officers["progress"], officers["agreement"]) == (25, ours["agreement"])
    assert [(p["period"], p["actual_value"]) for p in rows["indicator_periods"]] == [
        (1, 10),
        (2, None),
    ]


def test_a_file_that_breaks_its_table_schema_is_found_invalid(
    client: FlaskClient, session: Session, tmp_path: Path
) -> None:
    make_assessment(session, make_commitment(session), source_ids=[make_source(session).id])
    session.commit()
    path = _package(client, tmp_path)
    assessments = tmp_path / "assessments.csv"
    text = assessments.read_text(encoding="utf-8")
    assessments.write_text(text.replace(",initiated,", ",begun,"), encoding="utf-8")
    report = frictionless.validate(str(path))
    assert not report.valid
    assert any("begun" in message for message in _errors(report)), _errors(report)


def test_the_evidence_exports_take_their_lists_filters(
    client: FlaskClient, session: Session
) -> None:
    reviewed, other = make_meeting(session), make_meeting(session)
    commitment = make_commitment(session)
    cited = make_source(session, title="Joint statement", publisher="MEA")
    make_assessment(session, commitment, meeting_id=reviewed.id, source_ids=[cited.id])
    make_assessment(session, commitment, meeting_id=other.id, source_ids=[cited.id])
    session.commit()

    def rows(path: str, **query: Any) -> list[dict[str, str]]:
        answer = client.get(path, query_string=query)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))

    [row] = rows("/api/v1/exports/assessments.csv", meeting=reviewed.id)
    assert (row["meeting_id"], row["source_titles"]) == (str(reviewed.id), "Joint statement")
    lines = client.get(
        "/api/v1/exports/assessments.jsonl", query_string={"commitment": commitment.id}
    ).get_data(as_text=True)
    items = [json.loads(line) for line in lines.splitlines()]
    assert [item["source_titles"] for item in items] == [["Joint statement"]] * 2
    assert [item["source_ids"] for item in items] == [[cited.id]] * 2
    assert [r["title"] for r in rows("/api/v1/exports/sources.csv", publisher="MEA")] == [
        "Joint statement"
    ]
    missing = client.get("/api/v1/exports/assessments.csv", query_string={"meeting": 999999})
    assert missing.status_code == 422
    assert client.get("/api/v1/exports/citations.csv", query_string={"nope": 1}).status_code == 400
