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


# Set on every answer unless the view chose its own; the content security policy depends
# on whether the answer is a page or JSON.
_SAFETY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
)
_API_HEADERS = (*_SAFETY_HEADERS, ("Content-Security-Policy", API_POLICY))
_PAGE_HEADERS = (*_SAFETY_HEADERS, ("Content-Security-Policy", PAGE_POLICY))


def add_safety_headers(response: Response) -> Response:
    """CORS for an allowed origin, the safety headers, and whether caches may keep it.

    Runs on every answer: the headers the view set are looked at once, not once per
    header (werkzeug's `setdefault` scans them all each time)."""
    headers = response.headers
    present = {name.lower() for name, _value in headers.items()}
    origin = allowed_origin()
    if origin:
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    page = request.path.startswith(("/docs", "/dashboard"))
    for name, value in _PAGE_HEADERS if page else _API_HEADERS:
        if name.lower() not in present:
            headers.add(name, value)
    with_key = "Authorization" in request.headers
    vary = ("Origin", "Authorization") if with_key else ("Origin",)
    if "vary" in present:
        for name in vary:
            response.vary.add(name)
    else:
        headers.add("Vary", ", ".join(vary))
    if with_key:
        # What a key may read must not be kept by shared caches, nor by the browser.
        headers["Cache-Control"] = "no-store"
    elif "cache-control" not in present and request.path.startswith("/api/"):
        # Public reads may be cached, but must be revalidated (their ETag makes that cheap).
        headers.add("Cache-Control", "no-cache")
    return response
