"""Dates that carry their precision: "2024-03" stays a month, never a false first day."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from service.core.errors import InvalidInput
from service.core.vocabularies import DatePrecision

# Years 1000-9999; months and days in range (a 30 February still fails the parse).
PARTIAL_DATE_PATTERN = r"^[1-9][0-9]{3}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$"
# The last year a date may be in: the day after any period must itself be a date, for the
# due-by and month-end arithmetic (in Python and in SQL) to hold for every stored date.
LAST_YEAR = 9998
_PARTIAL_DATE = re.compile(PARTIAL_DATE_PATTERN)


@dataclass(frozen=True)
class PartialDate:
    """A date known to a day, a month or a year, or not known at all.

    Stored as two columns: the first day of the period, and the precision.
    """

    value: date | None
    precision: DatePrecision

    @classmethod
    def unknown(cls) -> PartialDate:
        return cls(None, DatePrecision.UNKNOWN)

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        """Read "YYYY", "YYYY-MM" or "YYYY-MM-DD"; raise ValueError on anything else."""
        # fullmatch: with match, "$" would also accept a trailing newline ("2024\n").
        if not _PARTIAL_DATE.fullmatch(text):
            raise ValueError("must be a date as YYYY, YYYY-MM or YYYY-MM-DD")
        parts = [int(part) for part in text.split("-")]
        precision = (DatePrecision.YEAR, DatePrecision.MONTH, DatePrecision.DAY)[len(parts) - 1]
        year, month, day = [*parts, 1, 1][:3]
        if not 1 <= year <= LAST_YEAR:
            raise ValueError(f"year must be from 0001 to {LAST_YEAR}")
        return cls(date(year, month, day), precision)

    def __composite_values__(self) -> tuple[date | None, DatePrecision]:
        return self.value, self.precision

    def isoformat(self) -> str | None:
        if self.value is None or self.precision is DatePrecision.UNKNOWN:
            return None
        if self.precision is DatePrecision.YEAR:
            return f"{self.value.year:04d}"
        if self.precision is DatePrecision.MONTH:
            return f"{self.value.year:04d}-{self.value.month:02d}"
        return self.value.isoformat()

    def last_day(self) -> date | None:
        """The last day of the period: a month's last day, a year's 31 December."""
        if not self.is_known or self.value is None:
            return None
        if self.precision is DatePrecision.YEAR:
            return date(self.value.year, 12, 31)
        if self.precision is DatePrecision.MONTH:
            return month_end(self.value)
        return self.value

    @property
    def is_known(self) -> bool:
        return self.value is not None and self.precision is not DatePrecision.UNKNOWN


def month_end(day: date) -> date:
    """The last day of `day`'s month, computed within it: December 9999 ends on the last
    day Python can represent, with no step into a year 10000."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def unknown_if_cleared(values: MutableMapping[str, Any], *fields: str) -> None:
    """A date sent as null is cleared: it becomes the unknown date, since a date column keeps
    its precision beside its value and "not known" is a precision, never NULL."""
    for field in fields:
        if field in values and values[field] is None:
            values[field] = PartialDate.unknown()


def refuse_end_before_start(values: Mapping[str, Any], current: Any | None) -> None:
    """A period (a meeting, a membership) must not end before it starts, where both are known:
    `values` are the fields a write sets, `current` the record as it is (None for a create)."""
    unknown = PartialDate.unknown()
    start = values.get("start_date", current.start_date if current else unknown)
    end = values.get("end_date", current.end_date if current else unknown)
    if start.is_known and end.is_known and end.value < start.value:
        raise InvalidInput(
            "end_date is before start_date.",
            errors={"end_date": ["Must not be before start_date."]},
        )
