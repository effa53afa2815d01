"""The headers the standard operations read and answer (service/http/resources.py): request
headers as the schemas that parse them, response headers as their entries in the spec."""

from __future__ import annotations

import re

import marshmallow as ma
from flask import Response, request

from service.http.problems import problem_response
from service.idempotency.http import IDEMPOTENCY_KEY_PATTERN

# What If-Match and If-None-Match carry (RFC 9110, 13.1.1 and 8.8.3): "*", or entity tags,
# each in double quotes, weak ones after W/, separated by commas.
_ENTITY_TAG = r'(?:W/)?"[!#-~]*"'
ETAG_LIST_PATTERN = rf"^(?:\*|{_ENTITY_TAG}(?: *, *{_ENTITY_TAG})*)$"
_ETAG_LIST = re.compile(ETAG_LIST_PATTERN)
ETAG_LIST_RULE = (
    'Must be "*" or one or more ETags, each in double quotes ("…" or W/"…"), separated by commas.'
)
CONDITIONAL_HEADERS = ("If-Match", "If-None-Match")

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


def refuse_malformed_conditions() -> Response | None:
    """A request whose If-Match or If-None-Match is not what the spec's pattern says gets a
    400 naming the header, before anything answers it (the read cache included): a
    malformed condition names no version, and would otherwise be a 412 or be ignored. A
    request no route takes gets its 404 or 405 first."""
    if request.routing_exception is not None:
        return None
    for name in CONDITIONAL_HEADERS:
        value = request.headers.get(name)
        if value is not None and not _ETAG_LIST.fullmatch(value):
            return problem_response(
                400, f"The {name} header is malformed.", errors={name: [ETAG_LIST_RULE]}
            )
    return None


class IfMatchHeaders(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    # Checked by refuse_malformed_conditions, for every request; stated here for the spec.
    if_match = ma.fields.String(
        data_key="If-Match",
        metadata={
            "description": "Apply the change only if the resource still has this ETag (else "
            "412). " + ETAG_LIST_RULE,
            "pattern": ETAG_LIST_PATTERN,
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
        metadata={
            "description": "Answer 304 Not Modified if the resource still has this ETag. "
            + ETAG_LIST_RULE,
            "pattern": ETAG_LIST_PATTERN,
        },
    )
