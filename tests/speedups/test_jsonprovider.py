"""JSON responses go out through orjson, as the same documents the standard library wrote."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

from flask import Flask

from service.speedups.jsonprovider import OrjsonProvider


def test_responses_are_the_standard_librarys_documents(app: Flask) -> None:
    document = {
        "z": 1,
        "a": [1.5, None, True, "ü"],
        "when": datetime(2024, 3, 1, 12, 0, tzinfo=UTC),
        "day": date(2024, 3, 1),
        "amount": Decimal("2.50"),
        "nested": {"b": 2, "a": 1},
    }
    assert isinstance(app.json, OrjsonProvider)
    with app.app_context():
        body = app.json.response(document).get_data()
    assert body.endswith(b"\n")
    assert body.index(b'"a"') < body.index(b'"z"')  # keys sorted, as Flask's default sorts them
    with app.app_context():
        standard = json.loads(super(OrjsonProvider, app.json).dumps(document))
    assert json.loads(body) == standard
    assert standard["when"] == "Fri, 01 Mar 2024 12:00:00 GMT"  # Flask's rule for dates, kept
    assert standard["amount"] == "2.50"


def test_text_orjson_refuses_goes_out_escaped(app: Flask) -> None:
    assert isinstance(app.json, OrjsonProvider)
    with app.app_context():
        body = app.json.response({"detail": "bad \ud800 value"}).get_data()
    assert json.loads(body) == {"detail": "bad \ud800 value"}
