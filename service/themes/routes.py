from __future__ import annotations

from service.core import writes
from service.core.pagination import Page, PageRequest
from service.http.api import Blueprint, get_session
from service.http.resources import ResourceRoutes
from service.themes import services
from service.themes.inputs import ThemeFilters, ThemeIn
from service.themes.models import Theme
from service.themes.schemas import (
    ThemeCreateSchema,
    ThemeQuerySchema,
    ThemeSchema,
    ThemeUpdateSchema,
)

blp = Blueprint(
    "themes", __name__, url_prefix="/api/v1", description="The hierarchical taxonomy of subjects."
)

themes = ResourceRoutes(
    blp,
    name="theme",
    identity={"theme_ref": "id"},
    plural="themes",
    schema=ThemeSchema,
    create_schema=ThemeCreateSchema,
    update_schema=ThemeUpdateSchema,
    query_schema=ThemeQuerySchema,
)


@themes.list("/themes", more_errors=[422])
def list_themes(page: PageRequest, filters: ThemeFilters) -> Page[Theme]:
    """List themes."""
    return services.list_themes(get_session(), page=page, filters=filters)


@themes.create("/themes", location=lambda theme: f"/themes/{theme.id}")
def create_theme(body: ThemeIn) -> Theme:
    """Create a theme."""
    return services.create_theme(get_session(), data=body)


@themes.get("/themes/<theme_ref>")
def get_theme(theme_ref: str) -> Theme:
    """Get a theme by id or slug."""
    return services.get_theme(get_session(), theme_ref=theme_ref)


@themes.update("/themes/<theme_ref>")
def update_theme(theme_ref: str, body: ThemeIn, check: writes.Check) -> Theme:
    """Change a theme's fields."""
    return services.update_theme(get_session(), theme_ref=theme_ref, data=body, check=check)


@themes.delete("/themes/<theme_ref>")
def delete_theme(theme_ref: str, check: writes.Check) -> None:
    """Delete a theme (soft: it stays in the change feed)."""
    services.delete_theme(get_session(), theme_ref=theme_ref, check=check)
