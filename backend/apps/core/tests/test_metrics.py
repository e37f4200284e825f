"""/api/v1/metrics/: who may read it, what it reports (from real rows, the real Redis broker and
the embedded broker), how many queries it costs, and request counters shared by processes."""

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from apps.core import metrics

pytestmark = pytest.mark.django_db

URL = "/api/v1/metrics/"


def scrape(client=None, **extra) -> dict:
    """{(name, labels as a sorted tuple): value} of one scrape (fails unless it answered 200)."""
    response = (client or APIClient()).get(URL, **extra)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples[(name, tuple(sorted(labels.items())))]


# --- access --------------------------------------------------------------------------------------
def test_anonymous_callers_outside_the_allowed_addresses_are_refused(settings):
    settings.SECULITE_METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    response = APIClient().get(URL)  # from 127.0.0.1
    assert response.status_code == 401
    assert response.json()["error_code"] == "not_authenticated"


def test_allowed_addresses_need_no_credentials(settings):
    settings.SECULITE_METRICS_ALLOWED_IPS = ["127.0.0.1/32", "::1/128"]
    assert value(scrape(), "seculite_metrics_errors", part="scans") == 0
    settings.SECULITE_METRICS_ALLOWED_IPS = ["192.0.2.0/24"]
    assert value(scrape(REMOTE_ADDR="192.0.2.7"), "seculite_metrics_errors", part="scans") == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_X_REAL_IP": "203.0.113.9"},
        {"HTTP_X_FORWARDED_FOR": "203.0.113.9, 127.0.0.1"},
        {"HTTP_X_REAL_IP": "not-an-address"},
    ],
)
def test_a_proxied_caller_from_outside_is_refused_although_the_peer_is_allowed(settings, headers):
    settings.SECULITE_METRICS_ALLOWED_IPS = ["127.0.0.1/32"]
    assert APIClient().get(URL, **headers).status_code == 401


def test_a_forged_header_cannot_widen_access(settings):
    settings.SECULITE_METRICS_ALLOWED_IPS = ["127.0.0.1/32"]
    response = APIClient().get(URL, REMOTE_ADDR="203.0.113.9", HTTP_X_REAL_IP="127.0.0.1")
    assert response.status_code == 401


