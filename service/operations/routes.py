"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from service.http.problems import problem_response

blp = Blueprint("operations", __name__)


@blp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """The process is up (it does not touch the database)."""
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """The database answers: the instance can take traffic. A pooled connection that a
    database restart broke fails once, and SQLAlchemy then discards the pool's connections
    from before the failure: the check asks again on a new one before it says no, or a
    worker that served nothing since the database came back would answer 503."""
    engine = current_app.extensions["database"].engine
    for attempt in range(2):
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return jsonify(status="ready")
        except DBAPIError as error:
            if error.connection_invalidated and attempt == 0:
                continue
            break
        except SQLAlchemyError:
            break
    current_app.logger.warning("readiness check: database unreachable")
    return problem_response(503, "The database is not reachable.", headers={"Retry-After": "5"})
