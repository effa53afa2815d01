"""gunicorn's own log lines ("Booting worker", "WORKER TIMEOUT", and the access log when
`accesslog` asks for one) as the same one-line JSON as the app's.

gunicorn's default format names the process (`%(process)d`), which the app's logging setup
stops recording (service/http/observability.py), so each of its lines failed as a
"--- Logging error ---" traceback. A logger class rather than a `logconfig_dict`: with any
logconfig_dict gunicorn turns its access log on and builds its fields on every request.
"""

from __future__ import annotations

from typing import Any

from gunicorn import glogging

from service.http.observability import JSONFormatter


class JSONLogger(glogging.Logger):  # type: ignore[misc]
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        formatter = JSONFormatter()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter)
