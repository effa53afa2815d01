"""Who is calling, and whether they may: `Authorization: Bearer <key>` on /api/ requests,
and a role check on every operation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, current_app, g, request
from flask_smorest import abort

from service.auth import services
from service.auth.permissions import allows
from service.auth.services import Caller
from service.core.vocabularies import Role
from service.http.problems import problem_response

REALM = 'Bearer realm="policy-tracker"'


def unauthorized(detail: str, *, invalid_token: bool = False) -> Response:
    challenge = REALM + (', error="invalid_token"' if invalid_token else "")
    return problem_response(401, detail, headers={"WWW-Authenticate": challenge})


def authenticate_request() -> Response | None:
    """Before each API request: resolve the bearer key, if one is sent, to its caller; the
    401 for a bad key is returned, for the caller to send once the request is counted.

    A key that is sent must be good, even on a public read: a client with a revoked key is
    told so rather than served as anonymous.
    """
    g.caller = None
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return unauthorized(
            "Send the API key as `Authorization: Bearer <key>`.", invalid_token=True
        )
    database = current_app.extensions["database"]
    with database.session_factory() as session:
        caller = services.authenticate(
            session,
            key.strip(),
            read_stored_key=current_app.extensions.get(services.STORED_KEY_READER),
        )
    if caller is None:
        return unauthorized("The API key is unknown or revoked.", invalid_token=True)
    g.caller = caller
    g.actor, g.actor_id = caller.name, caller.key_id
    return None


def current_caller() -> Caller | None:
    caller: Caller | None = g.get("caller")
    return caller


_UNMARKED = object()
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def require(role: Role | None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a view with the least role that may call it: `None` for a read (public unless
    PUBLIC_READ is off). `authorize_request` enforces it before the view, or its body, runs."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        view.required_role = role  # type: ignore[attr-defined]
        return view

    return decorator


def authorize_request() -> Response | None:
    """Before each API request, after `authenticate_request`: refuse a caller who lacks the
    operation's role (401 without a key, 403 with too weak a key). A route that no one
    marked is treated as a write: forgetting a mark can never open a route."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None:
        return None  # no such route: its 404 or 405 follows
    marked = getattr(view, "required_role", _UNMARKED)
    role: Role | None
    if marked is _UNMARKED:
        role = None if request.method in READ_METHODS else Role.EDITOR
    else:
        role = marked  # type: ignore[assignment]
    needed = role or (None if current_app.config["PUBLIC_READ"] else Role.READER)
    if needed is None:
        return None
    caller = current_caller()
    if caller is None:
        return unauthorized("This operation needs an API key.")
    if not caller.can(needed):
        return problem_response(403, f"This operation needs the {needed.value} role.")
    return None


def caller_role() -> Role | None:
    """The role of the request's caller; None without a key."""
    caller = current_caller()
    return caller.role if caller is not None else None


def refuse_unless(needed: Role | None, what: str) -> None:
    """Inside a view, for a request whose parameters ask for more than its operation's role
    (the change feed filtered to API keys): stop a caller who lacks `needed` with the 401 or
    403 that `authorize_request` gives, `what` naming what was asked for."""
    if allows(caller_role(), needed):
        return
    assert needed is not None
    if current_caller() is None:
        abort(401, message=f"{what} needs an API key.", headers={"WWW-Authenticate": REALM})
    abort(403, message=f"{what} needs the {needed.value} role.")
