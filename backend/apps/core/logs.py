"""Structured logs: one JSON object per line on stdout (or a readable plain line), carrying the
request, user, scan and task a line belongs to, with secrets masked.

The context lives in a contextvar, filled by the request middleware (apps.core.middleware) and by
Celery's task signals (`celery_task_started` / `celery_task_finished`), and copied onto every
record by `ContextFilter`. `RedactingFilter` masks API keys, login tokens, Authorization and
Cookie values, passwords and URL credentials in every message and traceback, whatever logged it.

Imported by the settings and by Gunicorn's master: nothing here may need Django to be set up at
import time."""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import lru_cache

from django.utils.functional import LazyObject, empty

#: Context fields, in the order they appear in a line.
CONTEXT_FIELDS = ("request_id", "user_id", "scan_id", "tool_result_id", "task_id", "task_name")
#: Other record attributes that a line carries when a caller passed them in `extra`.
EXTRA_FIELDS = (
    "method",
    "path",
    "route",
    "status",
    "status_code",
    "duration_ms",
    "bytes",
    "remote_addr",
    "user_agent",
    "worker",
)
LOG_FORMATS = ("json", "plain")

_context: ContextVar[dict | None] = ContextVar("seculite_log_context", default=None)


# --- context ---------------------------------------------------------------------------------
def log_context() -> dict:
    """The current context (request_id, user_id, scan_id, task_id, ...); do not mutate."""
    return _context.get() or {}


def bind(**fields):
    """Add fields to the current context; returns a token for `reset`."""
    return _context.set({**log_context(), **fields})


def replace(**fields):
    """Start a fresh context with only these fields (a new request or task)."""
    return _context.set(dict(fields))


def reset(token) -> None:
    _context.reset(token)


def clear() -> None:
    _context.set(None)


@contextlib.contextmanager
def bound(**fields):
    """`with bound(scan_id=7): ...`: the fields apply to every line logged inside."""
    token = bind(**fields)
    try:
        yield
    finally:
        reset(token)


def request_user_id(request) -> int | None:
    """The authenticated user's id, without triggering authentication: only a user that Django's
    middleware or DRF already loaded counts (a log line must not query the database)."""
    user = getattr(request, "__dict__", {}).get("user")
    if isinstance(user, LazyObject):
        user = user._wrapped
        if user is empty:
            return None
    if user is not None and getattr(user, "is_authenticated", False):
        return user.pk
    return None


# --- redaction -------------------------------------------------------------------------------
MASK = "***"
#: Names whose value is a secret, in key=value, "key": "value" and key: value forms.
_SECRET_NAMES = "|".join(
    (
        "password",
        "passwd",
        "pwd",
        "secret",
        r"api[_-]?key",
        r"access[_-]?token",
        r"refresh[_-]?token",
        "sessionid",
        "csrftoken",
        "csrfmiddlewaretoken",
        r"private[_-]?key",
    )
)
_REDACTIONS: tuple[tuple[re.Pattern, str], ...] = (
    # SecuLite's API keys (slk_) and login tokens (slt_).
    (re.compile(r"\b(sl[kt]_)[A-Za-z0-9_\-]{4,}"), rf"\1{MASK}"),
    # Authorization and Cookie header values in any spelling (HTTP_AUTHORIZATION=, 'Cookie': ...).
    (
        re.compile(
            r"((?:authorization|cookie)[\"']?\s*[:=]\s*[\"']?)[^\"'\n]+",
            re.IGNORECASE,
        ),
        rf"\1{MASK}",
    ),
    # A credential after its scheme (it has a digit, unlike "Token authentication").
    (
        re.compile(r"\b(Token|Bearer|Basic) (?=[A-Za-z_\-.=+/]*[0-9])[A-Za-z0-9_\-.=+/]{8,}"),
        rf"\1 {MASK}",
    ),
    # key=value and "key": "value" pairs whose key names a secret.
    (
        re.compile(rf"((?:{_SECRET_NAMES})[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,;}}]+", re.IGNORECASE),
        rf"\1{MASK}",
    ),
    # Credentials inside URLs: scheme://user:password@host.
    (re.compile(r"(\b[a-z][a-z0-9+.\-]*://[^/\s:@]*:)[^/\s@]+@", re.IGNORECASE), rf"\1{MASK}@"),
    # Incoming scan webhooks carry their secret token in the path.
    (re.compile(r"(/webhooks/scans/)[^/\s?\"']+"), rf"\1{MASK}"),
)


