"""Policy Tracker: agreements, their commitments, and how far each is implemented."""

from __future__ import annotations

import logging
import uuid

from flask import Flask, Response, g, request

from service.config import Settings

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
JSON_MIMETYPES = {"application/json", "application/merge-patch+json"}


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app: config → database → API → blueprints → error handlers."""
    from service.api import apply_etag, make_api, remove_session
    from service.changes.services import install_change_recording
    from service.cli import register_commands
    from service.db import Database
    from service.errors import problem_response, register_error_handlers

    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        DEFAULT_PAGE_SIZE=settings.default_page_size,
        MAX_PAGE_SIZE=settings.max_page_size,
        IDEMPOTENCY_TTL_SECONDS=settings.idempotency_ttl_hours * 3600,
        DOCS_ENABLED=settings.docs_enabled,
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
            }
        },
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
    app.extensions["settings"] = settings

    database = Database(settings.database_url, statement_timeout_ms=settings.statement_timeout_ms)
    install_change_recording(database.session_factory)
    app.extensions["database"] = database

    api = make_api()
    api.init_app(app)
    for blueprint in _api_blueprints():
        api.register_blueprint(blueprint)
    from service.docs.routes import blp as docs_blp
    from service.operations.routes import blp as operations_blp

    app.register_blueprint(operations_blp)
    app.register_blueprint(docs_blp)

    @app.before_request
    def start_request() -> Response | None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = (
            incoming if 0 < len(incoming) <= 100 and incoming.isprintable() else uuid.uuid4().hex
        )
        # Only for a route that takes this method: any other gets its 404 or 405 first.
        if request.method in ("POST", "PATCH", "PUT") and request.routing_exception is None:
            has_body = bool(request.content_length) or bool(request.get_data(cache=True))
            if not has_body:
                return problem_response(400, "Send a JSON object as the request body.")
            if request.mimetype not in JSON_MIMETYPES:
                return problem_response(415, "Send the body as application/json.")
        return None

    @app.after_request
    def finish_request(response):  # type: ignore[no-untyped-def]
        response = apply_etag(response)
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    app.teardown_appcontext(remove_session)
    register_error_handlers(app)
    register_commands(app)
    return app


def _api_blueprints() -> list[object]:
    """Only create_app imports the routes: the rest of the code never depends on them."""
    from service.agreements import routes as agreements
    from service.changes import routes as changes
    from service.commitments import routes as commitments
    from service.meetings import routes as meetings
    from service.organizations import routes as organizations
    from service.people import routes as people
    from service.sources import routes as sources
    from service.themes import routes as themes

    return [
        agreements.blp,
        agreements.events_blp,
        agreements.participants_blp,
        agreements.relations_blp,
        commitments.blp,
        commitments.actors_blp,
        commitments.assessments_blp,
        meetings.series_blp,
        meetings.blp,
        meetings.participants_blp,
        organizations.blp,
        organizations.posts_blp,
        people.blp,
        people.memberships_blp,
        sources.blp,
        sources.citations_blp,
        themes.blp,
        changes.blp,
    ]
