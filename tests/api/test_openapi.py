"""The committed contract: openapi/openapi.json is what the code generates, valid, and tidy."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from openapi_spec_validator import validate

from service.http.api import spec_document
from tests.helpers import ROOT

SPEC_PATH = ROOT / "openapi" / "openapi.json"
METHODS = {"get", "post", "patch", "put", "delete"}


@pytest.fixture(scope="module")
def spec(app: Flask) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(spec_document(app))
    return document


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_the_committed_spec_is_what_the_code_generates(app: Flask) -> None:
    committed = SPEC_PATH.read_text(encoding="utf-8")
    assert committed == spec_document(app) + "\n", (
        "run `make openapi` and commit openapi/openapi.json"
    )


def test_the_spec_is_valid_openapi_3_0_3(spec: dict[str, Any]) -> None:
    assert spec["openapi"] == "3.0.3"
    validate(spec)


def test_operation_ids_are_unique_snake_case_verbs(spec: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _path, _method, operation in operations(spec)]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert re.fullmatch(
            r"(list|get|create|update|delete|export|import)_[a-z]+(_[a-z]+)*", operation_id
        ), operation_id


def test_each_operation_has_one_tag_and_a_summary(spec: dict[str, Any]) -> None:
    for path, method, operation in operations(spec):
        assert len(operation["tags"]) == 1, (path, method)
        assert operation.get("summary"), (path, method)


def test_bodies_use_named_schemas_only(spec: dict[str, Any]) -> None:
    def check(content: dict[str, Any], where: tuple[str, ...]) -> None:
        for media_type, media in content.items():
            if media_type == "application/json" or media_type.endswith("+json"):
                assert set(media["schema"]) == {"$ref"}, where
            else:  # a bulk file (CSV, JSON lines) is text, or bytes going up
                assert media["schema"] in (
                    {"type": "string"},
                    {"type": "string", "format": "binary"},
                ), where

    for path, method, operation in operations(spec):
        if "requestBody" in operation:
            check(operation["requestBody"]["content"], (path, method))
        for status, response in operation["responses"].items():
            if "content" in response:
                check(response["content"], (path, method, status))
    for name in spec["components"]["schemas"]:
        assert not re.search(r"\d$", name), f"a duplicated schema name: {name}"
    # One union only, told apart by a discriminator: a change event, typed by the kind of
    # record it changed; and within its changes, each field's value or [old, new].
    unions = {
        name
        for name, schema in spec["components"]["schemas"].items()
        if "oneOf" in json.dumps(schema)
    }
    assert unions == {"ChangeEvent"} | {name for name in unions if name.endswith("Changes")}
    assert spec["components"]["schemas"]["ChangeEvent"]["discriminator"]["propertyName"] == "entity"


def test_enums_are_registered_once_and_referenced(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    enum_components = {name for name, schema in schemas.items() if "enum" in schema}
    assert {"ImplementationStatus", "DocType", "DatePrecision"} <= enum_components
    # A change event's `entity` is its one value, inline: what tells the variants apart.
    discriminators = {
        (ref.rsplit("/", 1)[-1], schema["discriminator"]["propertyName"])
        for schema in schemas.values()
        if "discriminator" in schema
        for ref in schema["discriminator"]["mapping"].values()
    }
    for name, schema in schemas.items():
        if name in enum_components:
            continue
        for field, prop in schema.get("properties", {}).items():
            if (name, field) in discriminators:
                assert len(prop["enum"]) == 1, (name, field)
                continue
            assert "enum" not in prop, f"{name}.{field} has an inline enum"
            assert "enum" not in prop.get("items", {}), f"{name}.{field} has an inline enum"


def test_create_update_and_output_schemas_are_separate(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for name in ("Agreement", "Commitment", "Organization", "Meeting"):
        assert {name, f"{name}Create", f"{name}Update"} <= set(schemas)
        assert not schemas[f"{name}Update"].get("required"), "an update is partial"
        assert schemas[f"{name}Create"].get("additionalProperties") is False


def test_an_update_states_no_defaults(spec: dict[str, Any]) -> None:
    # A PATCH changes only what it is sent, and generated clients send every field with a
    # default: `CommitmentUpdate(title=...)` would otherwise reset a section's kind.
    updates = {
        name: schema
        for name, schema in spec["components"]["schemas"].items()
        if name.endswith("Update")
    }
    assert {"AgreementUpdate", "CommitmentUpdate", "SourceUpdate"} <= set(updates)
    defaults = {
        (name, field)
        for name, schema in updates.items()
        for field, prop in schema.get("properties", {}).items()
        if "default" in prop
    }
    assert defaults == set()
    assert "default" in spec["components"]["schemas"]["CommitmentCreate"]["properties"]["kind"]


def test_output_fields_that_are_always_present_are_required(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    outputs = [
        name
        for name in schemas
        if not name.endswith(("Create", "Update")) and "properties" in schemas[name]
    ]
    for name in outputs:
        if name == "Problem":
            assert set(schemas[name]["required"]) == {
                "type",
                "title",
                "status",
                "detail",
                "instance",
                "request_id",
            }
            continue
        if name.endswith("Changes") and name.removesuffix("Changes") + "ChangeEvent" in schemas:
            # A change holds the fields it changed: none is always there.
            assert not schemas[name].get("required"), name
            continue
        assert set(schemas[name].get("required", [])) == set(schemas[name]["properties"]), name


def test_every_error_response_is_a_problem(spec: dict[str, Any]) -> None:
    responses = spec["components"]["responses"]
    for path, method, operation in operations(spec):
        statuses = set(operation["responses"])
        assert {"500"} <= statuses, (path, method)
        if method in {"post", "patch"}:
            assert {"400", "413", "415", "422"} <= statuses, (path, method)
        if method in {"patch", "delete"}:
            assert {"404", "412"} <= statuses, (path, method)
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                resolved = responses[response["$ref"].rsplit("/", 1)[1]]
                assert resolved["content"] == {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                }, (path, method, status)


def test_conditional_request_headers_are_documented(spec: dict[str, Any]) -> None:
    for path, method, operation in operations(spec):
        headers = {
            parameter["name"]
            for parameter in operation.get("parameters", [])
            if parameter["in"] == "header"
        }
        if method in {"patch", "delete"}:
            assert "If-Match" in headers, (path, method)
        if method == "get" and path.endswith("}"):
            assert "If-None-Match" in headers, (path, method)


# Operations routed by a loop over formats or kinds rather than written one by one
# (service/exchange/routes.py: each export in two formats, each import of a kind).
GENERATED_OPERATIONS = re.compile(r"export_\w+|import_\w+")


def test_each_operation_is_a_plain_view_named_after_it(app: Flask, spec: dict[str, Any]) -> None:
    """Whoever knows flask-smorest finds an operation by its id: a function of that name in a
    routes module, its docstring the operation's summary, calling the service itself."""
    import inspect
    import sys

    summaries = {
        operation["operationId"]: operation["summary"] for *_, operation in operations(spec)
    }
    views = {
        endpoint.rpartition(".")[2]: inspect.unwrap(view)
        for endpoint, view in app.view_functions.items()
        if endpoint.rpartition(".")[2] in summaries
    }
    assert set(views) == set(summaries)
    for operation_id, view in views.items():
        if GENERATED_OPERATIONS.fullmatch(operation_id):
            continue
        module = sys.modules[view.__module__]
        assert view.__module__.endswith(".routes"), operation_id
        assert getattr(module, operation_id) is view, operation_id
        assert inspect.getdoc(view) == summaries[operation_id]
