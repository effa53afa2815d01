"""The standard operations of a resource, declared once so every resource behaves alike.

A resource's routes module writes each operation as a plain view function, named after its
operation id (`list_agreements`, `get_agreement`, ...), with its summary as the docstring,
and decorates it with what kind of operation it is:

    @agreements.get("/agreements/<agreement_ref>")
    def get_agreement(agreement_ref: str) -> Agreement:
        '''Get an agreement by id or slug.'''
        return services.get_agreement(get_session(), agreement_ref=agreement_ref)

The decorator supplies what operations of that kind share: the schemas in the spec,
pagination, `Location`, ETags and `If-Match`, the permission, and the documented errors.
It is flask-smorest underneath (`blp.arguments`, `blp.response`, `blp.route`); an operation
that fits none of the kinds is routed with `register_operation`, as the exports are.
"""

from __future__ import annotations

import functools
import http
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import marshmallow as ma
from flask import Response

from service.auth.http import require
from service.core.vocabularies import Role
from service.http.api import (
    Blueprint,
    cacheable,
    if_match_check,
    page_request,
    page_response,
)
from service.http.headers import (
    ETAG_HEADER,
    LINK_HEADER,
    LOCATION_HEADER,
    IdempotencyHeaders,
    IfMatchHeaders,
    IfNoneMatchHeaders,
    NoQuerySchema,
)
from service.idempotency.http import idempotent
from service.schemas import page_of

# A view as a routes module writes it: a plain function named after its operation id, its
# docstring the operation's summary in the spec, calling one service function.
View = TypeVar("View", bound=Callable[..., Any])

API_PREFIX = "/api/v1"
BEARER = "bearerAuth"
# The spec's default security, which every public read inherits by stating none of its own:
# anonymous, or a key (which may see more). Said once at the top of the spec rather than on
# each read because openapi-python-client reads any security an operation states as
# credentials required, and would type every public read as needing an AuthenticatedClient.
KEY_OPTIONAL: list[dict[str, list[str]]] = [{}, {BEARER: []}]


