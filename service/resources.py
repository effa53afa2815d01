"""The standard routes of a resource, declared once so every resource behaves alike.

A resource's routes module says which operations it has and which service function each
calls; this module supplies what they share: the schemas in the spec, the operation ids
(`list_agreements`, `get_agreement`, ...), pagination, `Location`, ETags and `If-Match`,
and the documented errors. Views stay a few lines: parse, call one service, return.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import marshmallow as ma
from flask import Response

from service.api import (
    Blueprint,
    cacheable,
    get_session,
    if_match_check,
    page_request,
    page_response,
)
from service.auth.http import require
from service.idempotency.http import IDEMPOTENCY_KEY_PATTERN, idempotent
from service.schemas import page_of
from service.vocabularies import Role

API_PREFIX = "/api/v1"
BEARER = "bearerAuth"

ETAG_HEADER = {
    "description": "A strong validator of this representation.",
    "schema": {"type": "string"},
}
LINK_HEADER = {
    "description": 'RFC 8288 link to the next page (`rel="next"`), absent on the last page.',
    "schema": {"type": "string"},
}
LOCATION_HEADER = {"description": "The URL of the created resource.", "schema": {"type": "string"}}


class NoQuerySchema(ma.Schema):
    """For operations without query parameters: any parameter sent is unknown, so a 400."""

    class Meta:
        unknown = ma.RAISE


class IfMatchHeaders(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    if_match = ma.fields.String(
        data_key="If-Match",
        metadata={
            "description": "Apply the change only if the resource still has this ETag (else 412)."
        },
    )


class IdempotencyHeaders(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    idempotency_key = ma.fields.String(
        data_key="Idempotency-Key",
        validate=ma.validate.Regexp(
            IDEMPOTENCY_KEY_PATTERN,
            error="Must be 1 to 255 visible ASCII characters, such as a UUID.",
        ),
        metadata={
            "description": "Makes a retry safe: a request repeated with the same key (within 24 hours) "
            "returns the first response instead of creating again; the same key with another body is a "
            "422, and while the first is still running, a 409."
        },
    )


class IfNoneMatchHeaders(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    if_none_match = ma.fields.String(
        data_key="If-None-Match",
        metadata={"description": "Answer 304 Not Modified if the resource still has this ETag."},
    )


def _document_errors(
    blp: Blueprint, view: Callable[..., Any], statuses: Sequence[int]
) -> Callable[..., Any]:
    import http

    for status in statuses:
        view = blp.alt_response(status, response=http.HTTPStatus(status).name)(view)
    return view


def register_operation(
    blp: Blueprint,
    rule: str,
    method: str,
    operation_id: str,
    doc: str,
    view: Callable[..., Any],
    role: Role | None,
) -> None:
    """Name, guard and route one operation. Every operation passes here: this is where its
    permission is set and documented. `role` None is a read (public unless PUBLIC_READ is off)."""
    statuses = [401, 429] if role is None else [401, 403, 429]
    view = _document_errors(blp, view, statuses)
    view = require(role)(view)
    view.__name__ = operation_id
    view.__doc__ = doc
    # A public read may still be sent a key; anything else must be.
    security: list[dict[str, list[str]]] = [{}, {BEARER: []}] if role is None else [{BEARER: []}]
    # The least role, stated for people and tests (tests/api/test_permissions.py reads it):
    # generators ignore x- keys.
    view = blp.doc(
        operationId=operation_id,
        security=security,
        **{"x-required-role": role.value if role else "none"},
    )(view)
    blp.route(rule, methods=[method], endpoint=operation_id)(view)


class ResourceRoutes:
    """Registers a resource's operations on its blueprint (one tag per resource)."""

    def __init__(
        self,
        blp: Blueprint,
        *,
        name: str,
        plural: str,
        schema: type[ma.Schema],
        create_schema: type[ma.Schema] | None = None,
        update_schema: type[ma.Schema] | None = None,
        query_schema: type[ma.Schema] | None = None,
        identity: dict[str, str] | None = None,
        read_role: Role | None = None,
        write_role: Role = Role.EDITOR,
        create_response_schema: type[ma.Schema] | None = None,
        cache_reads: bool = True,
    ) -> None:
        """`identity` says how a record's own path parameters are filled from its body
        ({"agreement_ref": "agreement_id", "event_id": "id"}): the spec's links use it.
        `cache_reads`: public reads are `cacheable` (a read cache may keep their answers)
        unless their answer can change without a change event (the feed's own long poll) or
        depends on the caller's role (the feed again): the cache keys on neither."""
        self.blp = blp
        self.name = name
        self.plural = plural
        self.schema = schema
        self.create_schema = create_schema
        self.update_schema = update_schema
        self.query_schema = query_schema
        self.identity = identity or {}
        # Reads are public (None) unless a role is named; writes need `write_role`.
        self.read_role = read_role
        self.write_role = write_role
        # What a create returns, when it says more than a read (a new API key's secret).
        self.create_response_schema = create_response_schema or schema
        # What only the create shows is shown once: a retry must not show it again.
        self.shown_once = tuple(
            sorted(set(self.create_response_schema().fields) - set(schema().fields))
        )
        self.cache_reads = cache_reads and read_role is None

    def _links_from_created(self, nested: Sequence[str]) -> dict[str, Any]:
        """OpenAPI links from a created record to what can be done with it next."""
        item_operations = [f"get_{self.name}"]
        if self.update_schema is not None:
            item_operations += [f"update_{self.name}", f"delete_{self.name}"]
        links = {
            operation: {
                "operationId": operation,
                "parameters": {
                    param: f"$response.body#/{field}" for param, field in self.identity.items()
                },
            }
            for operation in item_operations
        }
        # Operations nested under this record take its own (last) path parameter.
        own_param = next(reversed(self.identity), None)
        for operation in nested:
            assert own_param is not None, f"{self.name} needs an identity for nested links"
            links[operation] = {
                "operationId": operation,
                "parameters": {own_param: "$response.body#/id"},
            }
        return links

    def _register(
        self, rule: str, method: str, operation_id: str, doc: str, view: Callable[..., Any]
    ) -> None:
        role = self.read_role if method == "GET" else self.write_role
        if method == "GET" and self.cache_reads:
            view = cacheable(view)
        register_operation(self.blp, rule, method, operation_id, doc, view, role)

    def _refuse_unknown_query(
        self, view: Callable[..., Any], schema: type[ma.Schema] | None = None
    ) -> Callable[..., Any]:
        """Parse the query with `schema`; with none, any query parameter is unknown (400)."""
        arg_name = "_no_query" if schema is None else "query_args"
        parse: Callable[[Callable[..., Any]], Callable[..., Any]] = self.blp.arguments(
            schema or NoQuerySchema, location="query", arg_name=arg_name, error_status_code=400
        )
        return parse(view)

    def list(
        self,
        rule: str,
        service: Callable[..., Any],
        doc: str,
        *,
        operation_id: str | None = None,
        query_schema: type[ma.Schema] | None = None,
        nested: bool = False,
        more_errors: Sequence[int] = (),
    ) -> None:
        """`more_errors`: statuses besides the usual that this list may answer (a 422 for a
        filter that names no record)."""
        query = query_schema or self.query_schema
        assert query is not None, f"{self.plural} needs a query schema to be listed"

        def view(query_args: dict[str, Any], **path: Any) -> Any:
            page, filters = page_request(query_args)
            return page_response(
                service(get_session(), page=page, filters=filters, **path), filters
            )

        view = self.blp.response(200, page_of(self.schema), headers={"Link": LINK_HEADER})(view)
        path_params = re.findall(r"<(?:\w+:)?(\w+)>", rule)
        next_page = {
            "operationId": operation_id or f"list_{self.plural}",
            "parameters": {
                "page_token": "$response.body#/next_page_token",
                **{param: f"$request.path.{param}" for param in path_params},
            },
        }
        view = self.blp.doc(responses={200: {"links": {"next_page": next_page}}})(view)
        view = _document_errors(
            self.blp, view, [400, *([404] if nested else []), *more_errors, 500, 503]
        )
        view = self.blp.arguments(
            query, location="query", arg_name="query_args", error_status_code=400
        )(view)
        self._register(rule, "GET", operation_id or f"list_{self.plural}", doc, view)

    def get(
        self,
        rule: str,
        service: Callable[..., Any],
        doc: str,
        *,
        operation_id: str | None = None,
        query_schema: type[ma.Schema] | None = None,
        more_errors: Sequence[int] = (),
    ) -> None:
        """`more_errors`: statuses besides the usual that this read may answer (a 422 for
        query parameters that are each valid but do not fit together)."""

        def view(
            _headers: dict[str, Any],
            query_args: dict[str, Any] | None = None,
            _no_query: dict[str, Any] | None = None,
            **path: Any,
        ) -> Any:
            return service(get_session(), **(query_args or {}), **path)

        view = self.blp.response(200, self.schema, headers={"ETag": ETAG_HEADER})(view)
        view = self.blp.alt_response(304, response="NOT_MODIFIED")(view)
        view = _document_errors(self.blp, view, [400, 404, *more_errors, 500, 503])
        view = self._refuse_unknown_query(view, query_schema)
        view = self.blp.arguments(
            IfNoneMatchHeaders, location="headers", arg_name="_headers", error_status_code=400
        )(view)
        self._register(rule, "GET", operation_id or f"get_{self.name}", doc, view)

    def create(
        self,
        rule: str,
        service: Callable[..., Any],
        doc: str,
        *,
        location: Callable[[Any], str],
        operation_id: str | None = None,
        nested: bool = False,
        next_operations: Sequence[str] = (),
    ) -> None:
        """`next_operations`: operations nested under the new record (its events, its
        assessments...), linked from the 201 response in the spec."""
        assert self.create_schema is not None

        def view(
            body: dict[str, Any], _no_query: dict[str, Any], _headers: dict[str, Any], **path: Any
        ) -> Any:
            record = service(get_session(), data=body, **path)
            return record, 201, {"Location": API_PREFIX + location(record)}

        view = self.blp.response(
            201,
            self.create_response_schema,
            headers={"ETag": ETAG_HEADER, "Location": LOCATION_HEADER},
        )(view)
        view = _document_errors(
            self.blp, view, [400, *([404] if nested else []), 409, 413, 415, 500, 503]
        )
        view = self.blp.arguments(self.create_schema, arg_name="body")(view)
        view = self._refuse_unknown_query(view)
        view = self.blp.arguments(
            IdempotencyHeaders, location="headers", arg_name="_headers", error_status_code=400
        )(view)
        view = idempotent(view, shown_once=self.shown_once)
        if self.identity:
            view = self.blp.doc(
                responses={201: {"links": self._links_from_created(next_operations)}}
            )(view)
        self._register(rule, "POST", operation_id or f"create_{self.name}", doc, view)

    def update(
        self, rule: str, service: Callable[..., Any], doc: str, *, operation_id: str | None = None
    ) -> None:
        assert self.update_schema is not None
        schema = self.schema()

        def view(
            body: dict[str, Any], _headers: dict[str, Any], _no_query: dict[str, Any], **path: Any
        ) -> Any:
            return service(get_session(), data=body, check=if_match_check(schema), **path)

        view = self.blp.response(200, self.schema, headers={"ETag": ETAG_HEADER})(view)
        view = _document_errors(self.blp, view, [400, 404, 409, 412, 413, 415, 500, 503])
        view = self.blp.arguments(
            IfMatchHeaders, location="headers", arg_name="_headers", error_status_code=400
        )(view)
        view = self.blp.arguments(self.update_schema, arg_name="body")(view)
        view = self._refuse_unknown_query(view)
        self._register(rule, "PATCH", operation_id or f"update_{self.name}", doc, view)

    def delete(
        self, rule: str, service: Callable[..., Any], doc: str, *, operation_id: str | None = None
    ) -> None:
        schema = self.schema()

        def view(_headers: dict[str, Any], _no_query: dict[str, Any], **path: Any) -> Any:
            service(get_session(), check=if_match_check(schema), **path)
            return Response(status=204)

        view = self.blp.response(204)(view)
        view = _document_errors(self.blp, view, [400, 404, 409, 412, 500, 503])
        view = self.blp.arguments(
            IfMatchHeaders, location="headers", arg_name="_headers", error_status_code=400
        )(view)
        view = self._refuse_unknown_query(view)
        self._register(rule, "DELETE", operation_id or f"delete_{self.name}", doc, view)
