"""Bulk data out and in: exports that stream, and a CSV import that round-trips with them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from service.changes.models import ChangeEvent
from service.commitments.models import Commitment
from service.core.vocabularies import Role
from service.exchange import export
from service.exchange.columns import COMMITMENT_COLUMNS
from tests.conftest import client_with_key, make_app
from tests.helpers import SEEDS
from tests.jobs.running import imported, submit

IMPORT = "/api/v1/imports/commitments"


def changes(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(ChangeEvent)) or 0


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def import_csv(client: FlaskClient, text: str, **params: str) -> dict[str, Any]:
    """The job the file became, once run."""
    return imported(client, "commitments", text, **params)


def test_the_export_has_the_documented_columns_and_every_commitment(
    seeded: Session, client: FlaskClient
) -> None:
    response = client.get("/api/v1/exports/commitments.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.splitlines()[0] == ",".join(column.name for column in COMMITMENT_COLUMNS)
    rows = rows_of(text)
    assert len(rows) == seeded.scalar(select(func.count()).select_from(Commitment))
    training = next(row for row in rows if row["title"] == "Training")
    assert training["parent_external_id"] == "in-fr-loi-dsc"
    assert (training["current_status"], training["current_progress"]) == ("not_assessed", "")
    documented = (SEEDS.parent / "docs" / "csv-format.md").read_text()
    for column in COMMITMENT_COLUMNS:
        assert f"| `{column.name}` |" in documented, column.name


def test_export_then_import_changes_nothing(seeded: Session, client: FlaskClient) -> None:
    text = client.get("/api/v1/exports/commitments.csv").get_data(as_text=True)
    before = changes(seeded)
    job = import_csv(client, text)
    assert job["state"] == "succeeded", job
    assert job["result"] == {
        "dry_run": False,
        "rows": 7,
        "created": 0,
        "updated": 0,
        "unchanged": 7,
        "row_errors": [],
    }
    assert changes(seeded) == before
    assert client.get("/api/v1/exports/commitments.csv").get_data(as_text=True) == text


def test_an_edited_export_creates_and_updates_what_was_edited(
    seeded: Session, client: FlaskClient
) -> None:
    rows = rows_of(client.get("/api/v1/exports/commitments.csv").get_data(as_text=True))
    rows[1]["title"] = "Training of officers"
    rows[1]["due_date"] = "2026-06"
    rows.append(
        {**rows[1], "id": "", "external_id": "new-row", "title": "Joint exercises", "themes": ""}
    )
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    dry = import_csv(client, buffer.getvalue(), dry_run="true")
    assert dry["result"] == {
        "dry_run": True,
        "rows": 8,
        "created": 1,
        "updated": 1,
        "unchanged": 6,
        "row_errors": [],
    }
    assert seeded.scalar(select(func.count()).where(Commitment.external_id == "new-row")) == 0
    done = import_csv(client, buffer.getvalue())
    assert done["result"]["created"] == 1 and done["result"]["updated"] == 1
    created = seeded.scalars(select(Commitment).where(Commitment.external_id == "new-row")).one()
    assert created.parent_id is not None and created.current_status.value == "not_assessed"
    edited = client.get(f"/api/v1/commitments/{rows[1]['id']}").json
    assert (edited["title"], edited["due_date"], edited["due_date_precision"]) == (
        "Training of officers",
        "2026-06",
        "month",
    )


def test_a_file_with_a_bad_row_writes_nothing_and_names_each_problem(
    seeded: Session, client: FlaskClient
) -> None:
    rows = rows_of(client.get("/api/v1/exports/commitments.csv").get_data(as_text=True))
    rows[0]["title"] = "Changed, but the file is refused"
    rows[2]["title"] = ""
    rows[3]["themes"] = "no-such-theme"
    rows[4]["agreement"] = "no-such-agreement"
    rows[5]["weight"] = "heavy"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    before = changes(seeded)
    job = import_csv(client, buffer.getvalue())
    assert job["state"] == "failed" and "nothing was imported" in job["error"]
    problems = {(error["row"], error["column"]) for error in job["result"]["row_errors"]}
    assert problems == {(4, "title"), (5, "themes"), (6, "agreement"), (7, "weight")}
    assert changes(seeded) == before
    assert (
        client.get(f"/api/v1/commitments/{rows[0]['id']}").json["title"]
        != "Changed, but the file is refused"
    )


def _written(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def test_progress_from_indicators_is_set_by_its_column_and_kept_where_it_is_left_out(
    seeded: Session, client: FlaskClient
) -> None:
    rows = rows_of(client.get("/api/v1/exports/commitments.csv").get_data(as_text=True))
    assert {row["progress_from_indicators"] for row in rows} == {"false"}
    rows[1]["progress_from_indicators"] = "true"
    rows[2]["progress_from_indicators"] = "sometimes"
    refused = import_csv(client, _written(rows))
    assert [(e["row"], e["column"]) for e in refused["result"]["row_errors"]] == [
        (4, "progress_from_indicators")
    ]
    rows[2]["progress_from_indicators"] = "false"
    assert import_csv(client, _written(rows))["result"]["updated"] == 1
    driven = f"/api/v1/commitments/{rows[1]['id']}"
    assert client.get(driven).json["progress_from_indicators"] is True
    # A file written before the column was added: every flag stays as it is.
    for row in rows:
        del row["progress_from_indicators"]
    rows[1]["title"] = "Training of officers"
    assert import_csv(client, _written(rows))["result"]["updated"] == 1
    assert client.get(driven).json["progress_from_indicators"] is True
    assert client.get(driven).json["title"] == "Training of officers"


@pytest.mark.parametrize(
    ("text", "column"),
    [("title,agreement\nx,y\n", "id"), ("id,external_id,agreement\n", "title")],
)
def test_the_header_must_be_the_exports(client: FlaskClient, text: str, column: str) -> None:
    # Checked before the file is queued: a 422 at once, and no job.
    response = submit(client, "commitments", text)
    assert response.status_code == 422
    assert (1, column) in {(e["row"], e["column"]) for e in response.json["row_errors"]}
    assert client.get("/api/v1/jobs").json["items"] == []


def test_import_needs_an_editor_and_a_csv(
    app: Flask, keys: dict[Role, str], connection: Connection
) -> None:
    header = ",".join(column.name for column in COMMITMENT_COLUMNS) + "\n"
    reader = client_with_key(app, keys[Role.READER])
    assert reader.post(IMPORT, data=header, content_type="text/csv").status_code == 403
    editor = client_with_key(app, keys[Role.EDITOR])
    assert editor.post(IMPORT, json={"rows": []}).status_code == 415
    assert imported(editor, "commitments", header)["result"]["rows"] == 0


def test_the_export_is_streamed_a_page_at_a_time(
    seeded: Session, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "BATCH", 3)
    response = client.get("/api/v1/exports/commitments.jsonl")
    assert response.is_streamed
    chunks: list[bytes | str] = list(response.response)
    assert len(chunks) == 3  # 7 commitments, 3 a page
    text = b"".join(
        chunk if isinstance(chunk, bytes) else chunk.encode() for chunk in chunks
    ).decode()
    records = [json.loads(line) for line in text.splitlines()]
    assert len(records) == 7 and records[1]["themes"] == ["capacity-building"]
    assert isinstance(records[0]["weight"], float)


def test_filters_select_what_is_exported(seeded: Session, client: FlaskClient) -> None:
    text = client.get(
        "/api/v1/exports/commitments.csv", query_string={"status": "not_assessed"}
    ).get_data(as_text=True)
    assert {row["current_status"] for row in rows_of(text)} == {"not_assessed"}
    assert (
        client.get("/api/v1/exports/commitments.csv", query_string={"page_size": 5}).status_code
        == 400
    )


def test_agreements_export_with_their_participants(seeded: Session, client: FlaskClient) -> None:
    rows = rows_of(client.get("/api/v1/exports/agreements.csv").get_data(as_text=True))
    loi = next(row for row in rows if row["slug"] == "india-france-loi-defence-space-cooperation")
    assert set(loi["participants"].split(";")) == {
        "party:india-ministry-of-defence",
        "party:france-ministry-for-the-armed-forces",
    }
    assert loi["aliases"] == "Letter of intent on defence space partnership"


def test_the_cli_imports_with_a_progress_bar(
    seeded: Session, client: FlaskClient, app: Flask, tmp_path: Path
) -> None:
    path = tmp_path / "commitments.csv"
    path.write_text(client.get("/api/v1/exports/commitments.csv").get_data(as_text=True))
    result = app.test_cli_runner().invoke(args=["import-commitments", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "7 rows: 0 would be created, 0 would be updated, 7 unchanged" in result.stdout
    assert "importing" in result.stderr
    broken = tmp_path / "broken.csv"
    broken.write_text(path.read_text().replace("Training", "", 1).replace(",Training,", ",,"))
    lines = path.read_text().splitlines()
    broken.write_text(
        "\n".join([lines[0], lines[1].replace("Defence space cooperation", "")]) + "\n"
    )
    failed = app.test_cli_runner().invoke(args=["import-commitments", str(broken)])
    assert failed.exit_code != 0
    assert "row 2, title" in failed.stderr


def test_json_lines_go_out_as_text_to_a_client_that_asks(
    seeded: Session, client: FlaskClient
) -> None:
    assert client.get("/api/v1/exports/commitments.jsonl").mimetype == "application/x-ndjson"
    as_text = client.get("/api/v1/exports/commitments.jsonl", headers={"Accept": "text/plain"})
    assert as_text.mimetype == "text/plain"
    assert len(as_text.get_data(as_text=True).splitlines()) == 7


@pytest.mark.parametrize(
    "path", ["/api/v1/exports/commitments.csv", "/api/v1/exports/agreements.jsonl"]
)
def test_a_streamed_export_gives_its_database_connection_back(
    path: str, database_url: str, engine: object
) -> None:
    # An app of its own, on its own pool (the other tests share one connection): the stream
    # outlives the request's teardown, and once leaked a connection per export had emptied
    # the pool within ten requests.
    app = make_app(database_url)
    pool = app.extensions["database"].engine.pool
    client = app.test_client()
    for _ in range(3):
        response = client.get(path)
        assert response.status_code == 200
        response.get_data()
        response.close()  # as a WSGI server does once it has sent the body
    assert pool.checkedout() == 0
