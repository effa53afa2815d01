"""What the statistics' service functions take, typed: the scope and options their query
schemas load. tests/unit/test_inputs.py holds each type to its schema."""

from __future__ import annotations

from datetime import date
from typing import TypedDict

from service.agreements.inputs import AgreementFilters

# The most live commitments whose trees and histories one request reads for figures as of a
# day (services.refuse_unbounded_history; the spec says it).
MAX_AS_OF_COMMITMENTS = 20_000


class StatsScopeQuery(TypedDict, total=False):
    """Agreement, organization and theme, each an id or a slug; none: everything."""

    agreement: str
    organization: str
    theme: str


class StatsSummaryQuery(StatsScopeQuery, total=False):
    exclude_low_reliability: bool
    as_of: date


class AgreementStatsFilters(AgreementFilters, total=False):
    """The agreements list's filters, and the day the figures are of."""

    as_of: date


class StatsSeriesQuery(StatsScopeQuery, total=False):
    # Months as YYYY-MM (`from` and `to` in the query).
    from_month: str
    to_month: str
