"""The app factory: `create_app` builds the Flask app from the settings (config → database →
API → blueprints → error handlers) and installs the request cycle's hooks. It is the top of
the import graph: it imports every layer, and nothing imports it but the entry points
(service/__init__.py, wsgi, the tests, the benchmark)."""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid

from flask import Flask, Request, Response, current_app, g, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from service import speedups
from service.agreements import routes as agreements_routes
from service.assessments import routes as assessments_routes
from service.auth import routes as auth_routes
from service.auth.http import authenticate_request, authorize_request
from service.changes import routes as changes_routes
from service.changes.recording import install_change_recording
from service.changes.routes import LongPollGate
from service.changes.services import HeadWatcher, read_head
from service.cli import register_commands
from service.commitments import routes as commitments_routes
from service.core.config import Settings
from service.core.db import Database
from service.dashboard.routes import blp as dashboard_blp
from service.docs.routes import blp as docs_blp
from service.exchange import routes as exchange_routes
from service.http import observability
from service.http.api import answer_is_finished, apply_etag, make_api, remove_session
from service.http.browser import add_safety_headers, preflight
from service.http.headers import refuse_malformed_conditions
from service.http.problems import problem_response, register_error_handlers
from service.http.ratelimit import make_limiter
from service.http.resources import BEARER, KEY_OPTIONAL
from service.indicators import routes as indicators_routes
from service.jobs import routes as jobs_routes
from service.jobs.services import JobSettings, count_jobs
from service.meetings import routes as meetings_routes
from service.operations.routes import blp as operations_blp
from service.organizations import routes as organizations_routes
from service.people import routes as people_routes
from service.sources import routes as sources_routes
from service.stats import routes as stats_routes
from service.themes import routes as themes_routes
from service.webhooks import routes as webhooks_routes
from service.webhooks.services import DeliverySettings

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
# What a client's X-Request-ID may be: it goes into logs and the audit trail as is. Any
# other is replaced by the service's own id.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,100}")
JSON_MIMETYPES = {"application/json", "application/merge-patch+json"}


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app: config → database → API → blueprints → error handlers."""

    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        DEFAULT_PAGE_SIZE=settings.default_page_size,
        MAX_PAGE_SIZE=settings.max_page_size,
        IDEMPOTENCY_TTL_SECONDS=settings.idempotency_ttl_hours * 3600,
        DOCS_ENABLED=settings.docs_enabled,
        MAX_IMPORT_BYTES=settings.max_import_bytes,
        PUBLIC_READ=settings.public_read,
        CORS_ORIGINS=frozenset(settings.cors_origins),
        PUBLIC_BASE_URL=settings.public_base_url,
        TESTING=settings.testing,
        DEBUG=settings.debug,
        API_TITLE="Policy Tracker",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        API_SPEC_OPTIONS={
            "info": {
                "description": (
                    "International agreements, the commitments they make, and how far each "
                    "commitment has been implemented, with the evidence behind every judgement."
                )
            },
            "security": KEY_OPTIONAL,
        },
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
    app.extensions["settings"] = settings
    app.session_interface = NoCookieSessions()

    database = Database(settings.database_url, statement_timeout_ms=settings.statement_timeout_ms)
    install_change_recording(database.session_factory)
    app.extensions["database"] = database

    app.extensions["rate_limiter"] = make_limiter(settings.redis_url)
    app.extensions["long_polls"] = LongPollGate(settings.long_polls_per_process)
    app.extensions["change_feed_head"] = HeadWatcher(lambda: read_head(database.engine))
    app.extensions["webhook_settings"] = DeliverySettings(
        max_attempts=settings.webhook_max_attempts,
        backoff_base_seconds=settings.webhook_backoff_seconds,
        allow_private_targets=settings.webhook_allow_private_targets,
    )
    app.extensions["job_settings"] = JobSettings(
        lease_seconds=settings.job_lease_seconds, max_attempts=settings.job_max_attempts
    )
    if settings.trusted_proxy_hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxy_hops, x_proto=settings.trusted_proxy_hops
        )

    api = make_api()
    api.init_app(app)
    api.spec.components.security_scheme(
        BEARER,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key: `Authorization: Bearer pt_...`.",
        },
    )
    for blueprint in _api_blueprints():
        api.register_blueprint(blueprint)

    app.register_blueprint(operations_blp)
    app.register_blueprint(docs_blp)
    app.register_blueprint(dashboard_blp)

    def jobs_by_kind_and_state() -> dict[tuple[str, ...], float]:
        with database.session_factory() as session:
            return count_jobs(session)

    observability.install(
        app,
        database_gauges=[
            (
                "policy_tracker_jobs",
                "Background jobs in the database, by kind and state (queued: the queue's "
                "depth; failed: every failure, whichever worker ran it).",
                ("kind", "state"),
                jobs_by_kind_and_state,
            )
        ],
    )

    @app.before_request
    def start_request() -> Response | None:
        observability.start_request_timer()
        # The service's own id, always; the client's id, when it sends a well-formed one, is
        # what the request goes by (echoed, logged, in problems and the change feed) beside it.
        g.service_request_id = uuid.uuid4().hex
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if REQUEST_ID_PATTERN.fullmatch(incoming) else g.service_request_id
        if not request.path.startswith("/api/"):
            return None
        return (
            preflight() or guard_request(settings) or refuse_malformed_conditions() or check_body()
        )

    # After-request hooks run in the reverse order of their registration: this one last.
    @app.after_request
    def finish_request(response: Response) -> Response:
        # add, not set: nothing else sets it, and set would look through every header.
        response.headers.add(REQUEST_ID_HEADER, g.get("request_id", ""))
        return observability.record_request(response)

    # Between the checks above and the finishing below: the read cache answers only a
    # caller let through, and keeps an answer once it is finished.
    speedups.install(app, settings, database)

    @app.after_request
    def finish_answer(response: Response) -> Response:
        # An answer given finished (from the read cache) has its ETag and safety headers
        # already; unless it is a conditional request, which may become a 304 of its own.
        if not answer_is_finished() or "If-None-Match" in request.headers:
            response = add_safety_headers(apply_etag(response))
        return response

    app.teardown_appcontext(remove_session)
    register_error_handlers(app)
    register_commands(app)
    return app


class NoCookieSessions(SecureCookieSessionInterface):
    """The service keeps no state in cookies: Flask's session is never opened, which spares
    every request a signing serializer (bench/notes.md, the row of `08543e4`)."""

    def open_session(self, app: Flask, request: Request) -> None:
        return None


def guard_request(settings: Settings) -> Response | None:
    """Who is calling, whether they are within their budget, and whether they may."""

    refusal = authenticate_request()
    caller = g.get("caller")
    limit = settings.rate_limit_per_minute if caller else settings.anonymous_rate_limit_per_minute
    if limit:
        client = f"key:{caller.key_id}" if caller else f"addr:{request.remote_addr}"
        verdict = current_app.extensions["rate_limiter"].check(client, limit)
        if not verdict.allowed:
            return problem_response(
                429,
                f"Over the limit of {limit} requests a minute; retry after the pause.",
                headers={"Retry-After": str(verdict.retry_after)},
            )
    return refusal or authorize_request()


def check_body() -> Response | None:
    """A write's body must be there, be of a type the operation takes (JSON, unless it says
    otherwise), and, when JSON, parse without exhausting the stack and hold no number too
    long for Python to read."""

    # Only for a route that takes this method: any other gets its 404 or 405 first.
    if request.method not in ("POST", "PATCH", "PUT") or request.routing_exception is not None:
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    accepted = getattr(view, "accepted_media_types", JSON_MIMETYPES)
    limit_setting = getattr(view, "max_body_bytes", None)
    if limit_setting is not None:
        # Set before the body is read: a bulk file may be larger than a JSON body.
        request.max_content_length = current_app.config[limit_setting]
    body = request.get_data(cache=True)
    # An empty file is still a file: its import answers for it (no header: a 422 naming the
    # missing columns). An empty JSON body is no body at all.
    if not body and accepted is JSON_MIMETYPES:
        return problem_response(400, "Send the request body.")
    if request.mimetype not in accepted:
        return problem_response(415, f"Send the body as {' or '.join(sorted(accepted))}.")
    if accepted is not JSON_MIMETYPES:
        return None
    try:
        json.loads(body)
    except RecursionError:
        return problem_response(400, "The JSON body is nested too deeply.")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None  # webargs answers malformed JSON with its own 400
    except ValueError:
        # Well-formed JSON that Python will not read: an integer of more digits than int()
        # converts (sys.get_int_max_str_digits), which webargs would let through as a 500.
        field = _overlong_integer_field(body)
        message = f"Must be a number of at most {sys.get_int_max_str_digits()} digits."
        detail = "The JSON body holds a number too long to read"
        detail += "." if field == "_schema" else f": see {field}."
        return problem_response(400, detail, errors={field: [message]})
    return None


class _OverlongInteger:
    pass


def _overlong_integer_field(body: bytes) -> str:
    """Where the body holds an integer too long to convert, as the problem's `errors` name a
    field ("source_ids.0"); `_schema` when the body itself is that number."""
    overlong = _OverlongInteger()

    def integer(text: str) -> int | _OverlongInteger:
        try:
            return int(text)
        except ValueError:
            return overlong

    try:
        document = json.loads(body, parse_int=integer)
    except RecursionError:
        return "_schema"  # nested too deeply as well, past the number
    # Walked with a stack, not by recursion: the body may be nested as deep as json allows.
    pending: list[tuple[str, object]] = [("", document)]
    while pending:
        path, value = pending.pop()
        if value is overlong:
            return path or "_schema"
        if isinstance(value, dict):
            members: list[tuple[object, object]] = list(value.items())
        elif isinstance(value, list):
            members = list(enumerate(value))
        else:
            continue
        for key, item in reversed(members):
            pending.append((f"{path}.{key}" if path else str(key), item))
    return "_schema"


def _api_blueprints() -> list[object]:
    """Every resource's blueprints: only the app factory imports the routes (the import
    contracts hold the rest of the code to it)."""
    return [
        agreements_routes.blp,
        agreements_routes.events_blp,
        agreements_routes.participants_blp,
        agreements_routes.relations_blp,
        commitments_routes.blp,
        commitments_routes.actors_blp,
        indicators_routes.blp,
        assessments_routes.blp,
        meetings_routes.series_blp,
        meetings_routes.blp,
        meetings_routes.participants_blp,
        organizations_routes.blp,
        organizations_routes.posts_blp,
        people_routes.blp,
        people_routes.memberships_blp,
        sources_routes.blp,
        sources_routes.citations_blp,
        themes_routes.blp,
        changes_routes.blp,
        stats_routes.blp,
        exchange_routes.blp,
        jobs_routes.blp,
        webhooks_routes.blp,
        webhooks_routes.deliveries_blp,
        auth_routes.blp,
    ]
