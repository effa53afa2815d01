"""/dashboard: a small page over the public API: agreements and their progress, the status
distribution, and a commitment's assessment timeline with its sources. Its script and style
ship with the service; it loads nothing from elsewhere."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

blp = Blueprint("dashboard", __name__)
STATIC = Path(__file__).parent / "static"


@blp.get("/dashboard")
def dashboard_page() -> Response:
    """The dashboard; it reads /api/v1 from the browser (so reads must be public)."""
    return send_from_directory(STATIC, "index.html", max_age=0)


@blp.get("/dashboard/static/<path:filename>")
def dashboard_asset(filename: str) -> Response:
    return send_from_directory(STATIC, filename, max_age=3600)
