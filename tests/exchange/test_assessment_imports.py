"""The bulk path for assessments: a CSV appended in one transaction, with the same result as
the same assessments posted one by one, or nothing written at all."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from service.agreements.models import Agreement
from service.assessments.models import StatusAssessment
from service.changes.models import ChangeEvent
from service.commitments.models import Commitment
from service.core.vocabularies import EntityType, Role
from service.sources.models import Source
from tests.conftest import client_with_key
from tests.jobs.running import imported, submit

IMPORT = "/api/v1/imports/assessments"
HEADER = [
    "commitment_id",
    "commitment_external_id",
    "status",
    "progress_pct",
    "as_of",
    "assessor_kind",
    "confidence",
    "rationale",
    "source_ids",
]


def csv_of(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADER, restval="")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def import_csv(client: FlaskClient, text: str, **params: str) -> dict[str, Any]:
    """The job the file became, once run."""
    return imported(client, "assessments", text, content_type="application/octet-stream", **params)


def history(session: Session) -> list[dict[str, Any]]:
    """A few assessments of each leaf commitment of the seed, in no particular date order."""
    source = session.scalars(select(Source)).first()
    assert source is not None
    commitments = session.scalars(
        select(Commitment).where(Commitment.external_id.is_not(None)).order_by(Commitment.id)
    ).all()
    rows = []
    for number, commitment in enumerate(commitments):
        key = (
            {"commitment_external_id": commitment.external_id}
            if number % 2
            else {"commitment_id": commitment.id}
        )
        rows += [
            {
                **key,
                "status": "advanced",
                "as_of": "2025-06",
                "assessor_kind": "independent",
                "source_ids": str(source.id),
            },
            {
                **key,
                "status": "partially_completed",
                "progress_pct": 40 + number,
                "as_of": "2024-11-02",
                "assessor_kind": "official",
                "source_ids": str(source.id),
            },
            {
                **key,
                "status": "not_started",
                "as_of": "2024",
                "assessor_kind": "independent",
                "source_ids": str(source.id),
            },
        ]
    return rows


def derived_state(session: Session) -> dict[str, Any]:
    session.expire_all()
    return {
        "commitments": session.execute(
            select(
                Commitment.id,
                Commitment.current_status,
                Commitment.status_progress,
                Commitment.current_progress,
            ).order_by(Commitment.id)
        ).all(),
        "agreements": session.execute(
            select(Agreement.id, Agreement.progress).order_by(Agreement.id)
        ).all(),
        "assessments": session.execute(
            select(
                StatusAssessment.commitment_id,
                StatusAssessment.status,
                StatusAssessment.effective_progress,
            ).order_by(StatusAssessment.commitment_id, StatusAssessment.as_of_value)
        ).all(),
    }


def test_a_bulk_import_ends_where_posting_each_assessment_ends(
    seeded: Session, client: FlaskClient, connection: Connection
) -> None:
    rows = history(seeded)
    one_by_one = connection.begin_nested()
    for row in rows:
        commitment_id = row.get("commitment_id") or seeded.scalar(
            select(Commitment.id).where(Commitment.external_id == row["commitment_external_id"])
        )
        body = {
            k: v for k, v in row.items() if k not in {"commitment_id", "commitment_external_id"}
        }
        body["source_ids"] = [int(body["source_ids"])] if "source_ids" in body else []
        response = client.post(f"/api/v1/commitments/{commitment_id}/assessments", json=body)
        assert response.status_code == 201, response.json
    posted = derived_state(seeded)
    one_by_one.rollback()

    before = derived_state(seeded)
    job = import_csv(client, csv_of(rows))
    assert job["state"] == "succeeded", job
    assert job["result"] == {
        "dry_run": False,
        "rows": len(rows),
        "created": len(rows),
        "updated": 0,
        "unchanged": 0,
        "row_errors": [],
    }
    after = derived_state(seeded)
    assert after != before
    assert after == posted


def test_each_assessment_gets_the_apis_create_event(seeded: Session, client: FlaskClient) -> None:
    rows = history(seeded)[:2]
    assert import_csv(client, csv_of(rows))["state"] == "succeeded"
    created = seeded.scalars(
        select(StatusAssessment).order_by(StatusAssessment.id.desc()).limit(1)
    ).one()
    event = seeded.scalars(
        select(ChangeEvent).where(
            ChangeEvent.entity == EntityType.ASSESSMENT, ChangeEvent.entity_id == created.id
        )
    ).one()
    posted = client.post(
        f"/api/v1/commitments/{created.commitment_id}/assessments",
        json={
            "status": "partially_completed",
            "progress_pct": rows[1]["progress_pct"],
            "as_of": "2024-11-02",
            "assessor_kind": "official",
            "source_ids": [int(rows[1]["source_ids"])],
        },
    ).json
    api_event = seeded.scalars(
        select(ChangeEvent).where(
            ChangeEvent.entity == EntityType.ASSESSMENT, ChangeEvent.entity_id == posted["id"]
        )
    ).one()
    assert set(event.changes) == set(api_event.changes)
    assert event.changes["as_of"] == "2024-11-02"
    assert event.changes["source_ids"] == [int(rows[1]["source_ids"])]


def test_a_file_with_a_bad_row_writes_nothing_and_names_each_problem(
    seeded: Session, client: FlaskClient
) -> None:
    rows = history(seeded)[:3]
    rows += [
        {**rows[0], "status": "finished"},
        {**rows[0], "status": "partially_completed", "progress_pct": ""},
        {**rows[0], "as_of": "2999-01"},
        {
            "commitment_id": 999999,
            "status": "advanced",
            "as_of": "2024",
            "assessor_kind": "independent",
            "source_ids": rows[0]["source_ids"],
        },
        {**rows[1], "source_ids": "999999"},
        {**rows[0], "progress_pct": "lots"},
        {
            "status": "advanced",
            "as_of": "2024",
            "assessor_kind": "independent",
            "source_ids": rows[0]["source_ids"],
        },
        # Evidence before status: a judgement with no source.
        {**rows[0], "source_ids": ""},
    ]
    counted = select(func.count()).select_from(StatusAssessment)
    assessments, events = (
        seeded.scalar(counted),
        seeded.scalar(select(func.count()).select_from(ChangeEvent)),
    )
    job = import_csv(client, csv_of(rows))
    assert job["state"] == "failed"
    assert job["error"] == "8 problems in the file; nothing was imported."
    problems = {(error["row"], error["column"]) for error in job["result"]["row_errors"]}
    assert problems == {
        (5, "status"),
        (6, "progress_pct"),
        (7, "as_of"),
        (8, "commitment_id"),
        (9, "source_ids"),
        (10, "progress_pct"),
        (11, "commitment_id"),
        (12, "source_ids"),
    }
    seeded.expire_all()
    assert seeded.scalar(counted) == assessments
    assert seeded.scalar(select(func.count()).select_from(ChangeEvent)) == events


def test_a_dry_run_reports_and_writes_nothing(seeded: Session, client: FlaskClient) -> None:
    rows = history(seeded)
    counted = select(func.count()).select_from(StatusAssessment)
    before = seeded.scalar(counted)
    job = import_csv(client, csv_of(rows), dry_run="true")
    assert job["result"]["created"] == len(rows) and job["result"]["dry_run"] is True
    seeded.expire_all()
    assert seeded.scalar(counted) == before


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("commitment_id,status,as_of\n", "assessor_kind"),
        ("status,as_of,assessor_kind\n", "commitment_id"),
        ("commitment_id,status,as_of,assessor_kind,colour\n", "colour"),
    ],
)
def test_the_header_is_checked_first(client: FlaskClient, text: str, column: str) -> None:
    response = submit(client, "assessments", text)
    assert response.status_code == 422
    assert (1, column) in {(e["row"], e["column"]) for e in response.json["row_errors"]}


def test_the_import_needs_an_editor(
    app: Flask, keys: dict[Role, str], connection: Connection
) -> None:
    header = ",".join(HEADER) + "\n"
    reader = client_with_key(app, keys[Role.READER])
    assert reader.post(IMPORT, data=header, content_type="text/csv").status_code == 403
    editor = client_with_key(app, keys[Role.EDITOR])
    assert imported(editor, "assessments", header)["result"]["rows"] == 0


def test_the_cli_imports_with_a_progress_bar(seeded: Session, app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "assessments.csv"
    rows = history(seeded)
    path.write_text(csv_of(rows))
    result = app.test_cli_runner().invoke(args=["import-assessments", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{len(rows)} rows: {len(rows)} were created" in result.stdout
    assert "importing" in result.stderr
    path.write_text(csv_of([{**rows[0], "as_of": "yesterday"}]))
    failed = app.test_cli_runner().invoke(args=["import-assessments", str(path)])
    assert failed.exit_code != 0 and "row 2, as_of" in failed.stderr


@pytest.mark.parametrize("kind", ["assessments", "commitments"])
def test_an_empty_file_is_refused_for_its_missing_header(client: FlaskClient, kind: str) -> None:
    response = client.post(
        f"/api/v1/imports/{kind}", data=b"", content_type="application/octet-stream"
    )
    assert response.status_code == 422
    assert {error["row"] for error in response.json["row_errors"]} == {1}
