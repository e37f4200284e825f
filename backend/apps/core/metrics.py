"""Prometheus metrics of /api/v1/metrics/ (text exposition format 0.0.4).

Two sources:
- Request counters and latency histograms, counted by ObservabilityMiddleware in each web
  process. Under Gunicorn (several worker processes) they use prometheus_client's multiprocess
  mode: each process writes its values to a file under PROMETHEUS_MULTIPROC_DIR and a scrape adds
  up all files. Gunicorn's master merges the files of each exited worker into one archive file
  (`compact_dead_process`, from seculite_api/gunicorn_conf.py), so recycled workers
  (--max-requests) neither lose counts nor leave a growing pile of files.
- Platform state read from the database and the broker at scrape time (`PlatformCollector`):
  scans by status, tool runs by tool and status and their durations, Celery queue lengths,
  recent import throughput, findings by severity and status. Four aggregate queries, whatever
  the number of rows.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import logging
import os
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.mmap_dict import MmapedDict

logger = logging.getLogger("seculite.metrics")

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LOCK_FILE = ".lock"
#: Request latency buckets (seconds).
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: Tool run duration buckets (seconds): from a quick linter to a long DAST run.
TOOL_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
#: Imports finished within this window count for the throughput gauge.
IMPORT_WINDOW = timedelta(hours=24)
#: Seconds a scrape waits for the broker.
BROKER_TIMEOUT = 2.0
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# `_created` samples mean nothing to Prometheus here and do not exist in multiprocess mode.
disable_created_metrics()

# Registered in no registry: the view builds one per scrape (see `render`).
HTTP_REQUESTS = Counter(
    "seculite_http_requests",
    "HTTP requests answered, by method, URL pattern and status.",
    ["method", "route", "status"],
    registry=None,
)
HTTP_LATENCY = Histogram(
    "seculite_http_request_duration_seconds",
    "Time to answer an HTTP request in the Django stack, by method, URL pattern and status.",
    ["method", "route", "status"],
    buckets=HTTP_BUCKETS,
    registry=None,
)


def http_request_observe(*, method: str, route: str, status: int, seconds: float) -> None:
    method = method if method in METHODS else "other"
    labels = (method, route, str(status))
    HTTP_REQUESTS.labels(*labels).inc()
    HTTP_LATENCY.labels(*labels).observe(seconds)


# --- multiprocess files ------------------------------------------------------------------------
def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


@contextlib.contextmanager
def _locked(directory: str, kind: int):
    with open(Path(directory) / LOCK_FILE, "a+") as handle:
        fcntl.flock(handle, kind)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare_directory(directory: str) -> None:
    """Start empty (Gunicorn's master, at start): values of a previous run are gone, as after
    any restart of an exporter."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()


def compact_dead_process(pid: int, directory: str | None = None) -> None:
    """Add the counters and histograms of an exited process to the archive files and remove its
    own files (Gunicorn's master, on child_exit). Scrapes hold a shared lock while they read, so
    they never see a value twice or not at all."""
    directory = directory or multiprocess_dir()
    if not directory:
        return
    with _locked(directory, fcntl.LOCK_EX):
        for kind in ("counter", "histogram", "summary"):
            dead = Path(directory) / f"{kind}_{pid}.db"
            if not dead.exists():
                continue
            archive = MmapedDict(str(Path(directory) / f"{kind}_archive.db"))
            try:
                for key, value, timestamp, _ in MmapedDict.read_all_values_from_file(str(dead)):
                    current, _ts = archive.read_value(key)
                    archive.write_value(key, current + value, max(timestamp, _ts))
            finally:
                archive.close()
            dead.unlink()
        for live_gauge in glob.glob(os.path.join(directory, f"gauge_live*_{pid}.db")):
            os.remove(live_gauge)


# --- platform state ----------------------------------------------------------------------------
def _scans_by_status():
    from django.db.models import Count

    from apps.scans.models import Scan

    return list(
        Scan.objects.order_by()
        .values_list("trigger_type", "status")
        .annotate(n=Count("pk"))
        .values_list("trigger_type", "status", "n")
    )


def _tool_runs():
    """One query: per tool and status, how many runs, and the duration histogram's parts."""
    from django.db.models import Count, Q, Sum

    from apps.scans.models import ScanToolResult, TriggerType

    buckets = {
        f"le_{i}": Count("pk", filter=Q(duration_seconds__lte=bound))
        for i, bound in enumerate(TOOL_BUCKETS)
    }
    return list(
        ScanToolResult.objects.exclude(scan__trigger_type=TriggerType.IMPORT)
        .order_by()
        .values("tool_id", "status")
        .annotate(
            n=Count("pk"),
            timed=Count("duration_seconds"),
            seconds=Sum("duration_seconds"),
            **buckets,
        )
    )


def _recent_imports(now):
    """One query: finished imports of the window, their findings and processing time."""
    from django.db.models import Count, F, OuterRef, Subquery, Sum
    from django.db.models.functions import Coalesce

    from apps.scans.models import Scan, ScanStatus, ScanToolResult, TriggerType

    findings = (
        ScanToolResult.objects.filter(scan=OuterRef("pk"))
        .order_by()
        .values("scan")
        .annotate(total=Sum("findings_count"))
        .values("total")
    )
    return (
        Scan.objects.filter(
            trigger_type=TriggerType.IMPORT,
            status=ScanStatus.COMPLETED,
            finished_at__gte=now - IMPORT_WINDOW,
            started_at__isnull=False,
        )
        .annotate(found=Coalesce(Subquery(findings), 0))
        .aggregate(
            imports=Count("pk"), findings=Sum("found"), took=Sum(F("finished_at") - F("started_at"))
        )
    )


def _findings_by_severity_and_status():
    """One query over the finding counts that PostgreSQL's triggers keep per (project, status,
    severity rank) (apps.findings.counts): a few thousand rows however many findings exist
    (1M findings: ~20 ms, where a GROUP BY over the findings takes seconds)."""
    from apps.findings.counts import count_rows
    from apps.projects.models import Project

    return [
        (row["status"], row["severity_rank"], row["n"])
        for row in count_rows(Project.objects.values("pk"))
    ]


def queue_names() -> list[str]:
    """Every queue the platform routes work to: default, scans and the tool queues."""
    from django.conf import settings

    return [q.name for q in settings.CELERY_TASK_QUEUES]


def queue_lengths(names: list[str]) -> tuple[dict[str, int], int | None]:
    """Messages waiting per queue, and messages delivered to workers but not yet acknowledged
    (Redis only; None on the embedded broker). Redis: LLEN of each queue's lists; the embedded
    filesystem broker: its message files per queue."""
    from seculite_api.celery import app

    lengths = {}
    unacked = None
    with app.connection_for_write() as conn:
        # One quick try: an unreachable broker must not hold the scrape (it is reported).
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT)
        channel = conn.default_channel
        for name in names:
            # A passive declare fails on Redis for an empty (absent) list; declaring the
            # platform's own queues for real is harmless.
            lengths[name] = channel.queue_declare(queue=name, durable=True).message_count
        client = getattr(channel, "client", None)
        unacked_key = getattr(channel, "unacked_key", None)
        if client is not None and unacked_key:
            unacked = int(client.hlen(unacked_key))
    return lengths, unacked


