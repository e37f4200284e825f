"""Scans on the real path: the API under Gunicorn, real Celery workers and beat, PostgreSQL and
Redis, real scanner binaries. Parallel tools, a failing tool, cancel, a worker killed with
SIGKILL mid-scan, and schedules fired by the real beat process."""

import itertools
import os
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import django
import pytest

from apps.tools.tests.helpers import SAMPLE_APP, require_tool
from tests.live import (
    LiveStack,
    create_database,
    drop_database,
    redis_database,
    stack_env,
)

pytestmark = pytest.mark.stack

DJANGO_SOURCE = Path(django.__file__).resolve().parent  # ~900 .py files: a long scan


@pytest.fixture(scope="module")
def broken_osv():
    from tests.broken_service import broken_http_service

    with broken_http_service() as url:
        yield url


@pytest.fixture(scope="module")
def live(tmp_path_factory, postgres_params, redis_url, broken_osv):
    for slug in ("bandit", "semgrep", "detect-secrets", "pip-audit", "hadolint"):
        require_tool(slug)
    tmp = tmp_path_factory.mktemp("live")
    roots = tmp / "roots"
    shutil.copytree(SAMPLE_APP, roots / "sample")
    database = create_database(postgres_params)
    env = stack_env(
        tmp=tmp,
        postgres_params=postgres_params,
        database=database,
        broker_url=redis_database(redis_url, 12),
        SECULITE_SCAN_ROOTS=f"{roots},{DJANGO_SOURCE}",
        SECULITE_HEARTBEAT_TIMEOUT="6",
        SECULITE_REAPER_SECONDS="2",
        SECULITE_CANCEL_POLL_SECONDS="0.5",
        SECULITE_REDISPATCH_SECONDS="30",
        SECULITE_PIP_AUDIT_OSV_URL=f"{broken_osv}/v1/query",  # answers 500: pip-audit fails
    )
    stack = LiveStack(tmp, env)
    stack.db = {**postgres_params, "dbname": database}
    try:
        stack.migrate()
        stack.start(workers=1, beat=True)
        stack.sign_up()
        status, project = stack.api("POST", "/api/v1/projects/", {"name": "Live"})
        assert status == 201, project
        stack.project = project["id"]
        stack.targets = {}
        for name, path in (("sample", roots / "sample"), ("django", DJANGO_SOURCE)):
            status, target = stack.api(
                "POST",
                f"/api/v1/projects/{stack.project}/targets/",
                {"name": name, "asset_type": "git_repository", "identifier": str(path)},
            )
            assert status == 201, target
            stack.targets[name] = target["id"]
        yield stack
    finally:
        stack.stop()
        drop_database(postgres_params, database)


def configure(stack, name, tools, target="sample", **extra):
    status, config = stack.api(
        "POST",
        f"/api/v1/projects/{stack.project}/scanconfigurations/",
        {
            "name": name,
            "target_assets": [stack.targets[target]],
            "tools_and_configs": [{"tool_id": t} for t in tools],
            **extra,
        },
    )
    assert status == 201, config
    return config


def launch(stack, config):
    status, scan = stack.api(
        "POST", f"/api/v1/projects/{stack.project}/scanconfigurations/{config['id']}/launch/"
    )
    assert status == 202, scan
    assert scan["status"] == "queued" and scan["trigger_type"] == "api"
    return scan


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts)


