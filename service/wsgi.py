"""The WSGI entry point: `gunicorn -c service/gunicorn.conf.py service.wsgi:app`."""

import os

from service import create_app
from service.http.observability import configure_json_logging

# Every line the service logs, one request's included, is JSON on standard error.
configure_json_logging(os.environ.get("LOG_LEVEL", "info"))
app = create_app()
