"""The domain's errors: what a service raises when it refuses a request, naming the fields
at fault. Services never think about HTTP: service/http/problems.py maps each error to a status
and an RFC 9457 problem+json body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DomainError(Exception):
    """A request the domain refuses. `errors` maps a field to what is wrong with it."""

    def __init__(
        self,
        detail: str,
        *,
        errors: Mapping[str, list[str]] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = dict(errors or {})
        # More members for the problem document (RFC 9457 allows them): an import's row errors.
        self.extensions = dict(extensions or {})


class NotFound(DomainError):
    """The record does not exist, or it was deleted."""


class Conflict(DomainError):
    """The request contradicts the state of the data (a duplicate, a loop, a live child)."""


class PreconditionFailed(DomainError):
    """The client's `If-Match` names a version that is no longer current."""


class InvalidInput(DomainError):
    """The input is well-formed but breaks a rule of the domain (a reference to nothing...)."""


class BadRequest(DomainError):
    """The request itself is malformed: a bad page token, an unreadable parameter."""


class AtCapacity(DomainError):
    """The service holds as much of this kind of work as it takes; try again shortly."""

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested messages into `{"field.sub.0": ["message", ...]}`."""
    flat: dict[str, list[str]] = {}
    _flatten_into(flat, messages, prefix)
    return flat


def _flatten_into(flat: dict[str, list[str]], messages: Any, prefix: str) -> None:
    # Into one dict, not a dict per level merged upwards: a body with a bad value in each
    # of many items costs its messages once.
    if isinstance(messages, list | tuple):
        for item in messages:
            if isinstance(item, str):
                flat.setdefault(prefix or "_schema", []).append(item)
            else:
                _flatten_into(flat, item, prefix)
    elif isinstance(messages, Mapping):
        for key, value in messages.items():
            _flatten_into(flat, value, f"{prefix}.{key}" if prefix else str(key))
    else:
        flat.setdefault(prefix or "_schema", []).append(str(messages))