def scanner_processes(workspace: str) -> list[int]:
    """Scanner processes working in `workspace` (their cwd or an argument)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if b"bandit" in cmdline and (cwd == workspace or workspace.encode() in cmdline):
            found.append(int(entry.name))
    return found


def test_scan_runs_tools_in_parallel_and_completes_with_findings(live):
    config = configure(live, "three tools", ["bandit", "semgrep", "detect-secrets"])
    scan = live.wait_scan(launch(live, config)["id"], timeout=240)
    assert scan["status"] == "completed", scan
    results = scan["tool_results"]
    assert {r["tool_id"]: r["status"] for r in results} == {
        "bandit": "completed",
        "semgrep": "completed",
        "detect-secrets": "completed",
    }
    assert all(r["findings_count"] > 0 for r in results), results
    assert scan["summary"]["total"] == sum(r["findings_count"] for r in results)
    # With two worker slots, at least two tool runs overlapped in time.
    spans = sorted((parse(r["started_at"]), parse(r["finished_at"])) for r in results)
    assert any(a[1] > b[0] for a, b in itertools.pairwise(spans)), spans
    status, _ = live.api("GET", f"/api/v1/scans/{scan['id']}/toolresults/{results[0]['id']}/raw/")
    assert status == 200


def test_a_failing_tool_fails_the_scan_and_keeps_the_other_results(live):
    config = configure(live, "with a failing tool", ["bandit", "pip-audit"])
    scan = live.wait_scan(launch(live, config)["id"], timeout=180)
    assert scan["status"] == "failed"
    by_tool = {r["tool_id"]: r for r in scan["tool_results"]}
    assert by_tool["pip-audit"]["status"] == "failed" and by_tool["pip-audit"]["error_message"]
    assert by_tool["bandit"]["status"] == "completed" and by_tool["bandit"]["findings_count"] > 0
    assert "pip-audit" in scan["error_message"]


def test_cancel_stops_the_scanner_within_seconds(live):
    config = configure(live, "long bandit", ["bandit"], target="django")
    scan = launch(live, config)
    live.wait_scan(
        scan["id"],
        timeout=60,
        until=lambda s: any(r["status"] == "running" for r in s["tool_results"]),
    )
    deadline = time.monotonic() + 20
    while not scanner_processes(str(DJANGO_SOURCE)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert scanner_processes(str(DJANGO_SOURCE)), "bandit never started"
    asked = time.monotonic()
    status, body = live.api("POST", f"/api/v1/scans/{scan['id']}/cancel/")
    assert status == 200, body
    final = live.wait_scan(scan["id"], timeout=15)
    took = time.monotonic() - asked
    assert final["status"] == "cancelled"
    assert final["tool_results"][0]["status"] == "cancelled"
    assert took < 10, f"cancelling took {took:.1f}s"
    time.sleep(1)
    assert scanner_processes(str(DJANGO_SOURCE)) == []


def test_a_worker_killed_mid_scan_does_not_leave_the_scan_running(live):
    config = configure(live, "killed worker", ["bandit"], target="django")
    scan = launch(live, config)
    running = live.wait_scan(
        scan["id"],
        timeout=60,
        until=lambda s: any(r["status"] == "running" for r in s["tool_results"]),
    )
    time.sleep(2)
    victim = next(iter(live.workers))
    live.kill_worker(victim)
    killed_at = time.monotonic()
    time.sleep(1)
    assert scanner_processes(str(DJANGO_SOURCE)) == [], "the scanner outlived its worker"
    live.start_worker()
    final = live.wait_scan(scan["id"], timeout=240)
    result = final["tool_results"][0]
    assert final["status"] in ("completed", "failed"), final
    if final["status"] == "failed":
        assert "stopped responding" in result["error_message"]
    else:
        assert result["attempts"] == 2 and result["findings_count"] > 0
    assert result["worker"] != running["tool_results"][0]["worker"]
    elapsed = time.monotonic() - killed_at
    assert elapsed < 240
    # No finding was written twice, although the tool ran twice.
    import psycopg

    with psycopg.connect(**live.db) as conn:
        total, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT fingerprint) FROM findings_finding "
            "WHERE target_id = %s",
            (live.targets["django"],),
        ).fetchone()
    assert total == distinct == result["findings_count"] == final["summary"]["total"]


def test_beat_launches_a_once_schedule(live):
    when = (datetime.now(UTC) + timedelta(seconds=6)).replace(microsecond=0)
    config = configure(
        live, "once soon", ["hadolint"], schedule_type="once", schedule=when.isoformat()
    )
    deadline = time.monotonic() + 60
    scans = []
    while time.monotonic() < deadline and not scans:
        _, body = live.api("GET", f"/api/v1/scans/?configuration_id={config['id']}")
        scans = body["results"]
        time.sleep(1)
    assert scans, "beat did not launch the scheduled scan:\n" + live.group.logs()
    assert scans[0]["trigger_type"] == "scheduled"
    assert parse(scans[0]["created_at"]) >= when - timedelta(seconds=1)
    assert live.wait_scan(scans[0]["id"], timeout=120)["status"] == "completed"


def test_a_changed_cron_schedule_takes_effect_without_a_restart(live):
    config = configure(live, "cron", ["hadolint"], schedule_type="cron", schedule="0 0 1 1 *")
    status, body = live.api(
        "PATCH",
        f"/api/v1/projects/{live.project}/scanconfigurations/{config['id']}/",
        {"schedule": "* * * * *"},
    )
    assert status == 200, body
    deadline = time.monotonic() + 90
    scans = []
    while time.monotonic() < deadline and not scans:
        _, body = live.api("GET", f"/api/v1/scans/?configuration_id={config['id']}")
        scans = body["results"]
        time.sleep(1)
    assert scans and scans[0]["trigger_type"] == "scheduled", live.group.logs()
    live.api(
        "PATCH",
        f"/api/v1/projects/{live.project}/scanconfigurations/{config['id']}/",
        {"schedule_type": "manual"},
    )
