"""Load: wrk through nginx in front of Gunicorn on the findings list and one finding's detail
with many findings in the database, and a burst of scans launched at once on two workers.

Sizes (VERIFY_SCALE): 100,000 findings and 60 s per wrk run, 100 scans (full); 20,000 findings,
10 s and 20 scans (ci). No DRF throttle applies to the findings or launch endpoints (the scoped
throttles guard login, registration, password reset and incoming webhooks only), and nginx has no
rate limit: the figures are the stack's own, with its production settings."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
import requests

from apps.tools.tests.helpers import require_tool
from verify.conftest import scaled
from verify.load_seed import seed_findings
from verify.load_wrk import run_wrk, write_script, wrk_binary

pytestmark = pytest.mark.stack

FINDINGS = scaled(20_000, 100_000)
WRK_SECONDS = scaled(10, 60)
CONNECTIONS = 64
# 64 connections queue for a few Gunicorn workers: on 2 cores the median waits about a second.
# A request still unanswered after this long counts as a socket error (wrk's default is 2 s).
WRK_TIMEOUT_S = 30
# entrypoint.sh's default: what a deployment runs unless GUNICORN_WORKERS says otherwise.
GUNICORN_WORKERS = "4"
BURST = scaled(20, 100)
BURST_TOOL = "shellcheck"  # the quickest real scanner: one C binary on one small file
WORKER_PROCESSES = 2


@pytest.fixture(scope="module")
def stack(start_nginx_stack):
    wrk_binary()
    require_tool(BURST_TOOL)
    with start_nginx_stack(
        "load",
        workers=WORKER_PROCESSES,
        beat=True,
        GUNICORN_WORKERS=GUNICORN_WORKERS,
    ) as live:
        live.sign_up("loadowner")
        status, project = live.api("POST", "/api/v1/projects/", {"name": "Load"})
        assert status == 201, project
        live.project = project["id"]
        live.target = live.tiny_target(live.project)
        status, config = live.api(
            "POST",
            f"/api/v1/projects/{live.project}/scanconfigurations/",
            {
                "name": "burst",
                "target_assets": [live.target],
                "tools_and_configs": [{"tool_id": BURST_TOOL}],
            },
        )
        assert status == 201, config
        live.config = config["id"]
        yield live


def test_findings_list_and_detail_under_wrk(stack, figures, tmp_path):
    # A real scan first: the seeded findings hang off a real scan of the real target.
    status, first = stack.api(
        "POST", f"/api/v1/projects/{stack.project}/scanconfigurations/{stack.config}/launch/"
    )
    assert status == 202, first
    assert stack.wait_scan(first["id"], timeout=120)["status"] == "completed"
    took = seed_findings(
        stack.db, project=stack.project, target=stack.target, scan=first["id"], total=FINDINGS
    )
    (count,) = stack.query("SELECT count(*) FROM findings_finding")[0]
    assert count >= FINDINGS

    api_key = stack.create_api_key()
    script = write_script(tmp_path / "wrk", api_key)
    stack.token = api_key  # the same key for the checks below
    status, page = stack.api("GET", "/api/v1/findings/")
    assert status == 200 and len(page["results"]) == 50, page
    detail_id = page["results"][len(page["results"]) // 2]["id"]
    status, _ = stack.api("GET", f"/api/v1/findings/{detail_id}/")
    assert status == 200

    runs = {
        "findings list (first page, 50)": f"{stack.base}/api/v1/findings/",
        "finding detail": f"{stack.base}/api/v1/findings/{detail_id}/",
    }
    results = {}
    for name, url in runs.items():
        drained(stack, url)
        load = os.getloadavg()[0]
        result = run_wrk(
            url,
            script=script,
            connections=CONNECTIONS,
            seconds=WRK_SECONDS,
            timeout_s=WRK_TIMEOUT_S,
        )
        print(f"\nwrk {name}:\n{result.text}")
        results[name] = result
        ok = result.requests > 0 and result.non_2xx == 0 and result.socket_errors == 0
        figures.add(
            "load",
            f"wrk {CONNECTIONS} conns via nginx: {name}, {FINDINGS:,} findings",
            f"{WRK_SECONDS} s, {result.requests:,} req",
            f"median {result.p50_ms:.0f} ms, p99 {result.p99_ms:.0f} ms, "
            f"{result.rate:.0f} req/s; non-2xx {result.non_2xx}, socket errors "
            f"{result.socket_errors} (timeout {WRK_TIMEOUT_S} s); {GUNICORN_WORKERS} Gunicorn "
            f"workers; API key header from a Lua file; no throttle applies to findings (none "
            f"raised); {FINDINGS:,} seeded in {took:.0f} s; load avg {load:.1f} before",
            ok,
        )

    logs = stack.all_logs()
    for name, result in results.items():
        assert result.requests > 0, name
        assert result.statuses.keys() == {"200"}, (name, result.statuses)
        assert result.non_2xx == 0 and result.socket_errors == 0, (name, result.text)
    assert api_key not in logs, "the API key appears in a log"
    assert all(api_key not in result.text for result in results.values())
    assert stack.nginx_logs.joinpath("access.log").stat().st_size > 0


def drained(stack, url: str, timeout: float = 180) -> None:
    """Wait until one request is answered promptly: Gunicorn's sync workers still serve what a
    previous run left in their listen queue after wrk hung up, and a run must not start behind
    that backlog."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        started = time.monotonic()
        status, _ = stack.api("GET", url.removeprefix(stack.base))
        assert status == 200
        if time.monotonic() - started < 2:
            return
    raise AssertionError(f"the stack did not drain its backlog within {timeout}s")


