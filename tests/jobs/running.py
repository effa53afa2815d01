"""Submitting a file to an import and running the job it becomes, in-process, as a worker
would (service/jobs/services.run_pending): for the tests of what an import does."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from service.jobs.running import run_pending


def run_jobs(app: Flask) -> int:
    """Run every job that is due, as `flask worker` would; return how many ran."""
    return run_pending(app.extensions["database"].session_factory, app.extensions["job_settings"])


def submit(
    client: FlaskClient,
    kind: str,
    body: str | bytes,
    *,
    content_type: str = "text/csv",
    headers: dict[str, str] | None = None,
    **params: str,
) -> Any:
    """POST the file to the import of this kind (`params`: its query)."""
    data = body.encode() if isinstance(body, str) else body
    return client.post(
        f"/api/v1/imports/{kind}",
        data=data,
        content_type=content_type,
        headers=headers or {},
        query_string=params,
    )


def imported(
    client: FlaskClient,
    kind: str,
    body: str | bytes,
    *,
    content_type: str = "text/csv",
    **params: str,
) -> dict[str, Any]:
    """Submit the file, run the job, and return the job as GET shows it at the end."""
    response = submit(client, kind, body, content_type=content_type, headers=None, **params)
    assert response.status_code == 202, response.json
    run_jobs(client.application)
    job = client.get(response.headers["Location"])
    assert job.status_code == 200, job.json
    assert job.json["state"] in {"succeeded", "failed"}, job.json
    return dict(job.get_json())
