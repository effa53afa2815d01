"""The HTTP layer: the API object and the request's session (api.py), the standard operations
(resources.py) and their headers (headers.py), problem+json (problems.py), rate limits,
what browsers need (browser.py), and what operators see (observability.py)."""
