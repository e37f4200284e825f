"""The reaper and report imports: an import is its own task (a report is read, no scanner runs),
so a lost or stalled import is sent again to that task, never started or retried as a scan (which
would run the format's scanner on the "Imported reports" target and auto-resolve its findings)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.findings.models import Finding
from apps.findings.services.imports import report_import_process
from apps.findings.tests.import_helpers import client_for, fixture, upload
from apps.scans.models import Scan, ScanToolResult
from apps.scans.services import execution

pytestmark = pytest.mark.django_db

REPORT = fixture("bandit", "bandit-many.json")


@pytest.fixture(autouse=True)
def _own_media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def sent(monkeypatch):
    """What the reaper sends, by task (nothing reaches the broker)."""
    queued = {"import": [], "scan_start": [], "tool_run": []}
    monkeypatch.setattr(
        "apps.findings.jobs.imports.report_import_process.delay", queued["import"].append
    )
    monkeypatch.setattr("apps.scans.tasks.scan_start.delay", queued["scan_start"].append)
    monkeypatch.setattr("apps.scans.tasks.tool_run.delay", queued["tool_run"].append)
    return queued


@pytest.fixture
def queue_empty(monkeypatch):
    lengths = {"scans": 0}
    monkeypatch.setattr("apps.core.selectors.queue_length", lambda name: lengths.get(name, 0))
    return lengths


def lost_import(world) -> Scan:
    """An uploaded report whose task message never arrived (its on-commit send was lost)."""
    response = upload(client_for(world.users["member"]), world.project_a, REPORT.read_bytes())
    assert response.status_code == 202, response.content[:300]
    scan = Scan.objects.get(pk=response.json()["id"])
    assert (scan.trigger_type, scan.status) == ("import", "queued")
    return scan


def age(scan: Scan, settings, **tool_result_fields) -> None:
    """No sign of life from `scan` for longer than SECULITE_REDISPATCH_SECONDS."""
    old = timezone.now() - timedelta(seconds=settings.SECULITE_REDISPATCH_SECONDS + 5)
    Scan.objects.filter(pk=scan.pk).update(updated_at=old)
    ScanToolResult.objects.filter(scan=scan).update(updated_at=old, **tool_result_fields)


def test_a_lost_queued_import_is_sent_to_the_import_task(world, settings, sent, queue_empty):
    scan = lost_import(world)
    age(scan, settings)
    report = execution.scans_reap()
    assert report["imports"] == 1 and report["restarted"] == 0
    assert sent == {"import": [scan.pk], "scan_start": [], "tool_run": []}
    # Sent once: the next reaper run waits another SECULITE_REDISPATCH_SECONDS.
    assert execution.scans_reap()["imports"] == 0
    assert sent["import"] == [scan.pk]
    # The re-sent task imports the report.
    report_import_process(scan_id=scan.pk, task_id="resent")
    scan.refresh_from_db()
    assert scan.status == "completed"
    assert scan.tool_results.get().tool_id == "bandit"
    assert Finding.objects.filter(sighting__scan=scan).count() == scan.summary["total"] > 0


def test_a_queued_import_waits_while_the_queue_still_holds_messages(
    world, settings, sent, queue_empty
):
    scan = lost_import(world)
    age(scan, settings)
    queue_empty["scans"] = 3  # its message may be among them
    assert execution.scans_reap()["imports"] == 0
    assert sent == {"import": [], "scan_start": [], "tool_run": []}


def test_a_stalled_import_is_sent_again_and_taken_over(world, settings, sent, queue_empty):
    scan = lost_import(world)
    dead = timezone.now() - timedelta(seconds=settings.SECULITE_HEARTBEAT_TIMEOUT + 5)
    Scan.objects.filter(pk=scan.pk).update(status="running", started_at=dead)
    age(
        scan,
        settings,
        status="running",
        heartbeat_at=dead,
        attempts=1,
        celery_task_id="dead-task",
        worker="dead@host",
    )
    run = scan.tool_results.get()
    # The tool-run reaper (also run by every tool's heartbeat) leaves it to imports_reap.
    execution.tool_runs_reap_stale()
    assert ScanToolResult.objects.get(pk=run.pk).status == "running"
    assert run.pk not in sent["tool_run"]

    report = execution.scans_reap()
    assert report["imports"] == 1
    assert sent["import"] == [scan.pk] and sent["scan_start"] == []
    assert run.pk not in sent["tool_run"]
    assert execution.scans_reap()["imports"] == 0  # sent again at most once a period
    report_import_process(scan_id=scan.pk, task_id="resent")
    scan.refresh_from_db()
    result = scan.tool_results.get()
    assert scan.status == "completed"
    assert (result.status, result.attempts, result.celery_task_id) == ("completed", 2, "resent")
    assert Finding.objects.filter(sighting__scan=scan).count() == result.findings_count > 0


def test_a_live_import_is_left_alone(world, settings, sent, queue_empty):
    scan = lost_import(world)
    Scan.objects.filter(pk=scan.pk).update(status="running")
    age(scan, settings, status="running", heartbeat_at=timezone.now(), attempts=1)
    assert execution.scans_reap()["imports"] == 0
    assert sent == {"import": [], "scan_start": [], "tool_run": []}
    assert scan.tool_results.get().status == "running"
