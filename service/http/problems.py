"""The one place where domain errors (service/core/errors.py) and every HTTP error become
problem+json (RFC 9457): `register_error_handlers` maps each to a status and a body. No
stack trace ever reaches a client."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, json, request
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from service.core.errors import (
    AtCapacity,
    BadRequest,
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    flatten_errors,
)

log = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Relative problem types: documented in the README, stable across deployments.
PROBLEM_TYPE_BASE = "/problems/"
# A problem lists at most this many messages (and as many row errors): a request with
# many bad items must not earn an answer many times its own size. Its detail says how many
# problems there were in all.
MAX_REPORTED_ERRORS = 100


_STATUS_BY_ERROR: dict[type[DomainError], int] = {
    NotFound: 404,
    Conflict: 409,
    PreconditionFailed: 412,
    InvalidInput: 422,
    BadRequest: 400,
    AtCapacity: 503,
}

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

_TYPE_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    412: "precondition-failed",
    413: "content-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "too-many-requests",
    500: "internal-error",
    503: "service-unavailable",
}


def problem_type(status: int) -> str:
    """The problem type of an answer with this status (a problem's `type`)."""
    return PROBLEM_TYPE_BASE + _TYPE_SLUGS.get(status, str(status))


def problem_response(
    status: int,
    detail: str,
    *,
    errors: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> Response:
    listed, total = _capped(errors or {})
    members = dict(extensions or {})
    row_errors = members.get("row_errors")
    if isinstance(row_errors, list):
        total = max(total, len(row_errors))
        members["row_errors"] = row_errors[:MAX_REPORTED_ERRORS]
    if total > MAX_REPORTED_ERRORS:
        detail += f" Only the first {MAX_REPORTED_ERRORS} of {total} problems are listed."
    body: dict[str, Any] = {
        "type": problem_type(status),
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.path,
        "request_id": g.get("request_id", ""),
    }
    if listed:
        body["errors"] = listed
    body.update(members)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _capped(errors: Mapping[str, list[str]]) -> tuple[dict[str, list[str]], int]:
    """The first MAX_REPORTED_ERRORS messages, by field, and the number of messages in all."""
    kept: dict[str, list[str]] = {}
    room, total = MAX_REPORTED_ERRORS, 0
    for field_name, messages in errors.items():
        total += len(messages)
        if room > 0:
            kept[field_name] = list(messages[:room])
            room -= len(kept[field_name])
    return kept, total


def _detail_for_validation(errors: Mapping[str, list[str]]) -> str:
    fields = ", ".join(sorted(_capped(errors)[0]))
    return f"The request is invalid: see {fields}." if fields else "The request is invalid."


def handle_domain_error(error: DomainError) -> Response:
    status = next((code for kind, code in _STATUS_BY_ERROR.items() if isinstance(error, kind)), 400)
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, AtCapacity) else None
    return problem_response(
        status, error.detail, errors=error.errors, extensions=error.extensions, headers=headers
    )


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    headers = dict(data.get("headers") or {})
    # werkzeug's 405 carries an Allow header that a client needs.
    for name, value in error.get_headers():
        if name.lower() == "allow":
            headers["Allow"] = value
    messages = data.get("messages") or data.get("errors")
    if messages:
        # webargs nests messages by location ({"json": {...}, "query": {...}}).
        if isinstance(messages, Mapping) and set(messages) <= {"json", "query", "headers"}:
            merged: dict[str, Any] = {}
            for location_messages in messages.values():
                if isinstance(location_messages, Mapping):
                    merged.update(location_messages)
                else:
                    merged.setdefault("_schema", []).extend(location_messages)
            messages = merged
        errors = flatten_errors(messages)
        return problem_response(
            status, _detail_for_validation(errors), errors=errors, headers=headers
        )
    detail = data.get("message") or error.description or _TITLES.get(status, "Error")
    return problem_response(status, str(detail), headers=headers)


def handle_database_unavailable(error: Exception) -> Response:
    # Lost connections, a database that is down or restarting, a lock not granted in time:
    # the request did not happen, and a retry may succeed.
    log.warning(
        "database unavailable on %s %s: %s", request.method, request.path, type(error).__name__
    )
    return problem_response(
        503,
        "The database is unavailable or busy; nothing was changed. Retry shortly.",
        headers={"Retry-After": "2"},
    )


def handle_unstorable_value(error: Exception) -> Response:
    # Validation should have caught it; if a value still reaches the database in a form it
    # refuses, the client hears about its input, not about a server fault.
    # Only the kind of refusal: the statement's parameters are the client's data.
    reason = type(getattr(error, "orig", error)).__name__
    log.warning("database refused a value on %s %s: %s", request.method, request.path, reason)
    return problem_response(400, "A value in the request cannot be stored as given.")


def traceback_without_values(error: BaseException) -> str:
    """The exception and those it was raised from, each with its frames and type, but not
    its message: a message can quote the request (a database error's statement parameters
    or DETAIL, `int()`'s argument). The frames say where; the request log line, which."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        cause = current.__cause__
        current = (
            cause if cause is not None or current.__suppress_context__ else current.__context__
        )
    parts = []
    for raised in reversed(chain):
        kind = f"{type(raised).__module__}.{type(raised).__qualname__}"
        sqlstate = getattr(getattr(raised, "orig", raised), "sqlstate", None)
        frames = "".join(traceback.format_tb(raised.__traceback__))
        parts.append(
            f"Traceback (most recent call last):\n{frames}{kind}"
            + (f" (SQLSTATE {sqlstate})" if isinstance(sqlstate, str) else "")
        )
    return "\n\nwhich led to:\n\n".join(parts)


def handle_unexpected_error(error: Exception) -> Response:
    log.error(
        "unhandled error on %s %s\n%s",
        request.method,
        request.path,
        traceback_without_values(error),
    )
    return problem_response(500, "The server failed to handle this request; it has been logged.")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(OperationalError, handle_database_unavailable)
    # No connection free in the pool within its timeout: as unavailable as a database down.
    app.register_error_handler(PoolTimeout, handle_database_unavailable)
    app.register_error_handler(DataError, handle_unstorable_value)
    app.register_error_handler(Exception, handle_unexpected_error)
