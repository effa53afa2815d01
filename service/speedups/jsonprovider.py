"""JSON responses through orjson: several times faster than the standard library on a page
of records, with the same document (keys sorted, as Flask's default provider sorts them)."""

from __future__ import annotations

from typing import Any, cast

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider

# Dates and datetimes pass through to Flask's own rule, so every value reads as it did.
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


class OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON provider with orjson for the responses; reading JSON is unchanged.

    What orjson cannot encode natively (a Decimal...) goes to Flask's own rules. What it
    refuses outright (text with an unpaired surrogate, which an error message may quote back
    from a hostile request) goes out through the standard library, escaped, as before.
    """

    def _encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(obj, default=self.default, option=_OPTIONS)
        except TypeError:
            return super().dumps(obj, separators=(",", ":")).encode()

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs.get("indent") is not None:
            return super().dumps(obj, **kwargs)  # debug mode's pretty printing
        return self._encode(obj).decode()

    def response(self, *args: Any, **kwargs: Any) -> Response:
        if (self.compact is None and self._app.debug) or self.compact is False:
            return cast(Response, super().response(*args, **kwargs))
        body = self._encode(self._prepare_response_obj(args, kwargs)) + b"\n"
        # The app's response class is Flask's Response (create_app keeps the default).
        return Response(body, mimetype=self.mimetype)
