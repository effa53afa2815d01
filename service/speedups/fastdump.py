"""A faster `dump` for response schemas: the same output as marshmallow's, in a fraction of
the time.

marshmallow stays the contract: the schemas declare every response, the spec is generated
from them, and they load every input. But dumping a page of 50 records through
marshmallow's general machinery (a method call chain per field per record) was a large share
of the request (bench/notes.md, the row of `1c54871`). So each response schema is compiled
once into a plain list of (key, attribute, converter) steps, with converters that are
marshmallow's own per-type rules written out: `int(value)`, `float(value)`, `str(value)`,
`enum.value`, or the field's own `_serialize` for the rest. A schema this cannot compile
exactly (dump hooks, computed fields, defaults on dump, a custom accessor) keeps
marshmallow's dump. service/speedups sets `fast_dump` as the schemas' faster dump
(service.schemas.FASTER_DUMP) for each request it serves.

While the tests run, `VERIFY` is on: every dump is done both ways and must be equal, so the
whole suite proves that the fast path emits exactly what the schema documents.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import marshmallow as ma
from marshmallow.utils import get_value

# Set by the test suite: dump both ways and compare.
VERIFY = False

Converter = Callable[[Any], Any]
Dumper = Callable[[Any], dict[str, Any]]
_MISSING = ma.missing


class FastDumpMismatch(AssertionError):
    """The fast path and marshmallow disagree: a bug in this module, caught by the tests."""


def _leaf(field: ma.fields.Field[Any]) -> Converter | None:
    """The converter of a field that holds one value, or None if it has no exact fast form."""
    if isinstance(field, ma.fields.Nested):
        nested = field.schema
        many = bool(nested.many or field.many)
        dumper = compile_dumper(nested)
        if dumper is None:
            return lambda value: None if value is None else nested.dump(value, many=many)
        if many:
            return lambda value: None if value is None else [dumper(item) for item in value]
        return lambda value: None if value is None else dumper(value)
    if isinstance(field, ma.fields.List):
        inner = _leaf(field.inner)
        if inner is None:
            return None
        return lambda value: None if value is None else [inner(item) for item in value]
    if isinstance(field, ma.fields.Enum) and field.by_value:
        raw = field.field
        if type(raw) is not ma.fields.Raw:
            return None
        return lambda value: None if value is None else value.value
    if isinstance(field, ma.fields.Number) and not field.as_string:
        if type(field)._format_num is not ma.fields.Number._format_num:
            return None
        if type(field)._serialize is not ma.fields.Number._serialize:
            return None
        num_type = field.num_type
        return lambda value: None if value is None else num_type(value)
    if type(field) is ma.fields.String or (
        isinstance(field, ma.fields.String)
        and type(field)._serialize is ma.fields.String._serialize
    ):
        return lambda value: None if value is None else value if type(value) is str else str(value)
    # Anything else (dates, booleans, partial dates, dicts) through the field's own rule.
    serialize = field._serialize
    return lambda value: serialize(value, None, None)


def _steps(schema: ma.Schema) -> list[tuple[str, str, bool, Converter]] | None:
    steps = []
    for name, field in schema.dump_fields.items():
        if not field._CHECK_ATTRIBUTE or field.dump_default is not _MISSING:
            return None
        converter = _leaf(field)
        if converter is None:
            return None
        attribute = field.attribute if field.attribute is not None else name
        key = field.data_key if field.data_key is not None else name
        steps.append((key, attribute, "." in attribute, converter))
    return steps


def compile_dumper(schema: ma.Schema) -> Dumper | None:
    """A function dumping one object as `schema.dump` would, or None when there is no exact
    fast form of this schema."""
    if schema._hooks[ma.decorators.PRE_DUMP] or schema._hooks[ma.decorators.POST_DUMP]:
        return None
    if type(schema).get_attribute is not ma.Schema.get_attribute:
        return None
    steps = _steps(schema)
    if steps is None:
        return None
    dict_class = schema.dict_class

    def dump(obj: Any) -> dict[str, Any]:
        result = dict_class()
        # An object without item access (an ORM record) is read by attribute alone, as
        # marshmallow's get_value does; a mapping takes the general path.
        plain = not hasattr(obj, "__getitem__")
        for key, attribute, dotted, converter in steps:
            if plain and not dotted:
                value = getattr(obj, attribute, _MISSING)
            else:
                value = get_value(obj, attribute, _MISSING)
            if value is _MISSING:
                continue
            result[key] = converter(value)
        return result

    return dump


def fast_dump(schema: ma.Schema, obj: Any, many: bool | None = None) -> Any:
    """`schema.dump(obj, many=many)`, by the compiled path when the schema has one (its
    dumper is compiled on the first dump and kept on the schema)."""
    try:
        dumper: Dumper | None = schema.__dict__["_fast_dumper"]
    except KeyError:
        dumper = schema.__dict__["_fast_dumper"] = compile_dumper(schema)
    if dumper is None:
        return ma.Schema.dump(schema, obj, many=many)
    many = schema.many if many is None else bool(many)
    fast = [dumper(item) for item in obj] if many and obj is not None else dumper(obj)
    if VERIFY:
        slow = ma.Schema.dump(schema, obj, many=many)
        if fast != slow or repr(fast) != repr(slow):
            raise FastDumpMismatch(
                f"{type(schema).__name__}: fast dump {fast!r} != marshmallow {slow!r}"
            )
    return fast
