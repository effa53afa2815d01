"""The fields and base schemas every resource's schemas build on: marshmallow alone, no
HTTP. A request body or query is an InputSchema (unknown fields refused), a response an
OutputSchema (dumped by marshmallow, or by a faster dump of the same output that
service/speedups plugs in)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from enum import Enum
from typing import Any, ClassVar, TypeVar

import marshmallow as ma

from service.core.dates import PARTIAL_DATE_PATTERN, PartialDate
from service.core.identifiers import (
    HTTP_URL_PATTERN,
    MAX_ID,
    MAX_SLUG_LENGTH,
    MAX_URL_LENGTH,
    REF_PATTERN,
    SLUG_PATTERN,
)
from service.core.vocabularies import EntityType

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


def RecordRef(**kwargs: Any) -> ma.fields.String:
    """A record named by id or slug (a filter's value)."""
    return ma.fields.String(
        validate=[
            ma.validate.Length(min=1, max=MAX_SLUG_LENGTH),
            FullMatch(REF_PATTERN, error="Must be a record's id or slug."),
        ],
        **kwargs,
    )


def HttpUrl(**kwargs: Any) -> ma.fields.String:
    """An http or https URL (core.identifiers.HTTP_URL_PATTERN)."""
    metadata = {"format": "uri", **kwargs.pop("metadata", {})}
    return ma.fields.String(
        validate=[
            ma.validate.Length(min=1, max=MAX_URL_LENGTH),
            FullMatch(
                HTTP_URL_PATTERN,
                error="Must be an http or https URL with a host name, no spaces, and "
                "characters beyond ASCII percent-encoded (%C3%A9 for é).",
            ),
        ],
        metadata=metadata,
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


# A dump that emits exactly what marshmallow's would, faster: service/speedups sets one for
# each request it serves (the compiled dumps). Unset, marshmallow dumps.
FASTER_DUMP: ContextVar[Callable[[ma.Schema, Any, bool | None], Any] | None] = ContextVar(
    "faster_dump", default=None
)


class OutputSchema(ma.Schema):
    """A response body. Every field that is always present is `required` in the spec.

    No `additionalProperties: false` here: a client must accept fields added later.
    """

    class Meta:
        unknown = ma.EXCLUDE

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        faster = FASTER_DUMP.get()
        if faster is None:
            return super().dump(obj, many=many)
        return faster(self, obj, many)


class OneOfSchema(OutputSchema):
    """A response the spec states as one of several schemas, told apart by the value of one
    field (`discriminator`), so that a generated client reads each as its own type. The
    service dumps it with this schema's own fields; `variants` is read when the spec is
    written."""

    discriminator: ClassVar[str]

    @classmethod
    def variants(cls) -> Mapping[str, type[ma.Schema]]:
        """Each value of the discriminator, and the schema of the answers that carry it."""
        raise NotImplementedError


class ValueOrChange(ma.fields.Raw):
    """A field of a change event's `changes`: the value of `field` (a new record's), or
    [old, new] (an update's). The spec states both forms of the field's type."""

    def __init__(self, field: ma.fields.Field[Any], **kwargs: Any) -> None:
        self.field = field
        super().__init__(**kwargs)


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


# What a page token looks like (itsdangerous' URL-safe signed form: the payload, "." and the
# signature, base64url; a compressed payload starts with "."), or nothing.
PAGE_TOKEN_PATTERN = r"^(?:\.?[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)?$"


class PageQuerySchema(InputSchema):
    """The paging parameters every list accepts; resources add their own filters."""

    page_size = ma.fields.Integer(
        validate=ma.validate.Range(1, 200),
        metadata={"description": "Items per page (default 50, at most 200)."},
    )
    page_token = ma.fields.String(
        validate=[
            ma.validate.Length(max=500),
            FullMatch(
                PAGE_TOKEN_PATTERN, error="Not a page token: pass `next_page_token` as it came."
            ),
        ],
        metadata={
            "description": "The `next_page_token` of the previous page (empty, or left out: the "
            "first page). A token is signed, and bound to the filters it was issued under: one "
            "this service did not issue, or sent with other filters, is refused (400)."
        },
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


class PartialSchema(ma.Schema):
    """Mixed into a `…Create` schema to make its `…Update`: every field optional (PATCH)."""

    def __init__(self, **kwargs: Any) -> None:
        # The top-level fields only: an item of a list (a meeting's agreement link) that is
        # sent must still be whole.
        kwargs["partial"] = tuple(self._declared_fields)
        super().__init__(**kwargs)


# The fields each kind of record shows (its output schema's, less id and timestamps): what a
# citation may name as the field its source supports. Filled by `shows` as the output
# schemas are defined; read when a citation is checked and when the spec is written, by
# which time every schema is.
SHOWN_FIELDS: dict[EntityType, frozenset[str]] = {}
# The output schema of each kind of record, citable or not (an API key, a webhook): what the
# change feed's entries are typed from (service/changes/schemas.py). Filled by `shows` too.
RECORD_SCHEMAS: dict[EntityType, type[ma.Schema]] = {}
OutputSchemaClass = TypeVar("OutputSchemaClass", bound=type[ma.Schema])


def shows(
    entity: EntityType, *, citable: bool = True
) -> Callable[[OutputSchemaClass], OutputSchemaClass]:
    """Register an output schema as how `entity` records are shown (RECORD_SCHEMAS), and
    its fields, unless it is not `citable`, as those a citation may name (SHOWN_FIELDS)."""

    def register(schema: OutputSchemaClass) -> OutputSchemaClass:
        RECORD_SCHEMAS[entity] = schema
        if citable:
            fields = set(schema._declared_fields) - set(RecordColumnsSchema._declared_fields)
            SHOWN_FIELDS[entity] = frozenset(fields)
        return schema

    return register


def every_shown_field() -> list[str]:
    return sorted(set().union(*SHOWN_FIELDS.values()))


class ShownField(ma.validate.Validator):
    """A field some kind of record shows (SHOWN_FIELDS); the spec lists them as the enum."""

    def __call__(self, value: Any) -> Any:
        if value not in every_shown_field():
            raise ma.ValidationError(
                "Must be a field a record shows, as the API names it: the spec lists them."
            )
        return value


class RecordColumnsSchema(OutputSchema):
    """The fields every addressable record returns: the RecordColumns (service/core/db.py) a
    client sees."""

    id = ma.fields.Integer(required=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)