def redact(text: str) -> str:
    """Mask secrets in a message or a traceback."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


# --- filters and formatters --------------------------------------------------------------------
class ContextFilter(logging.Filter):
    """Copy the current context onto the record (what the caller passed in `extra` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = log_context()
        for key in CONTEXT_FIELDS:
            if getattr(record, key, None) is None:
                setattr(record, key, context.get(key))
        if record.user_id is None and context.get("request") is not None:
            record.user_id = request_user_id(context["request"])
        if record.task_id is None:
            # Celery's "Task x[id] received/succeeded" lines carry the task in `extra={"data"}`.
            data = getattr(record, "data", None)
            if isinstance(data, dict) and isinstance(data.get("id"), str):
                record.task_id = data["id"]
        return True


class RedactingFilter(logging.Filter):
    """Render the message (and traceback) once, with secrets masked, before any handler sees it.
    Defence in depth: code should not log secrets in the first place."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_seculite_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the line
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._seculite_redacted = True
        return True


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, logger, message, then whichever context and
    known extra fields the record has. Nothing else of the record (request objects, task
    arguments, headers) is ever serialized."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "timestamp": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in (*CONTEXT_FIELDS, *EXTRA_FIELDS):
            value = getattr(record, key, None)
            if value is not None and value != "":
                line[key] = value if isinstance(value, int | float | bool) else str(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        line["pid"] = record.process
        return json.dumps(line, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    """`2025-01-31T12:00:00.123Z INFO seculite.scans message [scan_id=7 task_id=...]`."""

    def format(self, record: logging.LogRecord) -> str:
        context = " ".join(
            f"{key}={getattr(record, key)}"
            for key in CONTEXT_FIELDS
            if getattr(record, key, None) not in (None, "")
        )
        text = f"{_timestamp(record)} {record.levelname} {record.name} {record.getMessage()}"
        if context:
            text += f" [{context}]"
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            text += "\n" + record.exc_text
        if record.stack_info:
            text += "\n" + record.stack_info
        return text


def logging_config(*, log_format: str, level: str = "INFO") -> dict:
    """Django's LOGGING: everything to stdout through one handler, in `log_format`."""
    if log_format not in LOG_FORMATS:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"SECULITE_LOG_FORMAT={log_format!r}: use one of {', '.join(LOG_FORMATS)}."
        )
    # No handlers of their own: everything propagates to the root handler.
    own = {"handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": "apps.core.logs.ContextFilter"},
            "redact": {"()": "apps.core.logs.RedactingFilter"},
        },
        "formatters": {
            "json": {"()": "apps.core.logs.JsonFormatter"},
            "plain": {"()": "apps.core.logs.PlainFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                # The real stdout, also once Celery has replaced sys.stdout by a logger proxy.
                "stream": "ext://sys.__stdout__",
                "formatter": log_format,
                "filters": ["context", "redact"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Drop Django's own handlers (a plain console handler in DEBUG, mail_admins, the
            # runserver format) so that every line goes through the one above, exactly once.
            "django": {**own, "level": level},
            "django.server": {**own, "level": level},
            # SQL with its parameters only at DEBUG, never by default.
            "django.db.backends": {**own, "level": "INFO"},
        },
    }


def configure(config: dict) -> None:
    """Django's LOGGING_CONFIG: apply LOGGING, and send Python warnings (a library's
    deprecation, Celery's running-as-root warning) through it instead of raw stderr."""
    import logging.config

    logging.config.dictConfig(config)
    logging.captureWarnings(True)


def configure_from_settings(loglevel: int | str | None = None) -> None:
    """Apply settings.LOGGING (Celery's `setup_logging` signal); Celery's -l sets `celery`."""
    from django.conf import settings

    configure(settings.LOGGING)
    if loglevel:
        logging.getLogger("celery").setLevel(loglevel)


# --- Celery ------------------------------------------------------------------------------------
task_logger = logging.getLogger("seculite.tasks")
_task_tokens: dict[str, object] = {}


@lru_cache(maxsize=256)
def _parameters(task) -> tuple[str, ...]:
    try:
        return tuple(inspect.signature(task.run).parameters)
    except (TypeError, ValueError):
        return ()


def task_scan_fields(task, args, kwargs) -> dict:
    """scan_id (and tool_result_id) of a task about a scan, from its arguments: `scan_id`
    directly, a tool run's `result_id` through its row."""
    named = dict(zip(_parameters(task), args or (), strict=False))
    named.update(kwargs or {})
    fields = {}
    if isinstance(named.get("scan_id"), int):
        fields["scan_id"] = named["scan_id"]
    elif isinstance(named.get("result_id"), int) and task.name.startswith("apps.scans."):
        from apps.scans.models import ScanToolResult

        fields["tool_result_id"] = named["result_id"]
        scan_id = (
            ScanToolResult.objects.filter(pk=named["result_id"])
            .values_list("scan_id", flat=True)
            .first()
        )
        if scan_id is not None:
            fields["scan_id"] = scan_id
    return fields


def celery_task_started(sender=None, task_id=None, task=None, args=None, kwargs=None, **_):
    """task_prerun: a fresh context for the task (keeping the request id it was sent from)."""
    task = task or sender
    request_id = getattr(getattr(task, "request", None), "seculite_request_id", None)
    if not isinstance(request_id, str):
        # An eager task (tests) runs inside the request that sent it.
        request_id = log_context().get("request_id")
    fields = {"task_id": task_id, "task_name": getattr(task, "name", None)}
    if request_id:
        fields["request_id"] = request_id
    try:
        fields.update(task_scan_fields(task, args, kwargs))
    except Exception:  # the task must run even when its context cannot be found
        task_logger.warning("could not find the scan of task %s", task_id, exc_info=True)
    _task_tokens[task_id] = replace(**fields)
    task_logger.info("task started")


def celery_task_finished(sender=None, task_id=None, **_):
    """task_postrun: back to the context before the task (nested eager tasks)."""
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        with contextlib.suppress(ValueError):
            reset(token)


def celery_task_publishing(headers=None, **_):
    """before_task_publish: tasks sent while handling a request carry its id."""
    request_id = log_context().get("request_id")
    if request_id and headers is not None:
        headers.setdefault("seculite_request_id", request_id)


def connect_celery(app) -> None:
    """Wire logging into Celery: our LOGGING in worker and beat, context per task."""
    from celery import signals

    def setup_logging(loglevel=None, **kwargs):
        configure_from_settings(loglevel)
        # As Celery does by default: stray prints (a console e-mail backend, a library) become
        # log lines too, so that the process writes nothing but log lines.
        app.log.redirect_stdouts(app.conf.worker_redirect_stdouts_level)

    signals.setup_logging.connect(setup_logging, weak=False)
    signals.task_prerun.connect(celery_task_started, weak=False)
    signals.task_postrun.connect(celery_task_finished, weak=False)
    signals.before_task_publish.connect(celery_task_publishing, weak=False)
