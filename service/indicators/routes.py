"""A commitment's indicators: measurable signs of its progress, nested under it."""

from __future__ import annotations

from datetime import date

from service.core import writes
from service.core.pagination import Page, PageRequest
from service.http.api import Blueprint, get_session
from service.http.resources import ResourceRoutes
from service.indicators import services
from service.indicators.inputs import IndicatorFilters, IndicatorIn
from service.indicators.schemas import (
    IndicatorAsOfSchema,
    IndicatorCreateSchema,
    IndicatorQuerySchema,
    IndicatorSchema,
    IndicatorSearchSchema,
    IndicatorUpdateSchema,
)
from service.indicators.services import ShownIndicator

blp = Blueprint(
    "indicators",
    __name__,
    url_prefix="/api/v1",
    description="Measurable signs of a commitment's progress: a baseline, and periods with a "
    "target and an actual, every value dated and sourced (IATI's result indicators).",
)

COMMITMENT = "/commitments/<int:commitment_id>"
INDICATOR = COMMITMENT + "/indicators/<int:indicator_id>"

indicators = ResourceRoutes(
    blp,
    name="indicator",
    identity={"commitment_id": "commitment_id", "indicator_id": "id"},
    plural="indicators",
    schema=IndicatorSchema,
    create_schema=IndicatorCreateSchema,
    update_schema=IndicatorUpdateSchema,
    query_schema=IndicatorQuerySchema,
)


@indicators.list(COMMITMENT + "/indicators", nested=True)
def list_indicators(
    commitment_id: int, page: PageRequest, filters: IndicatorFilters
) -> Page[ShownIndicator]:
    """List a commitment's indicators, with their progress today or as of a date."""
    return services.list_indicators(
        get_session(), commitment_id=commitment_id, page=page, filters=filters
    )


@indicators.list("/indicators", query_schema=IndicatorSearchSchema, more_errors=[422])
def list_all_indicators(page: PageRequest, filters: IndicatorFilters) -> Page[ShownIndicator]:
    """List every indicator, of any commitment: an agreement's, a commitment's; with their progress today or as of a date. A filter naming no record is a 422."""
    return services.list_all_indicators(get_session(), page=page, filters=filters)


@indicators.create(
    COMMITMENT + "/indicators",
    nested=True,
    location=lambda shown: f"/commitments/{shown.commitment_id}/indicators/{shown.id}",
)
def create_indicator(commitment_id: int, body: IndicatorIn) -> ShownIndicator:
    """Add an indicator to a commitment."""
    return services.create_indicator(get_session(), commitment_id=commitment_id, data=body)


@indicators.get(INDICATOR, query_schema=IndicatorAsOfSchema)
def get_indicator(
    commitment_id: int, indicator_id: int, as_of: date | None = None
) -> ShownIndicator:
    """Get an indicator with its progress today (or `as_of`)."""
    return services.get_indicator(
        get_session(), commitment_id=commitment_id, indicator_id=indicator_id, as_of=as_of
    )


@indicators.update(INDICATOR)
def update_indicator(
    commitment_id: int, indicator_id: int, body: IndicatorIn, check: writes.Check
) -> ShownIndicator:
    """Change an indicator; `periods`, when sent, replaces its periods whole."""
    return services.update_indicator(
        get_session(),
        commitment_id=commitment_id,
        indicator_id=indicator_id,
        data=body,
        check=check,
    )


@indicators.delete(INDICATOR)
def delete_indicator(commitment_id: int, indicator_id: int, check: writes.Check) -> None:
    """Delete an indicator (soft)."""
    services.delete_indicator(
        get_session(), commitment_id=commitment_id, indicator_id=indicator_id, check=check
    )
