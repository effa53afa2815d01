"""The speed-ups: each answers exactly as the plain service does, faster, and each earned its
place in a benchmark (bench/notes.md has the figures). `create_app` wires them in with
`install`; with `SPEEDUPS=off` it does not, and the service runs plain (make test runs the
whole suite that way on SQLite, and with them on PostgreSQL).

- readcache.py: finished answers to public reads, given again while the change feed's
  head has not moved. Plain: every read is computed.
- lookups.py: one connection each worker holds of its own for the one-row lookups of
  every request (the feed's head, api_keys.py's key). Plain: both read through a session.
- fastdump.py: response schemas compiled into plain dump steps. Plain: marshmallow dumps.
- jsonprovider.py: responses encoded by orjson. Plain: Flask's own JSON provider (the same
  documents; non-ASCII text escaped, so the bytes and the ETags differ: run every instance
  behind one address with the same setting).

Nothing but the app factory imports this package (an import contract in pyproject.toml):
the layers below offer the hooks (service.schemas.FASTER_DUMP, service.http.api.cacheable, the
auth services' StoredKeyReader), and the speed-ups plug into them.
"""

from __future__ import annotations

from contextvars import Token
from typing import Any

from flask import Flask, Response, g, request

from service.auth.services import STORED_KEY_READER
from service.core.config import Settings
from service.core.db import Database
from service.schemas import FASTER_DUMP
from service.speedups import api_keys, fastdump, readcache
from service.speedups.jsonprovider import OrjsonProvider
from service.speedups.lookups import Lookups


def install(app: Flask, settings: Settings, database: Database) -> None:
    """Wire the speed-ups into `app`, between its request cycle's checks and its finishing
    (create_app says where): an answer is given from the cache only to a caller the checks
    let through, and kept only once it has its ETag and safety headers."""
    if not settings.speedups:
        return
    app.json = OrjsonProvider(app)
    lookups = Lookups(database, {**readcache.LOOKUPS, **api_keys.LOOKUPS})
    app.extensions[STORED_KEY_READER] = api_keys.stored_key_reader(lookups)
    app.extensions["read_cache"] = readcache.ReadCache(settings.read_cache_mb * 1024 * 1024)
    app.extensions["head_reader"] = readcache.HeadReader(lookups)
    app.extensions["lookups"] = lookups

    @app.before_request
    def dump_faster_and_answer_from_cache() -> Response | None:
        g.faster_dump = FASTER_DUMP.set(fastdump.fast_dump)
        if not request.path.startswith("/api/"):
            return None
        return readcache.answer_from_cache()

    # After-request hooks run in the reverse order of their registration: this one after
    # create_app's ETag and safety headers, before its request id.
    app.after_request(_keep_answer)

    @app.teardown_request
    def dump_plainly_again(_error: BaseException | None = None) -> None:
        token: Token[Any] | None = g.pop("faster_dump", None)
        if token is not None:
            FASTER_DUMP.reset(token)


def _keep_answer(response: Response) -> Response:
    readcache.keep_answer(response)
    return response
