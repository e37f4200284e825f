"""The scan engine in one process (Celery eager) with the real scanners on the vulnerable
sample: launch, parallel-safe tool runs, ingestion with de-duplication, failure, skip, cancel,
the reaper and raw output. The real-worker path is tested in tests/test_scan_workers.py."""

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from apps.findings.models import Finding
from apps.scans.models import Scan, ScanToolResult
from apps.scans.services import execution
from apps.tools.tests.helpers import SAMPLE_APP, require_tool

pytestmark = pytest.mark.django_db


@pytest.fixture
def sample(tmp_path, settings):
    root = tmp_path / "roots"
    shutil.copytree(SAMPLE_APP, root / "app")
    settings.SECULITE_SCAN_ROOTS = [root]
    settings.SECULITE_WORKSPACE_DIR = tmp_path / "workspaces"
    return root / "app"


@pytest.fixture
def launch(api_client, world, sample, django_capture_on_commit_callbacks):
    """Create a local-path target and a configuration, launch it through the API, and run
    everything it queues (eagerly) before returning the finished scan."""
    api_client.force_authenticate(world.users["member"])
    target = api_client.post(
        f"/api/v1/projects/{world.project_a.pk}/targets/",
        {"name": "sample", "asset_type": "git_repository", "identifier": str(sample)},
        format="json",
    ).json()

    def run(tools, name="cfg"):
        config = api_client.post(
            f"/api/v1/projects/{world.project_a.pk}/scanconfigurations/",
            {
                "name": name,
                "target_assets": [target["id"]],
                "tools_and_configs": [{"tool_id": t} for t in tools],
            },
            format="json",
        )
        assert config.status_code == 201, config.json()
        with django_capture_on_commit_callbacks(execute=True):
            started = api_client.post(
                f"/api/v1/projects/{world.project_a.pk}/"
                f"scanconfigurations/{config.json()['id']}/launch/"
            )
        assert started.status_code == 202, started.json()
        assert started.json()["status"] == "queued"
        return Scan.objects.get(pk=started.json()["id"]), config.json()["id"]

    run.target_id = target["id"]
    return run


def test_launch_runs_each_tool_and_stores_findings(launch, api_client):
    for slug in ("bandit", "detect-secrets"):
        require_tool(slug)
    scan, _ = launch(["bandit", "detect-secrets"])
    scan.refresh_from_db()
    assert scan.status == "completed", scan.error_message
    assert scan.progress == 100 and scan.phase == "finished"
    results = {r.tool_id: r for r in scan.tool_results.all()}
    assert {r.status for r in results.values()} == {"completed"}
    assert results["bandit"].findings_count > 0 and results["bandit"].tool_version
    assert results["detect-secrets"].findings_count > 0
    assert (
        Finding.objects.filter(tool_id="bandit", first_seen_scan=scan).count()
        == results["bandit"].findings_count
    )
    assert scan.summary["new"] == scan.summary["total"] == Finding.objects.count()
    assert sum(scan.summary["by_severity"].values()) == scan.summary["total"]
    secret = Finding.objects.filter(tool_id="detect-secrets").first()
    assert secret.code_snippet == "" or "AKIA" not in secret.code_snippet
    detail = api_client.get(f"/api/v1/scans/{scan.pk}/").json()
    assert [r["status"] for r in detail["tool_results"]] == ["completed", "completed"]
    raw = api_client.get(f"/api/v1/scans/{scan.pk}/toolresults/{results['bandit'].pk}/raw/")
    assert raw.status_code == 200
    assert b'"results"' in b"".join(raw.streaming_content)
    assert raw["Content-Disposition"].startswith("attachment")


def test_rescan_after_inserting_lines_finds_nothing_new(
    launch, sample, api_client, django_capture_on_commit_callbacks
):
    require_tool("bandit")
    require_tool("semgrep")
    first, _ = launch(["bandit", "semgrep"])
    first.refresh_from_db()
    assert first.status == "completed", first.error_message
    before = Finding.objects.count()
    assert before > 0
    for path in Path(sample).rglob("*.py"):
        path.write_text("# padding\n" * 10 + path.read_text())
    with django_capture_on_commit_callbacks(execute=True):
        again = api_client.post(f"/api/v1/scans/{first.pk}/rescan/")
    assert again.status_code == 202
    second = Scan.objects.get(pk=again.json()["id"])
    assert second.status == "completed", second.error_message
    assert second.summary["new"] == 0
    assert second.summary["recurring"] == second.summary["total"] == before
    assert Finding.objects.count() == before
    moved = Finding.objects.filter(tool_id="bandit").exclude(line_start=None).first()
    assert moved.last_seen_scan_id == second.pk and moved.first_seen_scan_id == first.pk


def test_a_failing_tool_fails_the_scan_and_keeps_the_others(launch, settings):
    from tests.broken_service import broken_http_service

    require_tool("bandit")
    require_tool("pip-audit")
    with broken_http_service() as url:  # reachable, but every query fails
        settings.SECULITE_PIP_AUDIT_OSV_URL = f"{url}/v1/query"
        scan, _ = launch(["bandit", "pip-audit"])
    scan.refresh_from_db()
    assert scan.status == "failed"
    statuses = dict(scan.tool_results.values_list("tool_id", "status"))
    assert statuses == {"bandit": "completed", "pip-audit": "failed"}
    assert "pip-audit failed" in scan.error_message
    assert Finding.objects.filter(tool_id="bandit").exists()


