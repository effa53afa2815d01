"""The HTTP layer's shared parts: the Api object, the request's session, cursor pagination and
ETags. Resource routes build on these; the schemas they use build on service/schemas.py."""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import marshmallow as ma
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from flask import Flask, Response, current_app, g, jsonify, request
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.utils import prepare_response
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from webargs.flaskparser import FlaskParser
from werkzeug.http import parse_etags

from service.core.db import WRITE_TRANSACTION, Database, read_in_autocommit
from service.core.errors import BadRequest, PreconditionFailed
from service.core.pagination import Page, PageRequest
from service.http.problems import PROBLEM_CONTENT_TYPE, problem_type
from service.schemas import (
    OneOfSchema,
    PartialDateField,
    PartialSchema,
    ProblemSchema,
    ShownField,
    ValueOrChange,
    every_shown_field,
)

log = logging.getLogger(__name__)

# --- the request's database session -------------------------------------------------------


def get_session() -> Session:
    """The session of the current request, created on first use and removed at teardown."""
    session: Session | None = g.get("db_session")
    if session is None:
        database: Database = current_app.extensions["database"]
        session = database.session_factory()
        session.info["request_id"] = g.get("request_id")
        session.info["service_request_id"] = g.get("service_request_id")
        session.info["actor"] = g.get("actor")
        session.info["actor_key_id"] = g.get("actor_id")
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            session.connection(execution_options={WRITE_TRANSACTION: True})
        else:
            # A read sends no BEGIN and no ROLLBACK: two round trips of the four a simple
            # GET made (docs/benchmarks.md).
            read_in_autocommit(session)
        g.db_session = session
    return session


def remove_session(_error: BaseException | None = None) -> None:
    # Closing rolls back whatever was not committed: an exception never leaves a half-write.
    session: Session | None = g.pop("db_session", None)
    if session is None:
        return
    try:
        session.close()
    except DBAPIError as error:
        # The database went away under the request, so even the rollback fails. Nothing was
        # committed on that connection and the answer (a 503) is already chosen: an error
        # raised here would replace it with the server's bare HTML 500. The connection is
        # thrown away, not returned to the pool.
        log.warning("a session's connection was lost before it closed: %s", type(error).__name__)
        session.invalidate()


# --- pagination ----------------------------------------------------------------------------


def _token_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="page-token")


# Parameters that shape how a list answers, not what it holds: a page token ignores them.
NOT_FILTERS = frozenset({"wait"})


