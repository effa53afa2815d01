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

from service.core.errors import InvalidInput
from service.http.problems import problem_response
from service.idempotency import services
from service.idempotency.models import IdempotencyKey
from service.idempotency.services import ClaimOutcome

HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
KEY_PATTERN = re.compile(IDEMPOTENCY_KEY_PATTERN)
# The headers of the first response that a replay repeats (ETag is recomputed from the body).
REPLAYED_HEADERS = ("Content-Type", "Location")


def _canonical(body: bytes) -> bytes:
    """A JSON body as a document (its spacing and key order aside); any other, such as an
    imported file, as its bytes. Only the hash of either is kept, never the body."""
    if not request.is_json:
        return body
    try:
        return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        return body


def _fingerprint() -> str:
    target = request.path.encode()
    # The query is part of the request (an import's dry run is not the import).
    if request.query_string:
        target += b"?" + request.query_string
    canonical = _canonical(request.get_data(cache=True))
    return hashlib.sha256(b"%s %s\n%s" % (request.method.encode(), target, canonical)).hexdigest()


def _scope() -> str:
    # Keys belong to the client that sent them; before API keys, all clients share one scope.
    return str(g.get("actor_id") or "")


def without(body: bytes, fields: tuple[str, ...]) -> bytes:
    """A JSON body with these members left out."""
    document = json.loads(body)
    for field in fields:
        document.pop(field, None)
    return json.dumps(document, separators=(",", ":")).encode()


def shown_once_refusal(record: IdempotencyKey, fields: tuple[str, ...]) -> Response:
    """The answer to a replay of a create whose response held a secret: the secret was not
    kept, so the replay cannot repeat it; it says where the record made is instead."""
    location = (record.response_headers or {}).get("Location")
    names = ", ".join(fields)
    message = (
        f"The first request with this key succeeded; its answer held a secret ({names}) that "
        "is shown only once and is not kept."
    )
    return problem_response(
        409,
        message + " The record it made is at Location: if the secret was lost, delete that "
        "record and make a new one.",
        errors={HEADER: [message]},
        headers={"Idempotent-Replayed": "true", **({"Location": location} if location else {})},
    )


def idempotent(view: Callable[..., Any], *, shown_once: tuple[str, ...] = ()) -> Callable[..., Any]:
    """Wrap a create view so that it honours Idempotency-Key. `shown_once`: members of the
    response that are secrets (a new API key). They are never stored: the replay of such a
    create is a 409 that says where the record is, not the first response again."""

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
            if shown_once:
                return shown_once_refusal(claim.record, shown_once)
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
                    body=without(response.get_data(), shown_once)
                    if shown_once
                    else response.get_data(),
                )
            else:
                services.release(session, scope=scope, key=key)
        return response

    return wrapper
