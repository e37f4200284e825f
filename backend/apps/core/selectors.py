"""Read-only checks of the platform's own health: database, broker, workers, beat."""

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC

from django.core.cache import cache
from django.db import connection

logger = logging.getLogger("seculite.health")

WORKER_COUNT_CACHE_KEY = "seculite:health:workers"
WORKER_COUNT_CACHE_SECONDS = 5


@dataclass
class HealthReport:
    database: str = "ok"
    broker: str = "ok"
    workers: int = 0
    beat_last_seen: str | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return self.database == "ok" and self.broker == "ok"


def database_check() -> None:
    """Raise if the default database does not answer a trivial query."""
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def broker_check(timeout: float) -> None:
    """Raise if the Celery broker cannot be reached within `timeout` seconds."""
    from seculite_api.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)


def worker_count(timeout: float) -> int:
    """Workers that answered a broadcast ping within `timeout`; cached for a few seconds."""
    cached = cache.get(WORKER_COUNT_CACHE_KEY)
    if cached:
        return cached
    from seculite_api.celery import app

    replies = app.control.ping(timeout=timeout) or []
    count = len(replies)
    if count:
        cache.set(WORKER_COUNT_CACHE_KEY, count, WORKER_COUNT_CACHE_SECONDS)
    return count


def beat_last_seen() -> str | None:
    """When beat's periodic heartbeat last ran on a worker (ISO 8601, UTC), or None."""
    from .models import Heartbeat

    seen = Heartbeat.objects.filter(name="beat").values_list("last_seen", flat=True).first()
    return seen.astimezone(UTC).isoformat() if seen else None


def health_report(*, ping_timeout: float) -> HealthReport:
    """Check database, broker and workers; never raises."""
    report = HealthReport()
    started = time.monotonic()
    try:
        database_check()
        report.beat_last_seen = beat_last_seen()
    except Exception as exc:  # any driver error means the same thing to the caller
        logger.warning("health: database unavailable (%s)", type(exc).__name__)
        report.database = "unavailable"
        report.errors["database"] = ["The database did not answer."]
    try:
        broker_check(timeout=max(ping_timeout, 1.0))
    except Exception as exc:
        logger.warning("health: broker unavailable (%s)", type(exc).__name__)
        report.broker = "unavailable"
        report.errors["broker"] = ["The Celery broker did not answer."]
    if report.broker == "ok":
        try:
            report.workers = worker_count(timeout=ping_timeout)
        except Exception as exc:
            logger.warning("health: worker ping failed (%s)", type(exc).__name__)
    logger.debug("health check took %.3fs", time.monotonic() - started)
    return report


def queue_length(name: str) -> int | None:
    """Messages waiting in a Celery queue (None when the broker cannot tell)."""
    from seculite_api.celery import app

    try:
        with app.connection_for_write() as conn:
            # A passive declare fails on Redis for an empty (absent) list: declare it for real,
            # which is harmless for the platform's own queues.
            return conn.default_channel.queue_declare(queue=name, durable=True).message_count
    except Exception:
        logger.warning("could not read the length of queue %s", name)
        return None
