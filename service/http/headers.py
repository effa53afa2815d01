"""The headers the standard operations read and answer (service/http/resources.py): request
headers as the schemas that parse them, response headers as their entries in the spec."""

from __future__ import annotations

import marshmallow as ma

from service.idempotency.http import IDEMPOTENCY_KEY_PATTERN

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
