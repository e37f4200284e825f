"""Gunicorn settings the command line cannot express (entrypoint.sh passes the rest):

- JSON logs: Gunicorn's own error and access logs as JSON lines on stdout, like Django's, when
  SECULITE_LOG_FORMAT is json (the default with the production settings). An access line
  carries the request id, user, method, path, status and duration of the request.
- Request metrics across worker processes: prometheus_client's multiprocess mode in
  SECULITE_METRICS_DIR, emptied at start; each exited worker's files are merged into an archive
  so that recycled workers (--max-requests) lose no counts and leave no files behind.
"""

import os
import sys
from pathlib import Path

BACKEND_DIR = Path(__file__).resolve().parent.parent
if str(BACKEND_DIR) not in sys.path:  # the config is loaded before Gunicorn imports the app
    sys.path.insert(0, str(BACKEND_DIR))

from gunicorn.glogging import Logger  # noqa: E402

from apps.core import logs  # noqa: E402


def log_format() -> str:
    """As the settings decide it: SECULITE_LOG_FORMAT, else json with the production settings."""
    chosen = os.environ.get("SECULITE_LOG_FORMAT", "").strip()
    if chosen:
        return chosen
    module = os.environ.get("DJANGO_SETTINGS_MODULE", "seculite_api.settings.production")
    return "json" if module.endswith(".production") else "plain"


def metrics_dir() -> str:
    var_dir = os.environ.get("SECULITE_VAR_DIR") or str(BACKEND_DIR / "var")
    return os.environ.get("SECULITE_METRICS_DIR") or str(Path(var_dir) / "metrics")


class SecuLiteLogger(Logger):
    """Access lines as structured JSON records (plain: Gunicorn's own access log format)."""

    def access(self, resp, req, environ, request_time):
        if LOG_FORMAT != "json":
            return super().access(resp, req, environ, request_time)
        headers = {name.lower(): value for name, value in resp.headers}
        request_id = headers.get("x-request-id") or logs.log_context().get("request_id")
        path = environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        self.access_log.info(
            "%s %s %s",
            environ.get("REQUEST_METHOD", "-"),
            path + (f"?{query}" if query else ""),
            resp.status_code,
            extra={
                "request_id": request_id,
                "method": environ.get("REQUEST_METHOD"),
                "path": path,
                "status": resp.status_code,
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "bytes": getattr(resp, "sent", None),
                "remote_addr": environ.get("HTTP_X_REAL_IP") or environ.get("REMOTE_ADDR"),
                "user_agent": environ.get("HTTP_USER_AGENT"),
            },
        )


LOG_FORMAT = log_format()
logger_class = SecuLiteLogger
if LOG_FORMAT == "json":
    logconfig_dict = logs.logging_config(log_format="json")
    for _name in ("gunicorn.error", "gunicorn.access"):
        logconfig_dict["loggers"][_name] = {
            "handlers": ["console"],
            "level": "INFO",
            "propagate": False,
            "qualname": _name,
        }

METRICS_DIR = metrics_dir()
# Read by prometheus_client when it is first imported: set before any worker imports the app.
os.environ["PROMETHEUS_MULTIPROC_DIR"] = METRICS_DIR


def on_starting(server):
    from apps.core.metrics import prepare_directory

    prepare_directory(METRICS_DIR)


def child_exit(server, worker):
    from apps.core.metrics import compact_dead_process

    try:
        compact_dead_process(worker.pid, METRICS_DIR)
    except Exception:
        server.log.exception("could not merge the metrics of worker %s", worker.pid)
