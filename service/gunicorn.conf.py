"""gunicorn settings: `gunicorn --config service/gunicorn.conf.py service.wsgi:app`.

Every value can be overridden from the environment, so one file serves `make run`,
docker-compose and production.
"""

import os

# Worker type (docs/serving-model.md): gevent, so that a long poll or a slow client holds a
# greenlet, not a worker; `keepalive` below is also how long gevent waits for a request's
# headers. GUNICORN_WORKER_CLASS=gthread is the fallback that keeps real threads.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gevent")
if worker_class == "gevent":
    # Before anything else is imported: the app is preloaded in the master, ahead of the
    # patching gunicorn's gevent worker does, and psycopg and the long poll's sleep decide
    # at import time whether they may block. Unpatched, they would block the whole worker.
    from gevent import monkey

    monkey.patch_all()

import shutil  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Callable  # noqa: E402

# Each worker keeps its metrics in files here, and /metrics sums them (service/http/observability.py).
# Set before the app (and prometheus_client) is loaded; a fresh, empty directory per start.
_OWN_METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
if _OWN_METRICS_DIR:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="policy-tracker-metrics-")

bind = os.environ.get(
    "BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
)
# One process per core: each holds many connections at once, as greenlets (or threads).
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Connections a gevent worker holds at once: long polls (bounded lower by
# LONG_POLLS_PER_PROCESS), slow clients, requests in progress.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
# Under gthread: threads a worker runs. Each slow client that has sent a byte of its headers
# holds one until it finishes them, so without a buffering proxy in front about
# `workers x threads` such clients exhaust it (docs/serving-model.md).
threads = int(os.environ.get("GUNICORN_THREADS", "256" if worker_class == "gthread" else "1"))
# A request that runs longer than this is killed and its worker replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# Seconds an idle keep-alive connection is kept; under gevent, also the deadline for a
# request's headers, which is what sends a slowloris client away.
keepalive = 5
# Workers are replaced now and then, so that no slow leak can grow without bound (the soak in
# docs/reliability.md found none). Not often: a new worker starts with an empty read cache
# and opens its connections again. Under the benchmark's reads (about 1,300 requests a
# second a worker, `python -m bench compare`), a limit of 10,000 replaced each worker about
# every 8 seconds.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "100000"))
max_requests_jitter = max_requests // 10
# Refuse absurd request lines and headers before the app sees them.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# The app logs each request as a line of JSON (with its request id, route and key id);
# gunicorn's own access log is off unless asked for ("-" is stdout).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
# gunicorn's own lines as the app's JSON (service/gunicorn_logging.py).
logger_class = "service.gunicorn_logging.JSONLogger"
# No runtime control socket: it lives at one path per user, so two instances on one host
# (a test server beside `make run`) would fight over it.
control_socket_disable = True
# Load the app once in the master, so workers start fast and share its memory.
preload_app = True


def post_fork(server, worker):  # type: ignore[no-untyped-def]
    # The preloaded app's connection pool must not be shared with the master: each worker
    # opens its own connections.
    from service.wsgi import app

    app.extensions["database"].engine.dispose(close=False)


def worker_abort(worker):  # type: ignore[no-untyped-def]
    # Runs in a worker that gunicorn is killing for running past `timeout`: counted, so an
    # operator sees it in /metrics as well as in gunicorn's "WORKER TIMEOUT" line.
    from service.http.observability import WORKER_TIMEOUTS

    WORKER_TIMEOUTS.inc()


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    # A worker that is gone must stop counting in the live gauges; its counters stay summed.
    from prometheus_client import multiprocess

    # prometheus-client 0.26 leaves this one untyped.
    mark_process_dead: Callable[[int], None] = multiprocess.mark_process_dead
    mark_process_dead(worker.pid)


def on_exit(server):  # type: ignore[no-untyped-def]
    if _OWN_METRICS_DIR:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
