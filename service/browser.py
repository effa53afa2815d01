"""What browsers need: CORS for the configured origins only, and safe response headers."""

from __future__ import annotations

from flask import Response, current_app, request

EXPOSED_HEADERS = "ETag, Location, Link, Retry-After, X-Request-ID, Idempotent-Replayed"
ALLOWED_REQUEST_HEADERS = (
    "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, X-Request-ID"
)
ALLOWED_METHODS = "GET, HEAD, POST, PATCH, DELETE, OPTIONS"
# JSON needs none of a page's powers.
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
# The pages (/docs, /dashboard) run their own scripts and styles only.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)


def allowed_origin() -> str | None:
    origin = request.headers.get("Origin")
    return origin if origin and origin in current_app.config["CORS_ORIGINS"] else None


def preflight() -> Response | None:
    """Answer a CORS preflight for an allowed origin; others get no CORS headers at all."""
    if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
        return None
    response = Response(status=204)
    if allowed_origin():
        response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_REQUEST_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
    return response


def add_safety_headers(response: Response) -> Response:
    origin = allowed_origin()
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    response.vary.add("Origin")
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault(
        "Content-Security-Policy",
        PAGE_POLICY if request.path.startswith(("/docs", "/dashboard")) else API_POLICY,
    )
    if "Authorization" in request.headers:
        # What a key may read must not be kept by shared caches, nor by the browser.
        headers["Cache-Control"] = "no-store"
        response.vary.add("Authorization")
    elif request.path.startswith("/api/"):
        # Public reads may be cached, but must be revalidated (their ETag makes that cheap).
        headers.setdefault("Cache-Control", "no-cache")
    return response
