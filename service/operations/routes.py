"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from service.errors import problem_response

blp = Blueprint("operations", __name__)


@blp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """The process is up (it does not touch the database)."""
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """The database answers: the instance can take traffic."""
    try:
        with current_app.extensions["database"].engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        current_app.logger.warning("readiness check: database unreachable")
        return problem_response(503, "The database is not reachable.", headers={"Retry-After": "5"})
    return jsonify(status="ready")