def test_pip_audit_without_its_service_is_skipped(launch, settings):
    require_tool("pip-audit")
    settings.SECULITE_PIP_AUDIT_OSV_URL = "http://127.0.0.1:1/v1/query"  # nothing listens
    scan, _ = launch(["pip-audit"])
    scan.refresh_from_db()
    result = scan.tool_results.get()
    assert result.status == "skipped"
    assert (
        "unreachable" in result.error_message
        and "SECULITE_PIP_AUDIT_OSV_URL" in result.error_message
    )
    assert scan.status == "completed"


def test_a_missing_binary_is_skipped_not_a_crash(launch, monkeypatch):
    from apps.tools.plugins.base import Location
    from apps.tools.plugins.registry import registry

    plugin = registry.get("hadolint")
    monkeypatch.setattr(
        type(plugin), "locate", lambda self: Location(reason="hadolint not found: run `make tools`")
    )
    scan, _ = launch(["hadolint"])
    scan.refresh_from_db()
    result = scan.tool_results.get()
    assert result.status == "skipped"
    assert "make tools" in result.error_message
    assert scan.status == "completed"


def test_a_vanished_local_path_fails_its_tools_with_the_reason(launch, sample):
    shutil.rmtree(sample)
    scan, _ = launch(["bandit"])
    scan.refresh_from_db()
    assert scan.status == "failed"
    assert "Workspace preparation failed" in scan.tool_results.get().error_message


def test_cancel_before_start(world, api_client):
    scan = world.scan_a
    ScanToolResult.objects.filter(scan=scan).update(status="pending")
    api_client.force_authenticate(world.users["member"])
    response = api_client.post(f"/api/v1/scans/{scan.pk}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert scan.tool_results.get().status == "cancelled"
    again = api_client.post(f"/api/v1/scans/{scan.pk}/cancel/")
    assert again.status_code == 400


def test_reaper_retries_then_fails_a_tool_whose_worker_died(world, settings, monkeypatch):
    sent = []
    monkeypatch.setattr("apps.scans.tasks.tool_run.delay", lambda pk: sent.append(pk))
    result = world.result_a
    ScanToolResult.objects.filter(pk=world.result_b.pk).update(heartbeat_at=timezone.now())
    old = timezone.now() - timedelta(seconds=settings.SECULITE_HEARTBEAT_TIMEOUT + 5)
    ScanToolResult.objects.filter(pk=result.pk).update(
        status="running", heartbeat_at=old, attempts=1, worker="w1@host"
    )
    from django.db import transaction

    with transaction.atomic():
        report = execution.scans_reap()
    result.refresh_from_db()
    assert report["retried"] == 1 and result.status == "pending"
    assert "w1@host stopped responding" in result.error_message

    ScanToolResult.objects.filter(pk=result.pk).update(
        status="running", heartbeat_at=old, attempts=settings.SECULITE_TOOL_MAX_ATTEMPTS
    )
    report = execution.scans_reap()
    result.refresh_from_db()
    assert report["failed"] == 1 and result.status == "failed"
    scan = Scan.objects.get(pk=result.scan_id)
    assert scan.status == "failed"
    assert "stopped responding" in scan.error_message


def test_reaper_leaves_live_tools_alone(world):
    ScanToolResult.objects.filter(pk__in=[world.result_a.pk, world.result_b.pk]).update(
        status="running", heartbeat_at=timezone.now(), attempts=1
    )
    report = execution.scans_reap()
    assert report["retried"] == report["failed"] == 0
    assert ScanToolResult.objects.get(pk=world.result_a.pk).status == "running"


def test_a_finished_tool_result_is_never_run_again(world):
    ScanToolResult.objects.filter(pk=world.result_a.pk).update(status="completed")
    assert execution._claim(world.result_a.pk, "task-2", "w2") is None


def test_raw_output_through_nginx_uses_x_accel_redirect(world, api_client, settings):
    relative = "scan_tool_outputs/2026/11/27/report.json"
    path = Path(settings.MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}")
    ScanToolResult.objects.filter(pk=world.result_a.pk).update(raw_output_path=relative)
    settings.SECULITE_X_ACCEL_REDIRECT = True
    api_client.force_authenticate(world.users["auditor"])
    response = api_client.get(
        f"/api/v1/scans/{world.scan_a.pk}/toolresults/{world.result_a.pk}/raw/"
    )
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected-media/{relative}"
    assert response.content == b""


def test_raw_output_path_cannot_escape_media(world, api_client):
    ScanToolResult.objects.filter(pk=world.result_a.pk).update(raw_output_path="../../etc/passwd")
    api_client.force_authenticate(world.users["owner"])
    response = api_client.get(
        f"/api/v1/scans/{world.scan_a.pk}/toolresults/{world.result_a.pk}/raw/"
    )
    assert response.status_code == 404


def test_an_internal_crash_ends_the_scan_as_error(world, monkeypatch):
    from apps.scans import tasks

    def boom(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(execution, "tool_run", boom)
    with pytest.raises(RuntimeError):
        tasks.tool_run.apply(args=[world.result_a.pk], throw=True)
    scan = Scan.objects.get(pk=world.scan_a.pk)
    assert scan.status == "error"
    assert "internal error" in scan.error_message
    assert scan.tool_results.get().status == "failed"
