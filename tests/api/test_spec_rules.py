"""The rules the spec states are the rules the service keeps: each pattern, enumeration and
problem type in openapi/openapi.json, read from the committed file, gives the answers the
service gives."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from service.schemas import SHOWN_FIELDS
from tests.builders import make_agreement, make_source
from tests.helpers import ROOT, assert_problem, problem_errors

SPEC: dict[str, Any] = json.loads((ROOT / "openapi" / "openapi.json").read_text())
SCHEMAS = SPEC["components"]["schemas"]


def matches(pattern: str, value: str) -> bool:
    """As a JSON Schema validator reads `pattern` (ECMA-262, unanchored search; ours are
    anchored)."""
    return re.search(pattern, value) is not None


URLS = [
    ("https://pib.gov.in/PressReleasePage.aspx?PRID=2011181", True),
    ("http://localhost:8000/hook", True),
    ("https://fr.wikipedia.org/wiki/%C3%89lys%C3%A9e#Histoire", True),
    ("http://10.0.0.1:6379/", True),
    ("http://[2606:4700::1]/x", True),
    ("https://fr.wikipedia.org/wiki/Élysée", False),
    ("", False),
    ("http://", False),
    ("ftp://example.org/a", False),
    ("javascript:alert(1)", False),
    ("http://exa mple.org", False),
    ("http://user:secret@example.org/", False),
    ("http://-bad-.org/", False),
    ("https://example.org/a b", False),
]


@pytest.mark.parametrize(("url", "valid"), URLS)
def test_a_url_is_taken_exactly_when_the_spec_s_pattern_says(
    client: FlaskClient, url: str, valid: bool
) -> None:
    stated = SCHEMAS["SourceCreate"]["properties"]["url"]
    assert stated["format"] == "uri"
    assert matches(stated["pattern"], url) is valid
    response = client.post("/api/v1/sources", json={"url": url, "title": "A source"})
    if valid:
        assert response.status_code == 201, response.json
    else:
        assert "url" in problem_errors(response, 422)


def test_every_url_field_states_the_same_rule() -> None:
    url_fields = {
        (name, field): prop
        for name, schema in SCHEMAS.items()
        if name.endswith(("Create", "Update"))
        for field, prop in schema.get("properties", {}).items()
        if field.endswith("url")
    }
    assert {("SourceCreate", "archived_url"), ("AgreementCreate", "text_url")} <= set(url_fields)
    assert ("WebhookCreate", "url") in url_fields
    pattern = SCHEMAS["SourceCreate"]["properties"]["url"]["pattern"]
    for key, prop in url_fields.items():
        assert (prop["pattern"], prop["format"], prop["maxLength"]) == (pattern, "uri", 2000), key


def test_a_citation_may_name_the_fields_the_spec_lists_and_its_record_has(
    client: FlaskClient, session: Session
) -> None:
    stated = set(SCHEMAS["RecordField"]["enum"])
    assert stated == set().union(*SHOWN_FIELDS.values())
    # The fields a record shows, as the API names them: not its id, timestamps or columns
    # the API does not show.
    assert {"title", "aliases", "start_date", "signer_ids", "reliability"} <= stated
    assert not {"id", "created_at", "deleted_at", "date_value", "key_hash"} & stated
    source, agreement = make_source(session), make_agreement(session)
    base = {"source_id": source.id, "entity_type": "agreement", "entity_id": agreement.id}
    # Listed, but not a field of an agreement: the rule across fields, said in the spec's
    # description and the 422's.
    assert "field" in problem_errors(
        client.post("/api/v1/citations", json={**base, "field": "signer_ids"}), 422
    )
    for field in ("", "colour", "deleted_at", "live_condition"):
        assert field not in stated
        assert "field" in problem_errors(
            client.post("/api/v1/citations", json={**base, "field": field}), 422
        )
    created = client.post("/api/v1/citations", json={**base, "field": "summary"})
    assert created.status_code == 201, created.json


def test_a_page_token_has_the_shape_the_spec_states(client: FlaskClient, session: Session) -> None:
    for number in range(3):
        make_source(session, url=f"https://example.org/{number}")
    pattern = next(
        parameter["schema"]["pattern"]
        for parameter in SPEC["paths"]["/api/v1/sources"]["get"]["parameters"]
        if parameter["name"] == "page_token"
    )
    token = client.get("/api/v1/sources", query_string={"page_size": 1}).json["next_page_token"]
    assert matches(pattern, token) and matches(pattern, "")
    for malformed in ("not a token", "a.b.c", "=="):
        assert not matches(pattern, malformed)
        response = client.get("/api/v1/sources", query_string={"page_token": malformed})
        assert "page_token" in problem_errors(response, 400)
    # Of the right shape, but not issued by the service: a rule the description states.
    forged = client.get("/api/v1/sources", query_string={"page_token": "abc.def"})
    assert "page_token" in problem_errors(forged, 400)


@pytest.mark.parametrize("header", ["If-Match", "If-None-Match"])
def test_the_conditional_headers_state_their_pattern(header: str) -> None:
    stated = [
        parameter["schema"]
        for item in SPEC["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "header" and parameter["name"] == header
    ]
    assert stated and all(schema == stated[0] for schema in stated)
    pattern = stated[0]["pattern"]
    for value in ("*", '"abc"', 'W/"abc", "def"'):
        assert matches(pattern, value)
    for value in ("", "abc", '"abc', "W/ abc"):
        assert not matches(pattern, value)


def test_each_problem_answer_names_its_type(client: FlaskClient) -> None:
    for name, response in SPEC["components"]["responses"].items():
        content = response.get("content", {})
        if "application/problem+json" not in content:
            continue
        found = re.findall(r"`(/problems/[a-z-]+)`", response["description"])
        assert len(found) == 1, name
    answered = client.get("/api/v1/agreements/no-such-agreement")
    body = assert_problem(answered, 404)
    assert f"`{body['type']}`" in SPEC["components"]["responses"]["NOT_FOUND"]["description"]


def test_a_filter_naming_a_record_takes_what_the_spec_s_ref_pattern_says(
    client: FlaskClient, session: Session
) -> None:
    agreement = make_agreement(session)
    pattern = next(
        parameter["schema"]["pattern"]
        for parameter in SPEC["paths"]["/api/v1/commitments"]["get"]["parameters"]
        if parameter["name"] == "agreement"
    )
    for ref in (str(agreement.id), f"00{agreement.id}", agreement.slug):
        assert matches(pattern, ref)
        assert client.get("/api/v1/commitments", query_string={"agreement": ref}).status_code == 200
    for ref in ("0", "000", "Not A Slug", "a_b", ""):
        assert not matches(pattern, ref)
        response = client.get("/api/v1/commitments", query_string={"agreement": ref})
        assert "agreement" in problem_errors(response, 400)
    # Of the right shape, naming no record: the rule across records (422).
    response = client.get("/api/v1/commitments", query_string={"agreement": "no-such-agreement"})
    assert "agreement" in problem_errors(response, 422)


def test_theme_lists_take_slugs_as_the_spec_says(client: FlaskClient) -> None:
    items = SCHEMAS["CommitmentCreate"]["properties"]["themes"]["items"]
    assert not matches(items["pattern"], "Not a slug")
    response = client.post(
        "/api/v1/agreements",
        json={"slug": "themed", "title": "T", "doc_type": "treaty", "themes": ["Not a slug"]},
    )
    assert "themes.0" in problem_errors(response, 422)
