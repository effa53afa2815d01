"""Schemathesis hooks for the fuzzing test."""

from __future__ import annotations

import os
import re
from typing import Any

import schemathesis
from itsdangerous import BadSignature, URLSafeSerializer
from schemathesis.generation import GenerationMode

from service.http.headers import CONDITIONAL_HEADERS, ETAG_LIST_PATTERN

# The live test server's key (tests/contract/conftest.py passes it here too).
_TOKENS = URLSafeSerializer(os.environ.get("LIVE_SECRET_KEY", ""), salt="page-token")


_ETAG_LIST = re.compile(ETAG_LIST_PATTERN)


def _checked_as_valid(case: schemathesis.Case[Any]) -> bool:
    """Whether the case as a whole is positive: what positive_data_acceptance checks."""
    return case.meta is not None and case.meta.generation.mode is GenerationMode.POSITIVE


def _issued_by_the_service(token: object) -> bool:
    if not isinstance(token, str):
        return False
    try:
        _TOKENS.loads(token)
    except BadSignature:
        return False
    return True


@schemathesis.hook
def before_call(
    context: schemathesis.HookContext, case: schemathesis.Case[Any], kwargs: dict[str, Any]
) -> None:
    # A page token is signed by the service: a generated one can only be refused (400), which
    # says nothing about the rest of the request. Tokens the service issued, which reach the
    # next request through the spec's `next_page` links, are kept.
    if (
        case.query
        and "page_token" in case.query
        and not _issued_by_the_service(case.query["page_token"])
    ):
        del case.query["page_token"]
    # Schemathesis 4.32's coverage phase sends `0` in a conditional header of a case it
    # checks as valid (its header component marked negative, the case positive, when the
    # pattern holds a double quote, as an ETag's always does: `^"[a-z]*"$` is enough to see
    # it). The service refuses it (400), as the pattern says: in a case checked as valid, such
    # a value is replaced by one the pattern takes, a version that is not current.
    if case.headers and _checked_as_valid(case):
        for name in CONDITIONAL_HEADERS:
            value = case.headers.get(name)
            if isinstance(value, str) and not _ETAG_LIST.fullmatch(value):
                case.headers[name] = '"not-current"'
    # A long poll of the feed may rightly wait 25 s: a valid wait is kept short here, so the
    # run stays bounded (tests/changes covers the waiting).
    if case.query and _is_long_wait(case.query.get("wait")):
        case.query["wait"] = 1


def _is_long_wait(value: object) -> bool:
    """A `wait` the service would honour with a wait of over a second (the phases send it as
    an int or as the text of one)."""
    try:
        seconds = int(str(value))
    except ValueError:
        return False
    return 1 < seconds <= 25
