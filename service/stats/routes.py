from __future__ import annotations

from typing import Any, Unpack

from service.core.pagination import Page, PageRequest
from service.http.api import Blueprint, get_session
from service.http.resources import ResourceRoutes
from service.stats import services
from service.stats.inputs import AgreementStatsFilters, StatsSeriesQuery, StatsSummaryQuery
from service.stats.schemas import (
    AgreementStatsQuerySchema,
    AgreementStatsSchema,
    ProgressSeriesSchema,
    StatsSeriesQuerySchema,
    StatsSummaryQuerySchema,
    StatsSummarySchema,
)

blp = Blueprint(
    "stats",
    __name__,
    url_prefix="/api/v1",
    description="Counts, progress and overdue commitments, for a scope or everything.",
)


# Three read-only resources: the summary of a scope, its series month by month, and the
# summary of each agreement the agreements list selects.
summary = ResourceRoutes(blp, name="stats_summary", plural="stats", schema=StatsSummarySchema)
series = ResourceRoutes(blp, name="stats_progress", plural="stats", schema=ProgressSeriesSchema)
by_agreement = ResourceRoutes(
    blp,
    name="agreement_stats",
    plural="agreement_stats",
    schema=AgreementStatsSchema,
    query_schema=AgreementStatsQuerySchema,
)


@summary.get("/stats/summary", query_schema=StatsSummaryQuerySchema, more_errors=[422])
def get_stats_summary(**query: Unpack[StatsSummaryQuery]) -> dict[str, Any]:
    """Count commitments by status, with the weighted progress and the overdue ones, for a scope."""
    return services.get_stats_summary(get_session(), **query)


@series.get("/stats/progress", query_schema=StatsSeriesQuerySchema, more_errors=[422])
def get_stats_progress(**query: Unpack[StatsSeriesQuery]) -> dict[str, Any]:
    """Progress and counts by status month by month, as the assessments stood at each month's end."""
    return services.get_stats_progress(get_session(), **query)


@by_agreement.list("/stats/agreements", more_errors=[422])
def list_agreement_stats(page: PageRequest, filters: AgreementStatsFilters) -> Page[dict[str, Any]]:
    """Summarize each agreement the filters select: its commitments by status, progress and overdue ones."""
    return services.list_agreement_stats(get_session(), page=page, filters=filters)
