"""The HTTP layer's shared parts: the Api object, base schemas and fields, the request's
session, cursor pagination and ETags. Resource routes build on these."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import Enum
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
from sqlalchemy.orm import Session
from webargs.flaskparser import FlaskParser
from werkzeug.http import parse_etags

from service.crud import MAX_SLUG_LENGTH, SLUG_PATTERN
from service.dates import PARTIAL_DATE_PATTERN, PartialDate
from service.db import WRITE_TRANSACTION, Database, read_in_autocommit
from service.errors import PROBLEM_CONTENT_TYPE, BadRequest, PreconditionFailed
from service.fastdump import FastDumpSchema
from service.pagination import Page, PageRequest

MAX_ID = 2**31 - 1


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
    if session is not None:
        session.close()


# --- fields ------------------------------------------------------------------------------


class FullMatch(ma.validate.Regexp):
    """A pattern the whole value must match. marshmallow's Regexp uses `match`, whose "$"
    also matches before a trailing newline: "nl-theme\n" would pass for a slug."""

    def __call__(self, value: Any) -> Any:
        if self.regex.fullmatch(value) is None:
            raise ma.ValidationError(self._format_error(value))
        return value


_SURROGATE = re.compile("[\ud800-\udfff]")


class Text(ma.fields.String):
    """A string with a length bound. NUL is refused: PostgreSQL cannot store it; so is an
    unpaired surrogate ("\\ud800" in JSON), which cannot be encoded at all."""

    default_error_messages = {"surrogate": "Must not contain unpaired surrogates."}

    def __init__(self, *, max_length: int, min_length: int = 0, **kwargs: Any) -> None:
        validators: list[ma.validate.Validator] = [
            ma.validate.Length(min=min_length, max=max_length),
            # PostgreSQL cannot store NUL.
            FullMatch(r"^[^\x00]*$", error="Must not contain NUL."),
        ]
        super().__init__(validate=validators, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text: str = super()._deserialize(value, attr, data, **kwargs)
        # Checked here rather than by a pattern: generators and fuzzers cannot read a
        # surrogate range in the spec's regular expressions.
        if _SURROGATE.search(text):
            raise self.make_error("surrogate")
        return text


class PartialDateField(ma.fields.Field[PartialDate]):
    """A date as "YYYY", "YYYY-MM" or "YYYY-MM-DD"; its precision is what was given."""

    default_error_messages = {"invalid": "Must be a date as YYYY, YYYY-MM or YYYY-MM-DD."}

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"pattern": PARTIAL_DATE_PATTERN, "example": "2024-03"}
        metadata.update(kwargs.pop("metadata", {}))
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, PartialDate):
            return value.isoformat()
        raise TypeError(f"cannot dump {type(value).__name__} as a partial date")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> PartialDate:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            return PartialDate.parse(value)
        except ValueError as error:
            raise ma.ValidationError(str(error).capitalize() + ".") from error


class UTCDateTimeField(ma.fields.AwareDateTime):
    """A date and time with its UTC offset, read as the UTC time it names. One whose UTC time
    falls outside the years 1-9999 (0001-01-01T00:00:00+14:00) cannot be represented, so it
    is refused here rather than failing when converted."""

    default_error_messages = {
        "out_of_range": "Must fall between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z in UTC."
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment: datetime = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(UTC)
        except OverflowError as error:
            raise self.make_error("out_of_range") from error


class JSONInteger(ma.fields.Integer):
    """An integer as JSON states it: 5, never "5", 5.5 or true."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class JSONNumber(ma.fields.Float):
    """A number as JSON states it: 2.5 or 2, never "2.5" or true."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class JSONBoolean(ma.fields.Boolean):
    """true or false, never 0, 1, "yes" or "true"."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def Id(*, strict: bool = True, **kwargs: Any) -> ma.fields.Integer:
    """A record id: a positive integer that fits the database's id column.

    Strict in JSON bodies (5, not "5", 5.0 or true); query parameters are text, so not there.
    """
    if strict:
        return JSONInteger(validate=ma.validate.Range(1, MAX_ID), **kwargs)
    return ma.fields.Integer(validate=ma.validate.Range(1, MAX_ID), **kwargs)


def Slug(**kwargs: Any) -> ma.fields.String:
    """Lower-case words joined by hyphens, with at least one letter (so never mistaken for an id)."""
    return ma.fields.String(
        validate=[
            ma.validate.Length(min=1, max=MAX_SLUG_LENGTH),
            FullMatch(
                SLUG_PATTERN,
                error="Must be lower-case letters and digits joined by hyphens, "
                "with at least one letter.",
            ),
        ],
        **kwargs,
    )


def EnumField(enum: type[Enum], **kwargs: Any) -> ma.fields.Enum[Any]:
    return ma.fields.Enum(enum, by_value=True, **kwargs)


# --- base schemas ------------------------------------------------------------------------


class InputSchema(ma.Schema):
    """A request body or query: unknown fields are refused, with their names."""

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def refuse_overlong_lists(self, data: Any, **_kwargs: Any) -> Any:
        """A list longer than its field's Length allows is refused before any item is read:
        marshmallow reads every item first, and would answer with a message for each bad one."""
        if isinstance(data, Mapping):
            for key, maximum, length in _list_lengths(type(self)):
                value = data.get(key)
                if isinstance(value, list) and len(value) > maximum:
                    try:
                        length(value)
                    except ma.ValidationError as error:
                        raise ma.ValidationError({key: error.messages}) from None
        return data