def test_staff_may_read_it_from_anywhere_other_users_may_not(world):
    client = APIClient()
    client.force_authenticate(world.users["owner"])
    response = client.get(URL, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 403
    assert response.json()["error_code"] == "permission_denied"
    client.force_authenticate(world.users["staff"])
    assert (
        value(
            scrape(client, REMOTE_ADDR="203.0.113.9"),
            "seculite_scans",
            status="running",
            trigger="manual",
        )
        == 2
    )


def test_a_staff_users_api_key_works_for_a_scraper(world):
    from apps.users.services import api_key_rotate

    key = api_key_rotate(user=world.users["staff"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert scrape(client, HTTP_ACCEPT="text/plain;version=0.0.4")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {api_key_rotate(user=world.users['admin'])}")
    assert other.get(URL).status_code == 403


# --- content -------------------------------------------------------------------------------------
@pytest.fixture
def platform(world):
    """Scans, tool runs with durations, a finished import and findings of known counts."""
    from apps.findings.models import SEVERITY_RANK, Finding
    from apps.scans.models import Scan, ScanToolResult

    now = timezone.now()
    scan = Scan.objects.create(
        project=world.project_a,
        configuration=world.config_a,
        trigger_type="api",
        status="completed",
    )
    for tool, target, seconds in (
        ("bandit", world.target_a, 3.0),
        ("semgrep", world.target_a, 45.0),
        ("semgrep", world.repo_a, 200.0),
    ):
        ScanToolResult.objects.create(
            scan=scan, tool_id=tool, target=target, status="completed", duration_seconds=seconds
        )
    imported = Scan.objects.create(
        project=world.project_a,
        trigger_type="import",
        status="completed",
        started_at=now - timedelta(seconds=10),
        finished_at=now,
    )
    for tool, found in (("trivy", 300), ("gitleaks", 100)):
        ScanToolResult.objects.create(
            scan=imported,
            tool_id=tool,
            target=world.target_a,
            status="completed",
            findings_count=found,
            duration_seconds=9.0,
        )
    old = Scan.objects.create(
        project=world.project_a,
        trigger_type="import",
        status="completed",
        started_at=now - timedelta(days=3, seconds=1),
        finished_at=now - timedelta(days=3),
    )
    ScanToolResult.objects.create(
        scan=old, tool_id="trivy", target=world.repo_a, status="completed", findings_count=999
    )
    rows = [("high", "new")] * 3 + [("critical", "confirmed")] * 2 + [("low", "resolved")]
    for i, (severity, status) in enumerate(rows):
        Finding.objects.create(
            project=world.project_a,
            target=world.target_a,
            tool_id="bandit",
            title=f"f{i}",
            severity=severity,
            severity_rank=SEVERITY_RANK[severity],
            fingerprint=f"fp{i}",
            status=status,
            first_seen_at=now,
        )
    return world


def staff_client(world):
    client = APIClient()
    client.force_authenticate(world.users["staff"])
    return client


def test_scans_tool_runs_imports_and_findings_are_reported(platform):
    client = staff_client(platform)
    client.get("/api/v1/no-such-page/")
    samples = scrape(client)
    assert value(samples, "seculite_scans", trigger="manual", status="running") == 2
    assert value(samples, "seculite_scans", trigger="api", status="completed") == 1
    assert value(samples, "seculite_scans", trigger="import", status="completed") == 2
    assert value(samples, "seculite_scans", trigger="api", status="failed") == 0
    # Tool runs by status; imports are not tool runs.
    assert value(samples, "seculite_tool_runs", tool="semgrep", status="completed") == 2
    assert value(samples, "seculite_tool_runs", tool="bandit", status="running") == 2
    assert not [
        key for key in samples if key[0] == "seculite_tool_runs" and ("tool", "trivy") in key[1]
    ]
    # Durations as a histogram per tool: cumulative buckets, count and sum.
    hist = "seculite_tool_run_duration_seconds"
    assert value(samples, f"{hist}_bucket", tool="semgrep", le="30.0") == 0
    assert value(samples, f"{hist}_bucket", tool="semgrep", le="60.0") == 1
    assert value(samples, f"{hist}_bucket", tool="semgrep", le="300.0") == 2
    assert value(samples, f"{hist}_bucket", tool="semgrep", le="+Inf") == 2
    assert value(samples, f"{hist}_count", tool="semgrep") == 2
    assert value(samples, f"{hist}_sum", tool="semgrep") == 245.0
    assert value(samples, f"{hist}_bucket", tool="bandit", le="5.0") == 1
    # The import of the last 24 hours: 400 findings in 10 seconds (the old one is left out).
    assert value(samples, "seculite_import_recent") == 1
    assert value(samples, "seculite_import_recent_findings") == 400
    assert value(samples, "seculite_import_findings_per_second") == pytest.approx(40.0)
    # Findings by effective severity and status, zeros included.
    assert value(samples, "seculite_findings", severity="high", status="new") == 3
    assert value(samples, "seculite_findings", severity="critical", status="confirmed") == 2
    assert value(samples, "seculite_findings", severity="low", status="resolved") == 1
    assert value(samples, "seculite_findings", severity="medium", status="new") == 0
    # Requests are counted too.
    assert (
        value(
            samples, "seculite_http_requests_total", method="GET", route="unmatched", status="404"
        )
        >= 1
    )


def test_a_scrape_costs_the_same_few_queries_however_many_rows(platform):
    from apps.findings.models import Finding

    client = staff_client(platform)
    client.get(URL)  # warm-up: content types, permissions caches
    with CaptureQueriesContext(connection) as small:
        scrape(client)
    now = timezone.now()
    Finding.objects.bulk_create(
        Finding(
            project=platform.project_b,
            target=platform.target_b,
            tool_id="bandit",
            title=f"n{i}",
            severity="medium",
            severity_rank=2,
            fingerprint=f"bulk{i}",
            status="new",
            first_seen_at=now,
        )
        for i in range(500)
    )
    with CaptureQueriesContext(connection) as large:
        samples = scrape(client)
    assert value(samples, "seculite_findings", severity="medium", status="new") == 500
    assert len(small.captured_queries) == len(large.captured_queries) == 4, [
        q["sql"][:120] for q in large.captured_queries
    ]


def test_a_part_that_fails_is_reported_and_the_rest_still_is(platform, monkeypatch):
    def broken(names):
        raise ConnectionError("broker down")

    monkeypatch.setattr(metrics, "queue_lengths", broken)
    samples = scrape(staff_client(platform))
    assert value(samples, "seculite_metrics_errors", part="queues") == 1
    assert value(samples, "seculite_metrics_errors", part="findings") == 0
    assert not [key for key in samples if key[0] == "seculite_celery_queue_length"]
    assert value(samples, "seculite_findings", severity="high", status="new") == 3


def test_an_unreachable_broker_is_reported_quickly(platform, monkeypatch):
    import time

    from seculite_api.celery import app

    real = app.connection_for_write
    monkeypatch.setattr(
        app, "connection_for_write", lambda url=None, **kw: real("redis://127.0.0.1:1/0", **kw)
    )
    started = time.monotonic()
    samples = scrape(staff_client(platform))
    assert time.monotonic() - started < 10
    assert value(samples, "seculite_metrics_errors", part="queues") == 1
    assert value(samples, "seculite_scans", trigger="api", status="completed") == 1


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_queue_lengths_come_from_the_redis_broker(world, redis_url):
    """Tasks sent with no worker running wait in Redis: LLEN per queue."""
    import redis as redis_client

    from seculite_api.celery import app

    assert app.conf.broker_url.startswith("redis://")
    broker = redis_client.Redis.from_url(app.conf.broker_url)
    broker.flushdb()
    try:
        for _ in range(3):
            app.send_task("apps.scans.tasks.scans_queue_probe", args=["m"], queue="scans")
        app.send_task("apps.core.tasks.beat_heartbeat", queue="default")
        samples = scrape(staff_client(world))
        assert value(samples, "seculite_celery_queue_length", queue="scans") == 3
        assert value(samples, "seculite_celery_queue_length", queue="default") == 1
        assert value(samples, "seculite_celery_unacked_tasks") == 0
    finally:
        broker.flushdb()


def test_queue_lengths_on_the_embedded_broker(tmp_path):
    """No Redis: the filesystem broker's waiting messages per queue; no unacked count."""
    from django.conf import settings

    code = (
        "import django, json; django.setup(); "
        "from seculite_api.celery import app; "
        "[app.send_task('apps.scans.tasks.scans_queue_probe', args=['m'], queue='scans') "
        " for _ in range(2)]; "
        "from apps.core.metrics import queue_lengths; "
        "print(json.dumps(queue_lengths(['default', 'scans'])))"
    )
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "seculite_api.settings.local",
        "SECULITE_VAR_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lengths, unacked = json.loads(done.stdout.strip().splitlines()[-1])
    assert lengths == {"default": 0, "scans": 2}
    assert unacked is None


# --- request metrics across processes ----------------------------------------------------------
WRITER = """
import os, sys
from apps.core import metrics
for _ in range(int(sys.argv[1])):
    metrics.http_request_observe(method="GET", route="/api/v1/health/", status=200, seconds=0.02)
metrics.http_request_observe(method="BREW", route="/x/", status=418, seconds=3.0)
print(os.getpid())
"""


def write_in_a_process(directory, count: int) -> int:
    from django.conf import settings

    done = subprocess.run(
        [sys.executable, "-c", WRITER, str(count)],
        cwd=settings.BACKEND_DIR,
        env={"PATH": os.environ["PATH"], "PROMETHEUS_MULTIPROC_DIR": str(directory)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


def totals(directory) -> dict:
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))
    samples = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_counts_of_exited_workers_are_merged_without_loss(tmp_path):
    """What Gunicorn's master does on child_exit: each exited process's files are folded into
    the archive; the totals never change and the files do not pile up."""
    metrics.prepare_directory(str(tmp_path))
    pids = [write_in_a_process(tmp_path, n) for n in (5, 7)]
    before = totals(tmp_path)
    health = (
        "seculite_http_requests_total",
        (("method", "GET"), ("route", "/api/v1/health/"), ("status", "200")),
    )
    assert before[health] == 12
    assert (
        before[
            (
                "seculite_http_requests_total",
                (("method", "other"), ("route", "/x/"), ("status", "418")),
            )
        ]
        == 2
    )
    for pid in pids:
        metrics.compact_dead_process(pid, str(tmp_path))
        assert totals(tmp_path) == before
    assert sorted(p.name for p in tmp_path.glob("*.db")) == [
        "counter_archive.db",
        "histogram_archive.db",
    ]
    more = write_in_a_process(tmp_path, 4)
    metrics.compact_dead_process(more, str(tmp_path))
    after = totals(tmp_path)
    assert after[health] == 16
    latency = (
        "seculite_http_request_duration_seconds_bucket",
        (("le", "0.025"), ("method", "GET"), ("route", "/api/v1/health/"), ("status", "200")),
    )
    assert after[latency] == 16


def test_the_endpoint_reads_the_files_of_every_process(tmp_path, world, monkeypatch):
    metrics.prepare_directory(str(tmp_path))
    write_in_a_process(tmp_path, 9)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    samples = scrape(staff_client(world))
    assert (
        value(
            samples,
            "seculite_http_requests_total",
            method="GET",
            route="/api/v1/health/",
            status="200",
        )
        == 9
    )
    assert value(samples, "seculite_scans", trigger="manual", status="running") == 2
