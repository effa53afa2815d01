"""The references every figure is read against, served by gunicorn with the service's workers
and worker class.

- The ceiling, `GET /one`: a bare Flask route returning a fixed row of about twelve columns.
  Nothing the service does can be faster; each scenario is reported as a fraction of this.
- The bare write, `POST /write/<commitment_id>`: the least a durable write costs in this
  stack. The JSON body is read, one `INSERT ... RETURNING` goes through SQLAlchemy Core to a
  table with no index but its key, the transaction commits and the row is answered. No
  validation, no key, no lock, no derived value, no change event: a create of the service
  does all that and more, so it cannot be faster than this.
"""

from __future__ import annotations

import functools
import os
from datetime import UTC, datetime

from flask import Flask, Response, jsonify, request
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
)

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

# Where the bare write writes: the benchmark's own database, named by the one who serves it.
DATABASE_URL_VARIABLE = "BARE_WRITE_DATABASE_URL"

BARE_WRITES = Table(
    "bench_bare_writes",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("commitment_id", Integer, nullable=False),
    Column("status", String(32), nullable=False),
    Column("as_of", String(16), nullable=False),
    Column("assessor_kind", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
_INSERT = insert(BARE_WRITES).returning(*BARE_WRITES.c)

app = Flask(__name__)


@app.get("/one")
def one() -> Response:
    return jsonify(ROW)


@app.post("/write/<int:commitment_id>")
def write(commitment_id: int) -> tuple[Response, int]:
    body = request.get_json()
    values = {name: body[name] for name in ("status", "as_of", "assessor_kind")}
    with _engine().begin() as connection:
        row = connection.execute(
            _INSERT, {"commitment_id": commitment_id, "created_at": datetime.now(UTC), **values}
        ).one()
    return jsonify(row._asdict()), 201


@functools.cache
def _engine() -> Engine:
    # Made in the worker on its first write, so that each worker has a pool of its own.
    return create_engine(os.environ[DATABASE_URL_VARIABLE])


def prepare_bare_writes(database_url: str) -> None:
    """An empty table for the bare write, made before its workers start (two workers making
    it at once would race)."""
    engine = create_engine(database_url)
    with engine.begin() as connection:
        BARE_WRITES.drop(connection, checkfirst=True)
        BARE_WRITES.create(connection)
    engine.dispose()
