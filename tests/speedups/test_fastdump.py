"""The compiled dump path (service/speedups/fastdump.py) emits exactly what marshmallow would.

The whole suite checks this on every response it produces (conftest turns VERIFY on); these
tests check the hard cases directly, that the hot schemas really take the fast path, and
that a disagreement is caught."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask

from service.agreements.schemas import AgreementSchema
from service.commitments.schemas import CommitmentSchema
from service.core.dates import PartialDate
from service.schemas import OutputSchema, PartialDateField, page_of
from service.speedups import fastdump


class Colour(enum.Enum):
    RED = "red"


class InnerSchema(OutputSchema):
    n = ma.fields.Integer(required=True)


class EverySchema(OutputSchema):
    i = ma.fields.Integer(allow_none=True)
    f = ma.fields.Float(allow_none=True)
    s = ma.fields.String(allow_none=True)
    b = ma.fields.Boolean(allow_none=True)
    e = ma.fields.Enum(Colour, by_value=True, allow_none=True)
    d = ma.fields.Date(allow_none=True)
    t = ma.fields.DateTime(allow_none=True)
    p = PartialDateField(allow_none=True)
    tags = ma.fields.List(ma.fields.String(), attribute="labels")
    inner = ma.fields.Nested(InnerSchema, allow_none=True)
    inners = ma.fields.List(ma.fields.Nested(InnerSchema))
    deep = ma.fields.Integer(attribute="inner.n")
    renamed = ma.fields.String(data_key="from", attribute="origin")
    extra = ma.fields.Dict()


def _sample(**overrides: Any) -> SimpleNamespace:
    values: dict[str, Any] = {
        "i": 7,
        "f": 5,  # an int where a float is declared: dumped as 5.0 both ways
        "s": 12,  # a number where a string is declared: dumped as "12" both ways
        "b": True,
        "e": Colour.RED,
        "d": date(2024, 3, 1),
        "t": datetime(2024, 3, 1, 12, 30, tzinfo=UTC),
        "p": PartialDate.parse("2024-03"),
        "labels": ["a", "b"],
        "inner": SimpleNamespace(n=3),
        "inners": [SimpleNamespace(n=1), {"n": 2}],
        "origin": "x",
        "extra": {"k": [1, 2]},
    }
    values.update(overrides)
    return SimpleNamespace(**values)


@pytest.mark.parametrize(
    "obj",
    [
        _sample(),
        _sample(i=None, f=None, s=None, b=None, e=None, d=None, t=None, p=None, inner=None),
        SimpleNamespace(i=1),  # every other attribute missing: left out both ways
        {"i": 1, "s": "from a mapping", "labels": [], "inner": {"n": 4}, "origin": "y"},
    ],
)
def test_the_fast_dump_is_marshmallows_dump(obj: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastdump, "VERIFY", False)
    schema = EverySchema()
    assert fastdump.compile_dumper(schema) is not None
    fast = fastdump.fast_dump(schema, obj)
    slow = ma.Schema.dump(schema, obj)
    assert fast == slow
    assert repr(fast) == repr(slow)  # the same types and key order, not only equal values


def test_the_hot_response_schemas_take_the_fast_path(app: Flask) -> None:
    for schema_class in (
        CommitmentSchema,
        AgreementSchema,
        page_of(CommitmentSchema),
        page_of(AgreementSchema),
    ):
        assert fastdump.compile_dumper(schema_class()) is not None, schema_class.__name__


def test_a_schema_with_a_dump_hook_keeps_marshmallows_dump() -> None:
    class Hooked(OutputSchema):
        n = ma.fields.Integer()

        @ma.post_dump
        def double(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
            return {"n": data["n"] * 2}

    assert fastdump.compile_dumper(Hooked()) is None
    assert Hooked().dump({"n": 2}) == {"n": 4}


def test_a_disagreement_is_caught_while_verifying(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastdump, "VERIFY", True)
    schema = InnerSchema()
    # 2.0, where marshmallow says 2
    schema.__dict__["_fast_dumper"] = lambda obj: {"n": float(obj["n"])}
    with pytest.raises(fastdump.FastDumpMismatch, match="InnerSchema"):
        fastdump.fast_dump(schema, {"n": 2})