def test_burst_of_scans_on_two_workers(stack, figures):
    assert len(stack.workers) == WORKER_PROCESSES
    url = f"/api/v1/projects/{stack.project}/scanconfigurations/{stack.config}/launch/"
    (before,) = stack.query(
        "SELECT count(*) FROM scans_scan WHERE configuration_id = %s", (stack.config,)
    )[0]
    barrier = threading.Barrier(BURST)

    def launch(_):
        barrier.wait(timeout=60)
        # The API client's 30 s would not do: a hundred launches queue for a few Gunicorn
        # workers, and the last one is answered a minute later on a busy machine.
        answer = requests.post(
            stack.base + url, headers={"Authorization": f"Token {stack.token}"}, timeout=600
        )
        return answer.status_code, answer.json()

    started = time.time()
    with ThreadPoolExecutor(max_workers=BURST) as pool:
        answers = list(pool.map(launch, range(BURST)))
    launched = time.time() - started
    assert [status for status, _ in answers] == [202] * BURST, answers
    scan_ids = sorted(body["id"] for _, body in answers)
    assert len(set(scan_ids)) == BURST

    deadline = time.monotonic() + scaled(300, 900)
    finished: dict[int, dict] = {}
    while time.monotonic() < deadline and len(finished) < BURST:
        stack.group.assert_running()
        status, page = stack.api(
            "GET", f"/api/v1/scans/?configuration_id={stack.config}&page_size=500"
        )
        assert status == 200, page
        for scan in page["results"]:
            if scan["id"] in scan_ids and scan["status"] in (
                "completed",
                "failed",
                "error",
                "cancelled",
            ):
                finished[scan["id"]] = scan
        time.sleep(1)
    assert len(finished) == BURST, (
        f"{BURST - len(finished)} of {BURST} scans did not finish\n" + stack.group.logs()
    )

    # The database is the source of truth: scans, their tool results, attempts.
    (after,) = stack.query(
        "SELECT count(*) FROM scans_scan WHERE configuration_id = %s", (stack.config,)
    )[0]
    rows = stack.query(
        "SELECT scan_id, tool_id, count(*), max(attempts), min(attempts), "
        "array_agg(DISTINCT status) FROM scans_scantoolresult WHERE scan_id = ANY(%s) "
        "GROUP BY scan_id, tool_id",
        (scan_ids,),
    )
    per_scan = {row[0]: row for row in rows}
    statuses = {scan_id: finished[scan_id]["status"] for scan_id in scan_ids}
    completed = sum(1 for s in statuses.values() if s == "completed")
    lost = BURST - (after - before)
    twice = sum(1 for row in rows if row[2] != 1 or row[3] != 1 or row[4] != 1)
    missing = [scan_id for scan_id in scan_ids if scan_id not in per_scan]
    workers_used = {
        worker
        for (worker,) in stack.query(
            "SELECT DISTINCT split_part(worker, '@', 1) FROM scans_scantoolresult "
            "WHERE scan_id = ANY(%s)",
            (scan_ids,),
        )
    }
    first = min(datetime.fromisoformat(s["created_at"]) for s in finished.values())
    last = max(datetime.fromisoformat(s["finished_at"]) for s in finished.values())
    span = (last - first).total_seconds()
    per_minute = BURST / span * 60 if span > 0 else 0.0
    ok = completed == BURST and lost == 0 and twice == 0 and not missing
    figures.add(
        "load",
        f"burst of scans launched at once ({BURST_TOOL}, {WORKER_PROCESSES} worker processes "
        "x 2 slots, via nginx)",
        BURST,
        f"{completed}/{BURST} completed, {lost} lost, {twice} run twice (attempts=1, one result "
        f"per tool per scan); drained at {per_minute:.1f} scans/min ({span:.1f} s first launch "
        f"to last completion, launches answered in {launched:.1f} s; workers used: "
        f"{len(workers_used)})",
        ok,
    )
    assert completed == BURST, statuses
    assert lost == 0 and not missing, (before, after, missing)
    assert twice == 0, [row for row in rows if row[2] != 1 or row[3] != 1]
    assert all(row[1] == BURST_TOOL for row in rows)
    assert len(workers_used) == WORKER_PROCESSES, workers_used
