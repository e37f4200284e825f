"""The heartbeat of a running tool also reaps the runs of dead workers: when every worker slot
is busy, the beat-scheduled reaper waits for a free one (found by verify/test_faults.py: a
killed worker's runs waited as long as the tools the new worker had started first)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.scans.models import Scan, ScanToolResult
from apps.scans.services import execution

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    queued = []
    monkeypatch.setattr("apps.scans.tasks.tool_run.delay", lambda pk: queued.append(pk))
    return queued


def _dead_and_alive(world, settings, attempts=1):
    old = timezone.now() - timedelta(seconds=settings.SECULITE_HEARTBEAT_TIMEOUT + 5)
    ScanToolResult.objects.filter(pk=world.result_a.pk).update(
        status="running", heartbeat_at=old, attempts=attempts, worker="dead@host"
    )
    ScanToolResult.objects.filter(pk=world.result_b.pk).update(
        status="running", heartbeat_at=timezone.now(), attempts=1, worker="alive@host"
    )


def test_a_running_tools_heartbeat_reaps_a_dead_workers_run(
    world, settings, sent, django_capture_on_commit_callbacks
):
    settings.SECULITE_REAPER_SECONDS = 0
    _dead_and_alive(world, settings)
    watch = execution._Watch(ScanToolResult.objects.get(pk=world.result_b.pk))
    with django_capture_on_commit_callbacks(execute=True):
        assert watch() is False
    dead = ScanToolResult.objects.get(pk=world.result_a.pk)
    assert dead.status == "pending" and "dead@host stopped responding" in dead.error_message
    assert sent == [world.result_a.pk]
    assert ScanToolResult.objects.get(pk=world.result_b.pk).status == "running"


def test_the_heartbeat_reaps_at_most_once_per_reaper_period(world, settings, sent):
    settings.SECULITE_REAPER_SECONDS = 3600
    _dead_and_alive(world, settings)
    watch = execution._Watch(ScanToolResult.objects.get(pk=world.result_b.pk))
    watch()
    assert ScanToolResult.objects.get(pk=world.result_a.pk).status == "running"
    assert sent == []


def test_a_failing_reap_does_not_break_the_heartbeat(world, settings, monkeypatch):
    settings.SECULITE_REAPER_SECONDS = 0

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(execution, "tool_runs_reap_stale", broken)
    Scan.objects.filter(pk=world.scan_b.pk).update(cancel_requested=True)
    watch = execution._Watch(ScanToolResult.objects.get(pk=world.result_b.pk))
    assert watch() is True  # the cancel check still answers


def test_reaping_the_last_attempt_finishes_the_scan(world, settings, sent):
    _dead_and_alive(world, settings, attempts=settings.SECULITE_TOOL_MAX_ATTEMPTS)
    report = execution.tool_runs_reap_stale()
    assert report == {"retried": 0, "failed": 1}
    scan = Scan.objects.get(pk=world.scan_a.pk)
    assert scan.status == "failed" and "stopped responding" in scan.error_message
    assert sent == []
