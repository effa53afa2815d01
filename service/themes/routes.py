from __future__ import annotations

from service.api import Blueprint
from service.resources import ResourceRoutes
from service.themes import services
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
themes.list("/themes", services.list_themes, "List themes.", more_errors=[422])
themes.create(
    "/themes",
    services.create_theme,
    "Create a theme.",
    location=lambda theme: f"/themes/{theme.id}",
)
themes.get("/themes/<theme_ref>", services.get_theme, "Get a theme by id or slug.")
themes.update("/themes/<theme_ref>", services.update_theme, "Change a theme's fields.")
themes.delete(
    "/themes/<theme_ref>",
    services.delete_theme,
    "Delete a theme (soft: it stays in the change feed).",
)
