"""The Idempotency-Key header on POST: a retried create returns the first response instead
of creating a second record."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from flask import Response, current_app, g, make_response, request

from service.errors import InvalidInput, problem_response
from service.idempotency import services
from service.idempotency.services import ClaimOutcome

HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
KEY_PATTERN = re.compile(IDEMPOTENCY_KEY_PATTERN)
# The headers of the first response that a replay repeats (ETag is recomputed from the body).
REPLAYED_HEADERS = ("Content-Type", "Location")


def _fingerprint() -> str:
    body = request.get_data(cache=True)
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(
        b"%s %s\n%s" % (request.method.encode(), request.path.encode(), canonical)
    ).hexdigest()


def _scope() -> str:
    # Keys belong to the client that sent them; before API keys, all clients share one scope.
    return str(g.get("actor_id") or "")


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a create view so that it honours Idempotency-Key."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not KEY_PATTERN.match(key):
            message = "Must be 1 to 255 visible ASCII characters, such as a UUID."
            return problem_response(400, f"{HEADER} is malformed.", errors={HEADER: [message]})
        database = current_app.extensions["database"]
        scope, ttl = _scope(), timedelta(seconds=current_app.config["IDEMPOTENCY_TTL_SECONDS"])
        with database.session_factory() as session:
            claim = services.claim(
                session, scope=scope, key=key, fingerprint=_fingerprint(), ttl=ttl
            )
        if claim.outcome is ClaimOutcome.MISMATCH:
            message = (
                "This key was already used with another request; use a new key for a new request."
            )
            raise InvalidInput(message, errors={HEADER: [message]})
        if claim.outcome is ClaimOutcome.IN_PROGRESS:
            return problem_response(
                409,
                "A request with this Idempotency-Key is still being processed; retry shortly.",
                errors={HEADER: ["In progress."]},
                headers={"Retry-After": "1"},
            )
        if claim.outcome is ClaimOutcome.REPLAY:
            assert claim.record is not None
            replay = Response(
                claim.record.response_body,
                status=claim.record.response_status,
                headers=claim.record.response_headers or {},
            )
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        try:
            response = make_response(view(*args, **kwargs))
        except BaseException:
            with database.session_factory() as session:
                services.release(session, scope=scope, key=key)
            raise
        with database.session_factory() as session:
            if 200 <= response.status_code < 300:
                headers = {
                    name: response.headers[name]
                    for name in REPLAYED_HEADERS
                    if name in response.headers
                }
                services.complete(
                    session,
                    scope=scope,
                    key=key,
                    status=response.status_code,
                    headers=headers,
                    body=response.get_data(),
                )
            else:
                services.release(session, scope=scope, key=key)
        return response

    return wrapper
