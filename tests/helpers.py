"""What many tests share, in one place: the seed files, the check that an answer is a
problem+json, and a scratch PostgreSQL database. (Test data builders are in
tests/builders.py; fixtures in tests/conftest.py.)"""

from __future__ import annotations

import copy
import functools
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS30Validator
from sqlalchemy import make_url, text

from service.core.db import make_engine

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"

# The members every problem has (RFC 9457, and the request id).
PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance", "request_id"}


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The body of an answer that must be a problem+json of this status: every member a
    problem has, and no stack trace."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json(force=True)
    assert set(body) >= PROBLEM_FIELDS
    assert body["status"] == status
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def change_event_errors(event: dict[str, Any]) -> list[str]:
    """What makes a change event, as the feed answers it, not one of the typed change events
    of the committed spec, read strictly: a field its `changes` may not hold is an error
    (the spec leaves `changes` open, so that clients accept fields added later)."""
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in _change_event_validator().iter_errors(event)
    ]


@functools.cache
def _change_event_validator() -> OAS30Validator:
    spec = json.loads((ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8"))
    components = copy.deepcopy(spec["components"])
    for name, schema in components["schemas"].items():
        if name.endswith("Changes"):
            schema["additionalProperties"] = False
    root = {"allOf": [{"$ref": "#/components/schemas/ChangeEvent"}], "components": components}
    return OAS30Validator(root)


def problem_errors(response: Any, status: int) -> dict[str, list[str]]:
    """What such a problem says is wrong, by field (none: {})."""
    errors: dict[str, list[str]] = assert_problem(response, status).get("errors", {})
    return errors


@contextmanager
def scratch_database(database_url: str, prefix: str, *, create: bool = True) -> Iterator[str]:
    """The URL of a PostgreSQL database of its own on the test database's server, dropped
    afterwards; `create`, made empty first (otherwise the code under test creates it)."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(database_url).execution_options(isolation_level="AUTOCOMMIT")
    try:
        if create:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
