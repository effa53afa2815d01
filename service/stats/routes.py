from __future__ import annotations

from typing import Any, Unpack

from service.http.api import Blueprint, get_session
from service.http.resources import ResourceRoutes
from service.stats import services
from service.stats.inputs import StatsSeriesQuery, StatsSummaryQuery
from service.stats.schemas import (
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


# Two read-only resources: the summary of a scope, and its series month by month.
summary = ResourceRoutes(blp, name="stats_summary", plural="stats", schema=StatsSummarySchema)
series = ResourceRoutes(blp, name="stats_progress", plural="stats", schema=ProgressSeriesSchema)


@summary.get("/stats/summary", query_schema=StatsSummaryQuerySchema, more_errors=[422])
def get_stats_summary(**query: Unpack[StatsSummaryQuery]) -> dict[str, Any]:
    """Count commitments by status, with the weighted progress and the overdue ones, for a scope."""
    return services.get_stats_summary(get_session(), **query)


@series.get("/stats/progress", query_schema=StatsSeriesQuerySchema, more_errors=[422])
def get_stats_progress(**query: Unpack[StatsSeriesQuery]) -> dict[str, Any]:
    """Progress and counts by status month by month, as the assessments stood at each month's end."""
    return services.get_stats_progress(get_session(), **query)
