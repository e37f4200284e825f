"""Retention: old raw scanner output files are deleted (paths cleared), old closed findings are
deleted in batches, and open findings, false positives and accepted risks are never touched."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.models import SystemSettings
from apps.findings.jobs.retention import retention_purge
from apps.findings.models import Finding, FindingComment, FindingHistory, ReportImport
from apps.findings.services.retention import (
    closed_findings_purge,
    orphan_uploads_purge,
    raw_output_purge,
)
from apps.findings.tests.reporting import make_finding, make_scan
from apps.scans.models import ScanToolResult

pytestmark = pytest.mark.django_db


def raw_file(relative: str, text: str = "{}") -> Path:
    path = Path(settings.MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def tool_result(world, relative: str, *, age_days: int, status="completed") -> ScanToolResult:
    scan = make_scan(world.project_a, status=status)
    finished = timezone.now() - timedelta(days=age_days)
    return ScanToolResult.objects.create(
        scan=scan,
        tool_id="bandit",
        target=world.target_a,
        status="completed",
        raw_output_path=relative,
        finished_at=finished,
    )


def test_raw_output_older_than_the_setting_is_deleted(world):
    old_path = raw_file("scan_tool_outputs/2020/01/02/scan-1/bandit-target-1/report.json")
    new_path = raw_file("scan_tool_outputs/2030/01/02/scan-2/bandit-target-1/report.json")
    running_path = raw_file("scan_tool_outputs/2020/01/03/scan-3/bandit-target-1/report.json")
    old = tool_result(world, str(old_path.relative_to(settings.MEDIA_ROOT)), age_days=100)
    new = tool_result(world, str(new_path.relative_to(settings.MEDIA_ROOT)), age_days=10)
    running = tool_result(
        world, str(running_path.relative_to(settings.MEDIA_ROOT)), age_days=100, status="running"
    )
    SystemSettings.objects.update_or_create(pk=1, defaults={"retention_days_raw_output": 90})
    report = retention_purge.delay().get()
    assert report["raw_outputs"] == 1
    old.refresh_from_db()
    new.refresh_from_db()
    running.refresh_from_db()
    assert old.raw_output_path == "" and not old_path.exists()
    # Empty folders go too, up to (not including) MEDIA_ROOT.
    assert not (Path(settings.MEDIA_ROOT) / "scan_tool_outputs/2020/01/02").exists()
    assert new.raw_output_path and new_path.exists()
    assert running.raw_output_path and running_path.exists()  # its scan is not finished
    assert ScanToolResult.objects.filter(pk=old.pk).exists()  # the row itself stays


def test_raw_output_purge_never_leaves_media_root(world, tmp_path):
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me")
    escapes = [os.path.relpath(outside, settings.MEDIA_ROOT), str(outside)]
    assert escapes[0].startswith("..")
    results = [tool_result(world, relative, age_days=400) for relative in escapes]
    assert raw_output_purge(days=1) == 0
    assert outside.exists()
    for result, relative in zip(results, escapes, strict=True):
        result.refresh_from_db()
        assert result.raw_output_path == relative


def test_uploaded_reports_of_old_imports_are_raw_output_too(world):
    path = raw_file("imports/2020/01/02/report.sarif")
    scan = make_scan(world.project_a)
    report = ReportImport.objects.create(
        scan=scan,
        project=world.project_a,
        file_path=str(path.relative_to(settings.MEDIA_ROOT)),
        original_name="report.sarif",
    )
    ReportImport.objects.filter(pk=report.pk).update(
        created_at=timezone.now() - timedelta(days=100)
    )
    assert raw_output_purge(days=90) == 1
    report.refresh_from_db()
    assert report.file_path == "" and not path.exists()


def test_uploads_no_import_refers_to_are_deleted_after_an_hour(world, tmp_path):
    """A web worker killed in the middle of an upload leaves the part it wrote, with no import
    row: the nightly purge deletes it (whatever the retention days), and nothing else."""
    hours_ago = (timezone.now() - timedelta(hours=2)).timestamp()
    orphan = raw_file("imports/2026/11/27/" + "a" * 32, "partial")
    deleted_scan = raw_file("imports/2026/10/01/" + "d" * 32)
    kept = raw_file("imports/2026/11/27/" + "b" * 32)
    fresh = raw_file("imports/2026/11/28/" + "c" * 32, "still being written")
    outside = tmp_path / "secret.txt"
    outside.write_text("keep me")
    link = Path(settings.MEDIA_ROOT) / "imports/2026/11/27/link"
    link.symlink_to(outside)
    for path in (orphan, deleted_scan, kept, link):
        os.utime(path, (hours_ago, hours_ago), follow_symlinks=False)
    ReportImport.objects.create(
        scan=make_scan(world.project_a),
        project=world.project_a,
        file_path=str(kept.relative_to(settings.MEDIA_ROOT)),
        original_name="report.sarif",
    )
    SystemSettings.objects.update_or_create(pk=1, defaults={"retention_days_raw_output": 0})
    with CaptureQueriesContext(connection) as queries:
        assert orphan_uploads_purge(batch_size=2) == 2
    assert len(queries) == 2  # one look-up per batch of two paths, not one per file
    assert not orphan.exists() and not deleted_scan.exists()
    assert not deleted_scan.parent.exists()  # its emptied folders go too
    assert kept.exists() and fresh.exists() and outside.exists()
    assert retention_purge.delay().get()["orphan_uploads"] == 0


def old_finding(world, status: str, *, days: int, **fields) -> Finding:
    seen = timezone.now() - timedelta(days=days)
    return make_finding(
        project=world.project_a,
        target=world.target_a,
        status=status,
        first_seen_at=seen,
        last_seen_at=seen,
        **fields,
    )


def test_closed_findings_not_seen_for_the_setting_are_deleted_open_ones_never(world):
    doomed = [old_finding(world, s, days=400) for s in ("resolved", "auto_resolved")]
    FindingHistory.objects.create(
        finding=doomed[0], created_at=timezone.now(), field="status", new_value="resolved"
    )
    FindingComment.objects.create(finding=doomed[1], body="fixed in 1.2")
    kept = [
        old_finding(world, s, days=400)
        for s in ("new", "confirmed", "in_progress", "reopened", "false_positive", "risk_accepted")
    ]
    kept.append(old_finding(world, "resolved", days=30))  # closed, but seen recently
    SystemSettings.objects.update_or_create(pk=1, defaults={"retention_days_closed_findings": 365})
    report = retention_purge.delay().get()
    assert report["closed_findings"] == 2
    assert not Finding.objects.filter(pk__in=[f.pk for f in doomed]).exists()
    assert FindingHistory.objects.count() == 0 and FindingComment.objects.count() == 0
    assert set(Finding.objects.values_list("pk", flat=True)) == {f.pk for f in kept}


def test_closed_findings_are_deleted_in_batches_of_bounded_queries(world):
    for _ in range(7):
        old_finding(world, "auto_resolved", days=500)
    open_one = old_finding(world, "new", days=500)
    with CaptureQueriesContext(connection) as few:
        assert closed_findings_purge(days=30, batch_size=3) == 7
    deletes = [
        q for q in few.captured_queries if q["sql"].startswith('DELETE FROM "findings_finding"')
    ]
    assert len(deletes) == 3  # 3 + 3 + 1
    for _ in range(30):
        old_finding(world, "resolved", days=500)
    with CaptureQueriesContext(connection) as many:
        assert closed_findings_purge(days=30, batch_size=30) == 30
    assert len(many.captured_queries) <= len(few.captured_queries)
    assert list(Finding.objects.values_list("pk", flat=True)) == [open_one.pk]


def test_zero_days_keeps_everything(world):
    old_finding(world, "resolved", days=5000)
    path = raw_file("scan_tool_outputs/2001/01/01/scan-9/x/report.json")
    tool_result(world, str(path.relative_to(settings.MEDIA_ROOT)), age_days=5000)
    SystemSettings.objects.update_or_create(
        pk=1, defaults={"retention_days_raw_output": 0, "retention_days_closed_findings": 0}
    )
    assert retention_purge.delay().get() == {
        "raw_outputs": 0,
        "orphan_uploads": 0,
        "closed_findings": 0,
    }
    assert Finding.objects.count() == 1 and path.exists()
