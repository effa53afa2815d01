from __future__ import annotations

from service.api import Blueprint
from service.resources import ResourceRoutes
from service.stats import services
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

ResourceRoutes(blp, name="stats_summary", plural="stats", schema=StatsSummarySchema).get(
    "/stats/summary",
    services.get_stats_summary,
    "Count commitments by status, with the weighted progress and the overdue ones, for a scope.",
    operation_id="get_stats_summary",
    query_schema=StatsSummaryQuerySchema,
    more_errors=[422],
)
ResourceRoutes(blp, name="stats_progress", plural="stats", schema=ProgressSeriesSchema).get(
    "/stats/progress",
    services.get_stats_progress,
    "Progress and counts by status month by month, as the assessments stood at each month's end.",
    operation_id="get_stats_progress",
    query_schema=StatsSeriesQuerySchema,
    more_errors=[422],
)