def _query_fingerprint(filters: Mapping[str, Any]) -> str:
    canonical = repr(
        sorted((key, str(value)) for key, value in filters.items() if key not in NOT_FILTERS)
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def page_request(query: dict[str, Any]) -> tuple[PageRequest, dict[str, Any]]:
    """Split parsed query arguments into the page asked for and the filters.

    The token is signed and bound to the filters, so it cannot be forged or reused on
    another query.
    """
    filters = {k: v for k, v in query.items() if k not in {"page_size", "page_token"}}
    size = query.get("page_size") or current_app.config["DEFAULT_PAGE_SIZE"]
    size = min(size, current_app.config["MAX_PAGE_SIZE"])
    after: Any = None
    token = query.get("page_token")
    if token:
        try:
            payload = _token_serializer().loads(token)
        except BadSignature as error:
            raise BadRequest(
                "page_token is not a token this service issued.",
                errors={"page_token": ["Invalid or tampered token."]},
            ) from error
        if not isinstance(payload, dict) or payload.get("f") != _query_fingerprint(filters):
            raise BadRequest(
                "page_token belongs to another query.",
                errors={"page_token": ["Use the token with the same filters that produced it."]},
            )
        after = payload.get("a")
    return PageRequest(after=after, size=size), filters


def page_response(
    page: Page[Any], filters: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The page body, and an RFC 8288 `Link` header to the next page when there is one."""
    token = None
    headers: dict[str, str] = {}
    if page.next_key is not None:
        token = _token_serializer().dumps({"a": page.next_key, "f": _query_fingerprint(filters)})
        args = request.args.copy()
        args["page_token"] = token
        query = "&".join(
            f"{quote(key)}={quote(str(value))}" for key, values in args.lists() for value in values
        )
        # Never from the Host header, which the client chose: relative (RFC 8288 allows
        # it) unless PUBLIC_BASE_URL says where the service is.
        base = current_app.config["PUBLIC_BASE_URL"] or quote(request.script_root)
        headers["Link"] = f'<{base}{quote(request.path)}?{query}>; rel="next"'
    return {"items": page.items, "next_page_token": token}, headers


# --- ETags ---------------------------------------------------------------------------------


def etag_of_body(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def if_match_check(schema: ma.Schema) -> Callable[[Any], None]:
    """A check that services run on the locked record before changing it: the client's
    `If-Match`, if sent, must name the representation it would GET now. A malformed value
    names nothing, so it never matches (412)."""
    header = request.headers.get("If-Match")

    def check(record: Any) -> None:
        if header is None:
            return
        expected = parse_etags(header)
        if expected.star_tag:
            return
        current = etag_of_body(jsonify(schema.dump(record)).get_data())
        if not expected.contains(current):
            raise PreconditionFailed(
                "The record changed since you read it: GET it again and retry with its ETag."
            )

    return check


def apply_etag(response: Response) -> Response:
    """Give each successful JSON representation a strong ETag; answer a matching
    `If-None-Match` on GET with 304."""
    if response.status_code not in (200, 201) or response.mimetype != "application/json":
        return response
    if response.direct_passthrough or request.method not in ("GET", "HEAD", "POST", "PATCH"):
        return response
    if "ETag" not in response.headers:  # an answer from the read cache brings its own
        response.set_etag(etag_of_body(response.get_data()))
    if request.method in ("GET", "HEAD") and request.if_none_match:
        tag, _weak = response.get_etag()
        if tag and request.if_none_match.contains_weak(tag):
            not_modified = Response(status=304)
            not_modified.set_etag(tag)
            return not_modified
    return response


# --- what a speed-up may rely on (service/speedups) ------------------------------------------


def cacheable(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view whose 200 answer depends on nothing but the URL, today's date, the data,
    and whether a key and which Origin were sent: such an answer may be kept and given again
    while the data has not changed (service/speedups/readcache.py)."""
    view.cacheable = True  # type: ignore[attr-defined]
    return view


def is_cacheable(view: Callable[..., Any] | None) -> bool:
    return bool(getattr(view, "cacheable", False))


def mark_answer_finished() -> None:
    """The answer was given finished (from the read cache), its ETag and safety headers
    already on: the after-request hook leaves it as it is."""
    g.answer_is_finished = True


def answer_is_finished() -> bool:
    return bool(g.get("answer_is_finished"))


# --- the Api object ---------------------------------------------------------------------------


class ContractConverter(OpenAPIConverter):
    """Registers every enum once as a named component and refers to it by `$ref`; a nested
    schema that may be null is `allOf: [$ref]` with `nullable` (apispec's own `anyOf` with a
    bare nullable object reads to SDK generators as an untyped dict). An update (PATCH)
    states no defaults: it changes only the fields it is sent, and a generated client sends
    every field that has a default (an update of a title would reset a section's kind)."""

    def schema2jsonschema(self, schema: type[ma.Schema] | ma.Schema) -> dict[str, Any]:
        schema_class = schema if isinstance(schema, type) else type(schema)
        if issubclass(schema_class, OneOfSchema):
            return self._one_of(schema_class)
        jsonschema: dict[str, Any] = super().schema2jsonschema(schema)  # type: ignore[no-untyped-call]
        if issubclass(schema_class, PartialSchema):
            for prop in jsonschema.get("properties", {}).values():
                prop.pop("default", None)
        return jsonschema

    def _one_of(self, schema_class: type[OneOfSchema]) -> dict[str, Any]:
        """`oneOf` the variants, each registered as a component, told apart by the
        discriminator's value."""
        refs = {
            value: self.resolve_nested_schema(variant)  # type: ignore[no-untyped-call]
            for value, variant in schema_class.variants().items()
        }
        return {
            "description": inspect.cleandoc(schema_class.__doc__ or ""),
            "oneOf": list(refs.values()),
            "discriminator": {
                "propertyName": schema_class.discriminator,
                "mapping": {value: ref["$ref"] for value, ref in refs.items()},
            },
        }

    def _value_or_change(self, field: ma.fields.Field[Any]) -> dict[str, Any]:
        """A field's value, or [old, new]. For a list, a list whose items are the values, or
        the two lists: a union of two lists is one that openapi-python-client's code cannot
        tell apart (mypy finds it calling a model's method on a list)."""
        if isinstance(field, ma.fields.List):
            value = self._value_type(field.inner)
            either = {"oneOf": [value, {"type": "array", "items": value}]}
            return {"type": "array", "items": either}
        value = self._value_type(field)
        return {"oneOf": [value, {"type": "array", "items": value, "minItems": 2, "maxItems": 2}]}

    def _value_type(self, field: ma.fields.Field[Any]) -> dict[str, Any]:
        """The JSON type of a field's values, plain: a generated client can tell each apart
        from a list of two of them, and from null."""
        prop: dict[str, Any]
        if isinstance(field, ma.fields.List):
            prop = {"type": "array", "items": self._value_type(field.inner)}
        elif isinstance(field, ma.fields.Nested):
            # An object, named but not typed: typescript-fetch imports a schema twice where
            # a union holds it and a list of it (tsc: "Duplicate identifier").
            name = self.schema_name_resolver(field.schema)
            prop = {"type": "object", "description": f"A {name}.", "additionalProperties": True}
        elif isinstance(field, ma.fields.Boolean):
            prop = {"type": "boolean"}
        elif isinstance(field, ma.fields.Integer):
            prop = {"type": "integer"}
        elif isinstance(field, ma.fields.Number):
            prop = {"type": "number"}
        else:
            prop = {"type": "string"}
        return {**prop, "nullable": True} if field.allow_none else prop

    def field2property(self, field: ma.fields.Field[Any]) -> dict[str, Any]:
        if isinstance(field, ValueOrChange):
            return self._value_or_change(field.field)
        prop: dict[str, Any] = super().field2property(field)
        if isinstance(field, ma.fields.Nested) and field.allow_none and "anyOf" in prop:
            [ref] = [choice for choice in prop.pop("anyOf") if "$ref" in choice]
            return {"allOf": [ref], "nullable": True, **prop}
        if any(isinstance(validator, ShownField) for validator in field.validators):
            description = (
                "A field of a record, as the API shows it: the fields a citation may name."
            )
            return self._enum_ref("RecordField", every_shown_field(), description, field, prop)
        if isinstance(field, ma.fields.Enum):
            values = [member.value for member in field.enum]
            return self._enum_ref(
                field.enum.__name__, values, field.enum.__doc__ or "", field, prop
            )
        return prop

    def _enum_ref(
        self,
        name: str,
        values: list[Any],
        doc: str,
        field: ma.fields.Field[Any],
        prop: dict[str, Any],
    ) -> dict[str, Any]:
        """The enum as a named component (registered once), referred to by `$ref`."""
        components = self.spec.components
        if name in components.schemas and components.schemas[name].get("enum") is None:
            raise ValueError(f"enum {name} collides with a schema of the same name")
        if name not in components.schemas:
            description = (doc or name).strip().splitlines()[0]
            components.schema(name, {"type": "string", "enum": values, "description": description})
        ref = {"$ref": f"#/components/schemas/{name}"}
        kept = ("default", "readOnly", "description")
        extras: dict[str, Any] = {key: prop[key] for key in kept if key in prop}
        if field.allow_none:
            extras["nullable"] = True
        return {"allOf": [ref], **extras} if extras else ref


class ContractPlugin(MarshmallowPlugin):
    Converter = ContractConverter


class StrictParser(FlaskParser):
    # Let each schema decide: ours refuse unknown fields and unknown query parameters.
    DEFAULT_UNKNOWN_BY_LOCATION: dict[str, str | None] = {}


class Blueprint(SmorestBlueprint):  # type: ignore[misc]
    ARGUMENTS_PARSER = StrictParser()

    def arguments(self, schema: type[ma.Schema] | ma.Schema, **kwargs: Any) -> Any:
        """As flask-smorest's, but a schema class parses with one instance: webargs would
        build an instance of it for every request, and marshmallow deep-copies each declared
        field to build one (a create built three, 76 µs; bench/notes.md). Our schemas keep
        no state between loads."""
        return super().arguments(
            shared_instance(schema) if isinstance(schema, type) else schema, **kwargs
        )


@functools.cache
def shared_instance(schema: type[ma.Schema]) -> ma.Schema:
    return schema()


# What each problem answer means, wherever an operation lists it: the rules no schema can
# state among them.
_PROBLEM_MEANINGS = {
    400: "A malformed request: a query parameter or header that breaks its schema, a page "
    "token this service did not issue or issued for other filters.",
    401: "No API key, or one that is unknown or revoked, where one is needed.",
    403: "The key's role is below the one the operation needs.",
    404: "A record the path names does not exist or was deleted.",
    409: "The request contradicts the data: a duplicate of a unique field (a slug, a URL, a "
    "meeting's number in its series, a role held twice), a loop in a tree, a record still "
    "referred to, a key revoking itself, an Idempotency-Key whose first request is still "
    "running.",
    412: "If-Match names a version that is no longer the record's.",
    413: "The body is larger than the operation takes.",
    415: "The body is not of a media type the operation takes.",
    422: "A request that breaks a rule no schema states: a record it refers to does not exist; "
    "a date in the future, or an end before its start; a statistics series of over 120 "
    "months; a progress that does not fit its status; an assessment other than not_assessed "
    "that cites no source; a membership of neither a post nor an organization; a field a "
    "citation names that records of its kind do not have; a webhook host that does not "
    "resolve to an address webhooks may be sent to; an import file that is not UTF-8 or "
    "breaks its rows' rules (`row_errors`); an Idempotency-Key reused with another body. "
    "`errors` names each field at fault.",
    429: "Too many requests: wait the seconds Retry-After says.",
    503: "The database is unavailable, or the service holds as much of this kind of work as "
    "it takes (long polls of the change feed): retry after Retry-After.",
}


class Api(SmorestApi):  # type: ignore[misc]
    ERROR_SCHEMA = ProblemSchema
    # Each operation documents the errors it can return; no catch-all "default".
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self) -> None:
        # service.core.errors registers the handlers, so every error has the one problem+json shape.
        return None

    def _register_etag_headers(self) -> None:
        # Our own ETag and If-Match handling documents its headers per operation.
        return None

    def _register_pagination_header(self) -> None:
        # Cursor pages carry their token in the body and a Link header, not X-Pagination.
        return None

    def _register_responses(self) -> None:
        import http

        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                meaning = _PROBLEM_MEANINGS.get(status)
                response["description"] = (
                    f"{status.phrase}: a problem of type `{problem_type(status)}`"
                    + (f". {meaning}" if meaning else ".")
                )
                response["schema"] = self.ERROR_SCHEMA
                prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            else:
                prepare_response(response, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)


def make_api() -> Api:
    api = Api(spec_kwargs={"marshmallow_plugin": ContractPlugin()})
    api.register_field(PartialDateField, "string", None)
    return api


def spec_document(app: Flask) -> str:
    """The OpenAPI spec as committed in openapi/openapi.json: stable key order, indented."""
    spec = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False)