@functools.cache
def _list_lengths(schema: type[ma.Schema]) -> list[tuple[str, int, ma.validate.Length]]:
    """The schema's list fields that have a maximum length: their key in the input, the
    maximum, and the validator that says it."""
    return [
        (field.data_key or name, validator.max, validator)
        for name, field in schema._declared_fields.items()
        if isinstance(field, ma.fields.List) and not field.dump_only
        for validator in field.validators
        if isinstance(validator, ma.validate.Length) and validator.max is not None
    ]


class OutputSchema(FastDumpSchema):
    """A response body. Every field that is always present is `required` in the spec.

    No `additionalProperties: false` here: a client must accept fields added later.
    Dumped by the compiled path of service.fastdump, which emits exactly what marshmallow
    would (the test suite checks every dump both ways).
    """

    class Meta:
        unknown = ma.EXCLUDE


class RowErrorSchema(OutputSchema):
    """One problem of a bulk file: where it is, and what."""

    row = ma.fields.Integer(
        required=True, metadata={"description": "As a spreadsheet numbers it: the header is row 1."}
    )
    column = ma.fields.String(required=True)
    message = ma.fields.String(required=True)


class ProblemSchema(OutputSchema):
    """An RFC 9457 problem: every error the service returns has this shape."""

    type = ma.fields.String(
        required=True, metadata={"description": "A URI naming the kind of problem."}
    )
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(required=True)
    instance = ma.fields.String(required=True, metadata={"description": "The request path."})
    request_id = ma.fields.String(required=True)
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "For validation errors: each field, with what is wrong with it."},
    )
    row_errors = ma.fields.List(
        ma.fields.Nested(RowErrorSchema),
        metadata={"description": "For a refused import: each problem, with its row and column."},
    )


# --- pagination ----------------------------------------------------------------------------


class PageQuerySchema(InputSchema):
    """The paging parameters every list accepts; resources add their own filters."""

    page_size = ma.fields.Integer(
        validate=ma.validate.Range(1, 200),
        metadata={"description": "Items per page (default 50, at most 200)."},
    )
    page_token = ma.fields.String(
        validate=ma.validate.Length(max=500),
        metadata={"description": "The `next_page_token` of the previous page."},
    )


_PAGE_SCHEMAS: dict[type[ma.Schema], type[ma.Schema]] = {}


def page_of(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """The named page schema of a resource: `{"items": [...], "next_page_token": ...}`."""
    if item_schema not in _PAGE_SCHEMAS:
        name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
        _PAGE_SCHEMAS[item_schema] = type(
            name,
            (OutputSchema,),
            {
                "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
                "next_page_token": ma.fields.String(
                    required=True,
                    allow_none=True,
                    metadata={
                        "description": "Pass as `page_token` for the next page; null on the last."
                    },
                ),
            },
        )
    return _PAGE_SCHEMAS[item_schema]


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


# --- the Api object ---------------------------------------------------------------------------


class ContractConverter(OpenAPIConverter):
    """Registers every enum once as a named component and refers to it by `$ref`; a nested
    schema that may be null is `allOf: [$ref]` with `nullable` (apispec's own `anyOf` with a
    bare nullable object reads to SDK generators as an untyped dict)."""

    def field2property(self, field: ma.fields.Field[Any]) -> dict[str, Any]:
        prop: dict[str, Any] = super().field2property(field)
        if isinstance(field, ma.fields.Nested) and field.allow_none and "anyOf" in prop:
            [ref] = [choice for choice in prop.pop("anyOf") if "$ref" in choice]
            return {"allOf": [ref], "nullable": True, **prop}
        if not isinstance(field, ma.fields.Enum):
            return prop
        name = field.enum.__name__
        components = self.spec.components
        if name in components.schemas and components.schemas[name].get("enum") is None:
            raise ValueError(f"enum {name} collides with a schema of the same name")
        if name not in components.schemas:
            components.schema(
                name,
                {
                    "type": "string",
                    "enum": [member.value for member in field.enum],
                    "description": (field.enum.__doc__ or name).strip().splitlines()[0],
                },
            )
        ref = {"$ref": f"#/components/schemas/{name}"}
        extras: dict[str, Any] = {key: prop[key] for key in ("default", "readOnly") if key in prop}
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


class Api(SmorestApi):  # type: ignore[misc]
    ERROR_SCHEMA = ProblemSchema
    # Each operation documents the errors it can return; no catch-all "default".
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self) -> None:
        # service.errors registers the handlers, so every error has the one problem+json shape.
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
                response["schema"] = self.ERROR_SCHEMA
                prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            else:
                prepare_response(response, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)


def make_api() -> Api:
    api = Api(spec_kwargs={"marshmallow_plugin": ContractPlugin()})
    api.register_field(PartialDateField, "string", None)
    return api


class PartialSchema(ma.Schema):
    """Mixed into a `…Create` schema to make its `…Update`: every field optional (PATCH)."""

    def __init__(self, **kwargs: Any) -> None:
        # The top-level fields only: an item of a list (a meeting's agreement link) that is
        # sent must still be whole.
        kwargs["partial"] = tuple(self._declared_fields)
        super().__init__(**kwargs)


class RecordSchema(OutputSchema):
    """The fields every addressable record returns."""

    id = ma.fields.Integer(required=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


def spec_document(app: Flask) -> str:
    """The OpenAPI spec as committed in openapi/openapi.json: stable key order, indented."""
    spec = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False)
