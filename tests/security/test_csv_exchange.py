"""The CSV files that go out and come in: text a spreadsheet would run goes out as text and
comes back as it was; an import retried with its Idempotency-Key imports once; a file that is
too big in one cell or not UTF-8 is a 422 that names where, never a 500 or a mangled record."""

from __future__ import annotations

import codecs
import csv
import io
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.assessments.models import StatusAssessment
from service.changes.models import ChangeEvent
from service.commitments.models import Commitment
from service.idempotency.models import IdempotencyKey
from tests import builders as build
from tests.jobs.running import imported, run_jobs

COMMITMENTS = "/api/v1/imports/commitments"
ASSESSMENTS = "/api/v1/imports/assessments"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HOSTILE_TITLES = ["=1+1", "+cmd", "-2", "@SUM(A1)", "\tx", "\rx", "'quoted", "''twice", "'", "ok"]


def changes(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(ChangeEvent)) or 0


def assessments(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(StatusAssessment)) or 0


def export(client: FlaskClient, agreement: Any) -> str:
    response = client.get(
        "/api/v1/exports/commitments.csv", query_string={"agreement": agreement.slug}
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def post(client: FlaskClient, path: str, body: bytes, **kwargs: Any) -> Any:
    return client.post(path, data=body, content_type="text/csv", **kwargs)


def test_cells_a_spreadsheet_would_run_go_out_as_text_and_come_back_unchanged(
    client: FlaskClient, session: Session
) -> None:
    agreement = build.make_agreement(session, title='=HYPERLINK("http://x","y")')
    for number, title in enumerate(HOSTILE_TITLES):
        build.make_commitment(
            session, agreement, title=title, ref=f"-{number}", external_id=f"@ext-{number}"
        )
    text = export(client, agreement)
    cells = [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]
    assert [cell for cell in cells if cell.startswith(FORMULA_STARTS)] == []
    titles = [row["title"] for row in csv.DictReader(io.StringIO(text, newline=""))]
    assert titles == [
        *("'=1+1", "'+cmd", "'-2", "'@SUM(A1)", "'\tx", "'\rx"),
        *("''quoted", "'''twice", "''", "ok"),
    ]
    agreements = client.get("/api/v1/exports/agreements.csv").get_data(as_text=True)
    (row,) = [
        row
        for row in csv.DictReader(io.StringIO(agreements, newline=""))
        if row["slug"] == agreement.slug
    ]
    assert row["title"] == "'" + agreement.title
    # JSON lines are not read by spreadsheets: they carry the text as it is.
    lines = client.get(
        "/api/v1/exports/commitments.jsonl", query_string={"agreement": agreement.slug}
    ).get_data(as_text=True)
    assert '"title": "=1+1"' in lines

    before = changes(session)
    job = imported(client, "commitments", text)
    assert job["state"] == "succeeded", job
    assert (job["result"]["updated"], job["result"]["unchanged"]) == (0, len(HOSTILE_TITLES))
    assert changes(session) == before
    assert export(client, agreement) == text
    stored = session.scalars(
        select(Commitment.title).where(Commitment.agreement_id == agreement.id)
    ).all()
    assert sorted(stored) == sorted(HOSTILE_TITLES)


def assessment_file(commitment_id: int, source_id: int, rows: int = 1) -> bytes:
    line = f"{commitment_id},advanced,2024-03,official,{source_id}\n"
    return ("commitment_id,status,as_of,assessor_kind,source_ids\n" + line * rows).encode()


def test_a_retried_import_imports_once(client: FlaskClient, session: Session) -> None:
    commitment = build.make_commitment(session)
    body = assessment_file(commitment.id, build.make_source(session).id, rows=3)
    key = {"Idempotency-Key": "import-1"}
    before = assessments(session)
    first = post(client, ASSESSMENTS, body, headers=key)
    assert run_jobs(client.application) == 1
    again = post(client, ASSESSMENTS, body, headers=key)
    assert first.status_code == again.status_code == 202, first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()
    assert again.headers["Location"] == first.headers["Location"]
    assert run_jobs(client.application) == 0
    assert assessments(session) == before + 3
    # Another file, or the same file as a dry run, is another request: not with this key.
    other = post(client, ASSESSMENTS, body + body.splitlines(keepends=True)[1], headers=key)
    dry_run = post(client, ASSESSMENTS, body, headers=key, query_string={"dry_run": "true"})
    assert other.status_code == dry_run.status_code == 422
    assert "Idempotency-Key" in other.json["errors"]
    assert assessments(session) == before + 3
    # The file itself is not kept, only its hash.
    session.expire_all()
    record = session.scalars(select(IdempotencyKey).where(IdempotencyKey.key == "import-1")).one()
    assert body not in (record.response_body or b"") and len(record.fingerprint) == 64


@pytest.mark.parametrize(
    ("path", "header", "cells", "column"),
    [
        (
            ASSESSMENTS,
            "commitment_id,status,as_of,assessor_kind,rationale",
            "1,not_assessed,2024,official,{long}",
            "rationale",
        ),
        (
            ASSESSMENTS,
            "commitment_id,status,as_of,assessor_kind",
            "{digits},not_assessed,2024,official",
            "commitment_id",
        ),
        (COMMITMENTS, None, "title", "title"),
    ],
    ids=["rationale", "thousands-of-digits", "commitment-title"],
)
def test_a_cell_beyond_any_column_fails_the_job_naming_row_and_column(
    client: FlaskClient, session: Session, path: str, header: str | None, cells: str, column: str
) -> None:
    long = "x" * 140_000
    if header is None:
        agreement = build.make_agreement(session)
        build.make_commitment(session, agreement, title="Before")
        body = export(client, agreement).replace("Before", long).encode()
    else:
        body = f"{header}\n{cells.format(long=long, digits='9' * 5000)}\n".encode()
    before = changes(session)
    job = imported(client, path.rsplit("/", 1)[1], body)
    assert job["state"] == "failed"
    assert [(e["row"], e["column"]) for e in job["result"]["row_errors"]] == [(2, column)]
    assert changes(session) == before


def test_a_byte_order_mark_is_taken_and_bytes_not_utf8_are_refused_by_row(
    client: FlaskClient, session: Session
) -> None:
    agreement = build.make_agreement(session)
    for title in ("First", "Entraînement"):
        build.make_commitment(session, agreement, title=title)
    text = export(client, agreement)
    with_bom = imported(client, "commitments", codecs.BOM_UTF8 + text.encode())
    assert with_bom["state"] == "succeeded", with_bom
    assert with_bom["result"]["unchanged"] == 2

    before = changes(session)
    # Checked before the file is queued: the 422 comes at once.
    latin1 = post(
        client, COMMITMENTS, text.replace("Entraînement", "Entraînements").encode("latin-1")
    )
    assert latin1.status_code == 422
    (error,) = latin1.json["row_errors"]
    assert (error["row"], error["column"]) == (3, "title")
    assert "UTF-8" in error["message"] and "line 3" in error["message"]
    assert changes(session) == before
    titles = session.scalars(
        select(Commitment.title).where(Commitment.agreement_id == agreement.id)
    )
    assert sorted(titles) == ["Entraînement", "First"]


def test_a_file_of_bad_rows_is_read_only_to_the_first_thousand_problems(
    client: FlaskClient,
) -> None:
    body = b"commitment_id,status,as_of,assessor_kind\n" + b"1,2\n" * 20_000
    job = imported(client, "assessments", body)
    assert job["state"] == "failed"
    assert "read no further" in job["error"]
    assert len(job["result"]["row_errors"]) <= 1000
