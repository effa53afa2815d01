"""Metrics by route template, method and status, and one JSON log line a request."""

from __future__ import annotations

import json
import logging
import re
import sys

import pytest
from flask.testing import FlaskClient

from service.http.observability import REQUEST_LOG, JSONFormatter


def count(client: FlaskClient, route: str, method: str, status: int) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    pattern = (
        r"^policy_tracker_http_requests_total\{"
        + rf'method="{method}",route="{re.escape(route)}",status="{status}"'
        + r"\} ([0-9.e+]+)$"
    )
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_metrics_count_requests_by_route_template_method_and_status(
    client: FlaskClient,
) -> None:
    route = "/api/v1/agreements/<agreement_ref>"
    before_ok = count(client, route, "GET", 404)
    before_unmatched = count(client, "(unmatched)", "GET", 404)
    for ref in ("no-such-agreement", "another-one", "12345"):
        assert client.get(f"/api/v1/agreements/{ref}").status_code == 404
    client.get("/no/such/route")
    assert count(client, route, "GET", 404) == before_ok + 3  # one series, not one per path
    assert count(client, "(unmatched)", "GET", 404) == before_unmatched + 1
    text = client.get("/metrics").get_data(as_text=True)
    assert "policy_tracker_http_request_duration_seconds_bucket{" in text
    assert client.get("/metrics").mimetype == "text/plain"


def test_each_request_logs_one_line_with_its_id_route_status_duration_and_key(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=REQUEST_LOG.name):
        response = client.get("/api/v1/agreements", headers={"X-Request-ID": "trace-me-1"})
    [record] = [r for r in caplog.records if r.name == REQUEST_LOG.name]
    line = json.loads(JSONFormatter().format(record))
    assert line["request_id"] == response.headers["X-Request-ID"] == "trace-me-1"
    assert line["route"] == "/api/v1/agreements" and line["status"] == 200
    assert line["method"] == "GET" and line["duration_ms"] >= 0
    assert isinstance(line["key_id"], int)  # the admin key the client sends
    authorization = client.environ_base["HTTP_AUTHORIZATION"]
    assert authorization.split()[-1] not in json.dumps(line)  # never the key itself


def test_the_formatter_keeps_an_exception_on_its_one_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    line = JSONFormatter().format(record)
    assert "\n" not in line
    assert json.loads(line)["exception"].endswith("ValueError: boom")
