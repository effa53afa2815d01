"""Interactive API reference at /docs: Swagger UI, served from assets shipped with the
service (the swagger-ui-bundle package), so it works with no internet access."""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from flask import Blueprint, Response, abort, current_app, send_from_directory

blp = Blueprint("docs", __name__)

SWAGGER_UI_DIR = Path(swagger_ui_bundle.swagger_ui_path)
OWN_ASSETS_DIR = Path(__file__).parent / "static"

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Policy Tracker API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="icon" href="/docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/own/init.js"></script>
</body>
</html>
"""


@blp.get("/docs")
def docs_page() -> Response:
    """The API reference, rendered in the browser from /api/v1/openapi.json."""
    if not current_app.config["DOCS_ENABLED"]:
        abort(404)
    return Response(PAGE, mimetype="text/html")


@blp.get("/docs/assets/<path:filename>")
def swagger_ui_asset(filename: str) -> Response:
    if not current_app.config["DOCS_ENABLED"]:
        abort(404)
    return send_from_directory(SWAGGER_UI_DIR, filename, max_age=86400)


@blp.get("/docs/own/<path:filename>")
def own_asset(filename: str) -> Response:
    if not current_app.config["DOCS_ENABLED"]:
        abort(404)
    return send_from_directory(OWN_ASSETS_DIR, filename, max_age=3600)
