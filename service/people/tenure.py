"""Who held what on a date: the one rule for a membership in effect on a day, read by the
memberships' `as_of` filter and by the holders a post shows."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, and_, case, or_

from service.core.vocabularies import DatePrecision
from service.people.models import Membership


def in_effect_on(day: date) -> ColumnElement[bool]:
    """A membership in effect on `day`, as far as its dates tell: begun in or before the
    period holding `day`, and not ended before it. A date known only to its year or month
    counts for the whole period (a post held "until 2024" was still held on 5 November
    2024); no start date counts as begun, no end date as not ended."""
    # A start is stored as its period's first day; an end is on or after `day` when its
    # period starts on or after the first day of `day`'s period at the end's precision.
    end_period_of_day = case(
        (Membership.end_date_precision == DatePrecision.YEAR, date(day.year, 1, 1)),
        (Membership.end_date_precision == DatePrecision.MONTH, date(day.year, day.month, 1)),
        else_=day,
    )
    return and_(
        or_(Membership.start_date_value.is_(None), Membership.start_date_value <= day),
        or_(Membership.end_date_value.is_(None), Membership.end_date_value >= end_period_of_day),
    )