class PlatformCollector:
    """Reads the platform's state at scrape time. A part that fails (a broker outage) is left
    out and counted in seculite_metrics_errors, so the rest is still reported."""

    def collect(self):
        from django.utils import timezone

        from apps.findings.models import SEVERITY_RANK, FindingStatus
        from apps.scans.models import ScanStatus, TriggerType

        errors = GaugeMetricFamily(
            "seculite_metrics_errors",
            "Parts of this scrape that could not be read (1) or were read (0).",
            labels=["part"],
        )

        def part(name, read):
            try:
                value = read()
            except Exception:
                logger.warning("metrics: could not read %s", name, exc_info=True)
                errors.add_metric([name], 1)
                return None
            errors.add_metric([name], 0)
            return value

        scans = part("scans", _scans_by_status)
        if scans is not None:
            family = GaugeMetricFamily(
                "seculite_scans", "Scans by trigger and status.", labels=["trigger", "status"]
            )
            counts = defaultdict(int)
            for trigger in TriggerType.values:
                for status in ScanStatus.values:
                    counts[(trigger, status)] = 0
            for trigger, status, n in scans:
                counts[(trigger, status)] += n
            for (trigger, status), n in sorted(counts.items()):
                family.add_metric([trigger, status], n)
            yield family

        runs = part("tool_runs", _tool_runs)
        if runs is not None:
            by_status = GaugeMetricFamily(
                "seculite_tool_runs",
                "Tool runs of scans by tool and status (imports excluded).",
                labels=["tool", "status"],
            )
            histogram = HistogramMetricFamily(
                "seculite_tool_run_duration_seconds",
                "Duration of finished tool runs by tool (from their start and finish).",
                labels=["tool"],
            )
            per_tool = defaultdict(lambda: {"buckets": [0] * len(TOOL_BUCKETS), "n": 0, "s": 0.0})
            for row in runs:
                by_status.add_metric([row["tool_id"], row["status"]], row["n"])
                if not row["timed"]:  # no duration yet (pending, running)
                    continue
                tool = per_tool[row["tool_id"]]
                tool["n"] += row["timed"]
                tool["s"] += row["seconds"] or 0.0
                for i in range(len(TOOL_BUCKETS)):
                    tool["buckets"][i] += row[f"le_{i}"]
            for slug, tool in sorted(per_tool.items()):
                buckets = [(str(b), c) for b, c in zip(TOOL_BUCKETS, tool["buckets"], strict=True)]
                buckets.append(("+Inf", tool["n"]))
                histogram.add_metric([slug], buckets, tool["s"])
            yield by_status
            yield histogram

        names = queue_names()
        queues = part("queues", lambda: queue_lengths(names))
        if queues is not None:
            lengths, unacked = queues
            family = GaugeMetricFamily(
                "seculite_celery_queue_length",
                "Tasks waiting in each Celery queue.",
                labels=["queue"],
            )
            for name in names:
                family.add_metric([name], lengths[name])
            yield family
            if unacked is not None:
                yield GaugeMetricFamily(
                    "seculite_celery_unacked_tasks",
                    "Tasks delivered to workers and not yet acknowledged (running or reserved).",
                    value=unacked,
                )

        imports = part("imports", lambda: _recent_imports(timezone.now()))
        if imports is not None:
            seconds = imports["took"].total_seconds() if imports["took"] else 0.0
            found = imports["findings"] or 0
            window = int(IMPORT_WINDOW.total_seconds())
            yield GaugeMetricFamily(
                "seculite_import_findings_per_second",
                f"Findings ingested per second of processing, over the report imports that "
                f"completed in the last {window} seconds (0 without any).",
                value=found / seconds if seconds else 0.0,
            )
            yield GaugeMetricFamily(
                "seculite_import_recent",
                f"Report imports completed in the last {window} seconds.",
                value=imports["imports"],
            )
            yield GaugeMetricFamily(
                "seculite_import_recent_findings",
                f"Findings of the report imports completed in the last {window} seconds.",
                value=found,
            )

        findings = part("findings", _findings_by_severity_and_status)
        if findings is not None:
            severity_of = {rank: name for name, rank in SEVERITY_RANK.items()}
            counts = {(sev, st): 0 for sev in SEVERITY_RANK for st in FindingStatus.values}
            for status, rank, n in findings:
                key = (severity_of.get(rank, "unknown"), status)
                counts[key] = counts.get(key, 0) + n
            family = GaugeMetricFamily(
                "seculite_findings",
                "Findings by effective severity and status.",
                labels=["severity", "status"],
            )
            for (severity, status), n in sorted(counts.items()):
                family.add_metric([severity, status], n)
            yield family

        yield errors


def render() -> bytes:
    """The exposition text: request metrics of every web process, then the platform's state."""
    registry = CollectorRegistry(auto_describe=False)
    directory = multiprocess_dir()
    if directory:
        from prometheus_client.multiprocess import MultiProcessCollector

        # Only the file reading holds the lock, not the database queries below.
        with _locked(directory, fcntl.LOCK_SH):
            merged = list(MultiProcessCollector(None, path=directory).collect())
        registry.register(_Fixed(merged))
    else:
        registry.register(HTTP_REQUESTS)
        registry.register(HTTP_LATENCY)
    registry.register(PlatformCollector())
    return generate_latest(registry)


class _Fixed:
    def __init__(self, families):
        self.families = families

    def collect(self):
        return self.families