def document_errors(
    blp: Blueprint, view: Callable[..., Any], statuses: Sequence[int]
) -> Callable[..., Any]:
    """Document the problem answers an operation may give, by status."""
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
    view = document_errors(blp, view, statuses)
    view = require(role)(view)
    view.__name__ = operation_id
    view.__doc__ = doc
    # A public read inherits KEY_OPTIONAL; anything else must be sent a key.
    security: dict[str, Any] = {} if role is None else {"security": [{BEARER: []}]}
    # The least role, stated for people and tests (tests/api/test_permissions.py reads it):
    # generators ignore x- keys.
    view = blp.doc(
        operationId=operation_id,
        **security,
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

    def _register(self, rule: str, method: str, view: Callable[..., Any]) -> None:
        summary = view.__doc__
        assert summary, f"{view.__name__} needs a docstring: it is the operation's summary"
        role = self.read_role if method == "GET" else self.write_role
        if method == "GET" and self.cache_reads:
            view = cacheable(view)
        register_operation(self.blp, rule, method, view.__name__, summary, view, role)

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
        *,
        query_schema: type[ma.Schema] | None = None,
        nested: bool = False,
        more_errors: Sequence[int] = (),
    ) -> Callable[[View], View]:
        """Route a list: the view takes the page asked for and the filters (and the rule's
        path parameters) and returns a Page; the answer gets its Link header and next-page
        token. `more_errors`: statuses besides the usual that this list may answer (a 422
        for a filter that names no record)."""
        query = query_schema or self.query_schema
        assert query is not None, f"{self.plural} needs a query schema to be listed"

        def register(list_view: View) -> View:
            operation_id = list_view.__name__

            @functools.wraps(list_view)
            def view(query_args: dict[str, Any], **path: Any) -> Any:
                page, filters = page_request(query_args)
                return page_response(list_view(page=page, filters=filters, **path), filters)

            answered = self.blp.response(200, page_of(self.schema), headers={"Link": LINK_HEADER})
            routed = answered(view)
            path_params = re.findall(r"<(?:\w+:)?(\w+)>", rule)
            next_page = {
                "operationId": operation_id,
                "parameters": {
                    "page_token": "$response.body#/next_page_token",
                    **{param: f"$request.path.{param}" for param in path_params},
                },
            }
            routed = self.blp.doc(responses={200: {"links": {"next_page": next_page}}})(routed)
            routed = document_errors(
                self.blp, routed, [400, *([404] if nested else []), *more_errors, 500, 503]
            )
            routed = self.blp.arguments(
                query, location="query", arg_name="query_args", error_status_code=400
            )(routed)
            self._register(rule, "GET", routed)
            return list_view

        return register

    def get(
        self,
        rule: str,
        *,
        query_schema: type[ma.Schema] | None = None,
        more_errors: Sequence[int] = (),
    ) -> Callable[[View], View]:
        """Route a read of one record: the view takes the rule's path parameters (and what
        `query_schema` loads, by name) and returns the record, answered with its ETag (304
        when `If-None-Match` has it). `more_errors`: statuses besides the usual that this
        read may answer (a 422 for query parameters that do not fit together)."""

        def register(get_view: View) -> View:
            @functools.wraps(get_view)
            def view(
                _headers: dict[str, Any],
                query_args: dict[str, Any] | None = None,
                _no_query: dict[str, Any] | None = None,
                **path: Any,
            ) -> Any:
                return get_view(**(query_args or {}), **path)

            routed = self.blp.response(200, self.schema, headers={"ETag": ETAG_HEADER})(view)
            routed = self.blp.alt_response(304, response="NOT_MODIFIED")(routed)
            routed = document_errors(self.blp, routed, [400, 404, *more_errors, 500, 503])
            routed = self._refuse_unknown_query(routed, query_schema)
            routed = self.blp.arguments(
                IfNoneMatchHeaders, location="headers", arg_name="_headers", error_status_code=400
            )(routed)
            self._register(rule, "GET", routed)
            return get_view

        return register

    def create(
        self,
        rule: str,
        *,
        location: Callable[[Any], str],
        nested: bool = False,
        next_operations: Sequence[str] = (),
    ) -> Callable[[View], View]:
        """Route a create: the view takes the loaded body (and the rule's path parameters)
        and returns the new record, answered 201 with its `Location` (`location` gives its
        path) and ETag; an `Idempotency-Key` makes a retry safe. `next_operations`:
        operations nested under the new record (its events, its assessments...), linked
        from the 201 response in the spec."""
        assert self.create_schema is not None
        create_schema = self.create_schema

        def register(create_view: View) -> View:
            @functools.wraps(create_view)
            def view(
                body: dict[str, Any],
                _no_query: dict[str, Any],
                _headers: dict[str, Any],
                **path: Any,
            ) -> Any:
                record = create_view(body=body, **path)
                return record, 201, {"Location": API_PREFIX + location(record)}

            routed = self.blp.response(
                201,
                self.create_response_schema,
                headers={"ETag": ETAG_HEADER, "Location": LOCATION_HEADER},
            )(view)
            routed = document_errors(
                self.blp, routed, [400, *([404] if nested else []), 409, 413, 415, 500, 503]
            )
            routed = self.blp.arguments(create_schema, arg_name="body")(routed)
            routed = self._refuse_unknown_query(routed)
            routed = self.blp.arguments(
                IdempotencyHeaders, location="headers", arg_name="_headers", error_status_code=400
            )(routed)
            routed = idempotent(routed, shown_once=self.shown_once)
            if self.identity:
                routed = self.blp.doc(
                    responses={201: {"links": self._links_from_created(next_operations)}}
                )(routed)
            self._register(rule, "POST", routed)
            return create_view

        return register

    def update(self, rule: str) -> Callable[[View], View]:
        """Route a change: the view takes the loaded body, `check` (to call on the record
        before changing it: a stale `If-Match` is a 412) and the rule's path parameters,
        and returns the changed record."""
        assert self.update_schema is not None
        update_schema = self.update_schema
        schema = self.schema()

        def register(update_view: View) -> View:
            @functools.wraps(update_view)
            def view(
                body: dict[str, Any],
                _headers: dict[str, Any],
                _no_query: dict[str, Any],
                **path: Any,
            ) -> Any:
                return update_view(body=body, check=if_match_check(schema), **path)

            routed = self.blp.response(200, self.schema, headers={"ETag": ETAG_HEADER})(view)
            routed = document_errors(self.blp, routed, [400, 404, 409, 412, 413, 415, 500, 503])
            routed = self.blp.arguments(
                IfMatchHeaders, location="headers", arg_name="_headers", error_status_code=400
            )(routed)
            routed = self.blp.arguments(update_schema, arg_name="body")(routed)
            routed = self._refuse_unknown_query(routed)
            self._register(rule, "PATCH", routed)
            return update_view

        return register

    def delete(self, rule: str) -> Callable[[View], View]:
        """Route a delete: the view takes `check` (as for a change) and the rule's path
        parameters; the answer is a 204."""
        schema = self.schema()

        def register(delete_view: View) -> View:
            @functools.wraps(delete_view)
            def view(_headers: dict[str, Any], _no_query: dict[str, Any], **path: Any) -> Any:
                delete_view(check=if_match_check(schema), **path)
                return Response(status=204)

            routed = self.blp.response(204)(view)
            routed = document_errors(self.blp, routed, [400, 404, 409, 412, 500, 503])
            routed = self.blp.arguments(
                IfMatchHeaders, location="headers", arg_name="_headers", error_status_code=400
            )(routed)
            routed = self._refuse_unknown_query(routed)
            self._register(rule, "DELETE", routed)
            return delete_view

        return register
