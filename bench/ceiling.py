"""The ceiling: a bare Flask route returning a fixed row of about twelve columns, served by
gunicorn with the service's workers and worker class. Nothing the service does can be faster;
each scenario is reported as a fraction of this."""

from __future__ import annotations

from flask import Flask, Response, jsonify

ROW = {
    "id": 1234,
    "agreement_id": 12,
    "parent_id": 1230,
    "kind": "commitment",
    "ref": "3.2",
    "title": "Commitment 3.2 of agreement 12",
    "due_date": "2027-04",
    "due_date_precision": "month",
    "weight": 1.0,
    "current_status": "advanced",
    "current_progress": 60.0,
    "updated_at": "2026-11-25T10:00:00+00:00",
}

app = Flask(__name__)


@app.get("/one")
def one() -> Response:
    return jsonify(ROW)
