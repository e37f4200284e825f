"""Faults: what SecuLite survives, on the real process layout (Gunicorn behind nginx, a Celery
worker, beat, PostgreSQL and Redis on loopback) with real scanners.

1. A worker SIGKILLed mid-scan, again and again at random moments.
2. Redis killed (without persistence: queued messages are gone) and started again.
3. PostgreSQL stopped for 10 seconds under API traffic.
4. The media directory's file system full.

PostgreSQL and Redis are private to this module (faults_services), so the shared servers of the
other tests are never touched. Every test records its figures and asserts them."""

import json
import os
import random
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from apps.tools.tests.helpers import require_tool

from .conftest import scaled
from .faults_services import Tmpfs
from .faults_stack import (
    HEARTBEAT_TIMEOUT,
    REAPER_SECONDS,
    RESULT_FINISHED,
    build_stack,
    stop_stack,
)

pytestmark = pytest.mark.stack

SUITE = "faults"
SEED = int(os.environ.get("VERIFY_SEED", str(int(time.time()))))
# Slack on a loaded machine (2 cores shared with other test runs) beyond the configured timings.
SLACK = 6.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory, nginx_binary):
    for slug in ("bandit", "detect-secrets"):
        require_tool(slug)
    tmp = tmp_path_factory.mktemp("faults")
    # PostgreSQL runs as the `postgres` user, who cannot enter pytest's private (0700) tmp dir.
    pg_root = Path(tempfile.mkdtemp(prefix="seculite-faults-pg-"))
    try:
        live = build_stack(tmp, pg_root, nginx_binary)
        try:
            yield live
        finally:
            stop_stack(live, live.pg, live.redis)
    finally:
        shutil.rmtree(pg_root, ignore_errors=True)


@pytest.fixture(autouse=True)
def whole_stack(stack):
    """Each test starts on a whole stack, whatever the one before it broke and failed on."""
    if not stack.pg.running():
        stack.pg.start()
    if not stack.redis.ping():
        stack.redis.start()
    if not stack.workers:
        stack.worker_ready(stack.start_worker())
    stack.group.assert_running()
    yield


def wait_until(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# --- 1. SIGKILL a worker mid-scan ------------------------------------------------------------
@dataclass
class KillFigures:
    kills: int = 0
    scans: int = 0
    in_flight: list[int] = field(default_factory=list)
    takeover: list[float] = field(default_factory=list)
    settle: list[float] = field(default_factory=list)
    finished_before: int = 0
    mid_scan: int = 0
    lost: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    unexplained_failures: list[str] = field(default_factory=list)


def kill_once(stack, config, rng: random.Random, scans_per_kill: int, figures: KillFigures):
    """Launch scans, SIGKILL the worker at a random moment while a tool runs, start a new one,
    and check that every interrupted run is taken over and every scan ends."""
    scan_ids = [stack.launch(config) for _ in range(scans_per_kill)]
    runs = len(stack.result_rows(scan_ids))
    # A random moment: after 0..half of the tool runs finished, plus up to 1.5 s, and always
    # while a tool is running.
    finished_first = rng.randint(0, runs // 2)
    wait_until(
        lambda: sum(r[4] in RESULT_FINISHED for r in stack.result_rows(scan_ids)) >= finished_first,
        timeout=180,
        what=f"{finished_first} finished tool runs",
    )
    time.sleep(rng.uniform(0, 1.5))

    def running_or_all_done():
        statuses = [r[4] for r in stack.result_rows(scan_ids)]
        return ("running" in statuses or all(s in RESULT_FINISHED for s in statuses)) and statuses

    while "running" not in wait_until(running_or_all_done, 120, "a running tool", 0.05):
        scan_ids.append(stack.launch(config))  # everything ended meanwhile: more work
    victim = next(iter(stack.workers))
    victim_host = stack.worker_host(victim)
    stack.kill_worker(victim)
    before = stack.result_rows(scan_ids)
    finished = {r[0]: r for r in before if r[4] in RESULT_FINISHED}
    interrupted = [r[0] for r in before if r[4] == "running"]
    attempts_before = {r[0]: r[8] for r in before}
    figures.kills += 1
    figures.scans += len(scan_ids)
    figures.in_flight.append(len(interrupted))
    # Mid-scan: a scan was unfinished (a tool running a moment ago may just have ended).
    figures.mid_scan += any(r[4] not in RESULT_FINISHED for r in before)
    figures.finished_before += len(finished)

    new = stack.start_worker()
    ready = stack.worker_ready(new)

    def taken_over():
        rows = {r[0]: r for r in stack.result_rows(scan_ids)}
        return all(
            rows[i][4] != "running" or rows[i][9] != victim_host or rows[i][8] > attempts_before[i]
            for i in interrupted
        )

    wait_until(taken_over, timeout=180, what="the reaper to take over", interval=0.1)
    figures.takeover.append(time.monotonic() - ready)
    done = stack.wait_scans(scan_ids, timeout=300)
    figures.settle.append(done - ready)

    after = {r[0]: r for r in stack.result_rows(scan_ids)}
    for rid, row in finished.items():
        now = after[rid]
        # Same status, findings, finish time, raw output and attempts: kept, not run again.
        if now[4:9] != row[4:9]:
            figures.lost.append(f"result {rid}: {row[4:9]} -> {now[4:9]}")
        elif row[7] and not (stack.media / row[7]).is_file():
            figures.lost.append(f"result {rid}: raw output {row[7]} is gone")
    for row in after.values():
        assert row[4] in RESULT_FINISHED, row
    for sid, srow in stack.scan_rows(scan_ids).items():
        figures.statuses[srow[1]] = figures.statuses.get(srow[1], 0) + 1
        if srow[1] != "completed":
            reasons = [r[10] for r in after.values() if r[1] == sid and r[4] == "failed"]
            if srow[1] != "failed" or not srow[2] or not all(reasons):
                figures.unexplained_failures.append(f"scan {sid}: {srow[1]} {srow[2]!r}")
        elif srow[2]:
            figures.unexplained_failures.append(f"scan {sid}: completed with {srow[2]!r}")


def test_worker_sigkilled_mid_scan(stack, figures):
    kills = scaled(4, 20)
    rng = random.Random(SEED)  # noqa: S311 - reproducible kill moments, not cryptography
    config = stack.configure("sigkill", ["bandit", "detect-secrets"], ["sample"])
    figs = KillFigures()
    for _ in range(kills):
        kill_once(stack, config, rng, scans_per_kill=2, figures=figs)

    dups = stack.duplicates()
    # A deterministic scanner on an unchanged target reports the same findings every time: a
    # re-run after a kill that ingested twice (or lost some) would show here.
    counts = stack.sql(
        "SELECT tool_id, target_id, count(DISTINCT findings_count) FROM scans_scantoolresult r "
        "JOIN scans_scan s ON s.id = r.scan_id WHERE s.configuration_id = %s "
        "AND r.status IN ('completed', 'no_findings') GROUP BY tool_id, target_id",
        (config["id"],),
    )
    varying = [c for c in counts if c[2] != 1]
    takeover_bound = HEARTBEAT_TIMEOUT + REAPER_SECONDS + SLACK
    settle_bound = takeover_bound + 90  # + the re-runs and the scans' remaining tools
    ok = (
        figs.kills == kills
        and figs.mid_scan == kills
        and sum(figs.in_flight) >= 1
        and max(figs.takeover) <= takeover_bound
        and max(figs.settle) <= settle_bound
        and dups == {"findings": 0, "tool_results": 0}
        and not figs.lost
        and not varying
        and not figs.unexplained_failures
    )
    figures.add(
        SUITE,
        f"SIGKILL the worker mid-scan at random moments (seed {SEED})",
        f"{figs.kills} kills",
        f"{figs.scans} scans, {sum(figs.in_flight)} tool runs killed "
        f"({min(figs.in_flight)}-{max(figs.in_flight)} per kill, every kill mid-scan); "
        f"{figs.statuses}; reaper took over within "
        f"max {max(figs.takeover):.1f}s of the new worker (bound {takeover_bound:.0f}s), all "
        f"ended within max {max(figs.settle):.1f}s; duplicates={dups['findings']} findings + "
        f"{dups['tool_results']} results; lost={len(figs.lost)} of {figs.finished_before} "
        "finished before a kill",
        ok,
    )
    assert figs.kills == kills and figs.mid_scan == kills and sum(figs.in_flight) >= 1, figs
    assert dups == {"findings": 0, "tool_results": 0}
    assert not figs.lost, figs.lost
    assert not varying, varying
    assert not figs.unexplained_failures, figs.unexplained_failures
    assert max(figs.takeover) <= takeover_bound, figs.takeover
    assert max(figs.settle) <= settle_bound, figs.settle


# --- shared checks ---------------------------------------------------------------------------
def request(
    stack, method: str, path: str, body=None, timeout: float = 30
) -> tuple[int, str, bytes]:
    """(status, content type, raw body) of one API request through nginx; never raises for an
    HTTP status."""
    import urllib.error
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(stack.base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if stack.token:
        req.add_header("Authorization", f"Token {stack.token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), err.read()


def error_shaped(status: int, content_type: str, raw: bytes, *, extra=frozenset()) -> bool:
    """A 503 in the API's one error shape: JSON {"detail", "errors", "error_code"} (plus the
    health report's own fields), no stack trace, no HTML."""

    if status != 503 or not content_type.startswith("application/json"):
        return False
    if b"Traceback" in raw or b"<html" in raw.lower():
        return False
    try:
        body = json.loads(raw)
    except ValueError:
        return False
    return (
        isinstance(body, dict)
        and set(body) == {"detail", "errors", "error_code"} | set(extra)
        and isinstance(body["detail"], str)
        and isinstance(body["errors"], dict)
        and body["error_code"] == "service_unavailable"
    )


LIST_PATHS = ("/api/v1/projects/", "/api/v1/scans/?page_size=5", "/api/v1/findings/?page_size=5")
HEALTH_FIELDS = frozenset({"database", "broker", "workers", "beat_last_seen"})


def serving(stack) -> dict[str, int]:
    """Health and the list endpoints: their status codes."""
    answers = {path: request(stack, "GET", path)[0] for path in LIST_PATHS}
    answers["/api/v1/health/"] = request(stack, "GET", "/api/v1/health/")[0]
    return answers


# --- 2. Redis restarted -----------------------------------------------------------------------
def test_redis_restarted_while_scans_are_queued_and_running(stack, figures):
    config = stack.configure("redis restart", ["bandit", "detect-secrets"], ["sample"])
    scan_ids = [stack.launch(config) for _ in range(scaled(4, 8))]

    def queued_and_running():
        rows = stack.result_rows(scan_ids)
        running = sum(r[4] == "running" for r in rows)
        waiting = sum(r[4] == "pending" for r in rows)
        return running >= 1 and waiting >= 2 and (running, waiting)

    running, waiting = wait_until(queued_and_running, 120, "running and queued tool runs", 0.05)
    queued_scans = sum(r[1] == "queued" for r in stack.scan_rows(scan_ids).values())
    resent_before = sum(r["redispatched"] + r["restarted"] for r in stack.reaper_reports())

    stack.redis.kill()
    down = time.monotonic()
    # The broker is gone, the database is not: the API still takes a scan, and health says why
    # it is degraded.
    status, body = stack.api(
        "POST", f"/api/v1/projects/{stack.project}/scanconfigurations/{config['id']}/launch/"
    )
    launch_seconds = time.monotonic() - down
    launched_while_down = status == 202
    if launched_while_down:
        scan_ids.append(body["id"])
    health_status, content_type, health_raw = request(stack, "GET", "/api/v1/health/")
    health_down = (
        error_shaped(health_status, content_type, health_raw, extra=HEALTH_FIELDS)
        and json.loads(health_raw)["broker"] == "unavailable"
    )
    time.sleep(max(0.0, 3 - (time.monotonic() - down)))
    stack.redis.start()  # same port, empty: every queued message is lost
    up = time.monotonic()
    db_up = stack.sql("SELECT now()")[0][0]

    # Workers and beat reconnect by themselves: health sees a worker, and beat's heartbeat task
    # (beat -> Redis -> a worker -> PostgreSQL) runs again.
    health = wait_until(
        lambda: (a := stack.api("GET", "/api/v1/health/", auth=False))[0] == 200
        and a[1]["workers"] >= 1
        and a[1],
        timeout=90,
        what="health with a worker after the restart",
    )
    beat_fresh = wait_until(
        lambda: stack.sql("SELECT last_seen FROM core_heartbeat WHERE name = 'beat'")[0][0] > db_up,
        timeout=90,
        what="a beat heartbeat after the restart",
    )
    reconnect = time.monotonic() - up

    done = stack.wait_scans(scan_ids, timeout=300)
    drained = done - up
    rows = stack.scan_rows(scan_ids)
    statuses = {}
    for row in rows.values():
        # A completed scan with an error message would be an outage recorded as its failure.
        label = row[1] if not row[2] else f"{row[1]} with an error"
        statuses[label] = statuses.get(label, 0) + 1
    results = stack.result_rows(scan_ids)
    unfinished = [r for r in results if r[4] not in ("completed", "no_findings")]
    resent = sum(r["redispatched"] + r["restarted"] for r in stack.reaper_reports())
    resent -= resent_before
    stack.group.assert_running()
    dups = stack.duplicates()
    ok = (
        statuses == {"completed": len(scan_ids)}
        and not unfinished
        and resent >= 1
        and launched_while_down
        and health_down
        and bool(beat_fresh)
        and dups == {"findings": 0, "tool_results": 0}
    )
    figures.add(
        SUITE,
        "SIGKILL Redis (no persistence) and start it again, scans queued and running",
        "1 restart",
        f"{len(scan_ids) - 1} scans (tool runs: {running} running, {waiting} queued; "
        f"{queued_scans} scans not started) + 1 launched while down ({status} in "
        f"{launch_seconds:.1f}s); "
        f"{statuses}, lost=0 of {len(scan_ids)}; reaper re-sent {resent} lost messages; all "
        f"ended {drained:.1f}s after the restart; workers and beat back by themselves "
        f"(health 200 with {health['workers']} worker, beat beating) within {reconnect:.1f}s",
        ok,
    )
    assert launched_while_down, (status, body)
    assert health_down, (health_status, health_raw)
    assert statuses == {"completed": len(scan_ids)}, (statuses, rows)
    assert not unfinished, unfinished
    assert resent >= 1, stack.reaper_reports()
    assert dups == {"findings": 0, "tool_results": 0}


# --- 3. PostgreSQL stopped under API traffic --------------------------------------------------
@dataclass
class Answer:
    path: str
    sent: float
    done: float
    status: int
    content_type: str
    raw: bytes


def test_postgres_stopped_for_10_seconds_under_api_traffic(stack, figures):
    import uuid

    outage = 10.0
    answers: list[Answer] = []
    lock = threading.Lock()
    stop = threading.Event()
    project_path = f"/api/v1/projects/{stack.project}/"

    def client(n: int) -> None:
        paths = [*LIST_PATHS, project_path, "POST", "/api/v1/health/"]
        i = n
        while not stop.is_set():
            path = paths[i % len(paths)]
            i += 1
            sent = time.monotonic()
            if path == "POST":
                path = "/api/v1/projects/"
                status, ctype, raw = request(
                    stack, "POST", path, {"name": f"traffic-{uuid.uuid4().hex[:10]}"}
                )
            else:
                status, ctype, raw = request(stack, "GET", path)
            with lock:
                answers.append(Answer(path, sent, time.monotonic(), status, ctype, raw))
            time.sleep(0.05)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(3)
        stop_began = time.monotonic()
        stack.pg.stop(mode="fast")
        stopped = time.monotonic()
        time.sleep(max(0.0, outage - (stopped - stop_began)))
        start_began = time.monotonic()
        stack.pg.start()
        started = time.monotonic()

        def recovered():
            # Every request sent in the last 3 s answered 2xx (and there were some).
            now = time.monotonic()
            with lock:
                recent = [a for a in answers if a.sent >= max(started, now - 3)]
            return (
                now - started >= 3 and recent and all(200 <= a.status < 300 for a in recent) and now
            )

        wait_until(recovered, timeout=90, what="the API to answer 2xx again", interval=0.2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        if not stack.pg.running():
            stack.pg.start()

    def ok_answer(a: Answer) -> bool:
        if 200 <= a.status < 300:
            return True
        extra = HEALTH_FIELDS if a.path == "/api/v1/health/" else frozenset()
        return error_shaped(a.status, a.content_type, a.raw, extra=extra)

    during = [a for a in answers if a.sent >= stopped and a.done <= start_began]
    shaped = [a for a in during if a.status == 503 and ok_answer(a)]
    others = [a for a in answers if not ok_answer(a)]
    health_during = [a for a in during if a.path == "/api/v1/health/"]
    health_reports_db = all(json.loads(a.raw)["database"] == "unavailable" for a in health_during)
    failed_after = [a for a in answers if a.sent >= started and not 200 <= a.status < 300]
    recovery = max((a.done for a in failed_after), default=started) - started

    # Everything is back by itself: beat's heartbeat task runs again (beat, Redis, a worker and
    # PostgreSQL all at work), and a scan launched now completes.
    db_back = stack.sql("SELECT now()")[0][0]
    wait_until(
        lambda: stack.sql("SELECT last_seen FROM core_heartbeat WHERE name = 'beat'")[0][0]
        > db_back,
        timeout=60,
        what="a beat heartbeat after the outage",
    )
    beat_back = time.monotonic() - started
    config = stack.configure("after postgres", ["bandit"], ["sample"])
    scan_id = stack.launch(config)
    stack.wait_scans([scan_id], timeout=180)
    scan_status = stack.scan_rows([scan_id])[scan_id][1]
    stack.group.assert_running()
    ok = (
        len(during) >= 10
        and len(shaped) == len(during)
        and not others
        and health_during
        and health_reports_db
        and recovery <= 15
        and scan_status == "completed"
    )
    figures.add(
        SUITE,
        f"Stop PostgreSQL (pg_ctl -m fast) for {outage:.0f}s under API traffic via nginx",
        f"{len(answers)} requests",
        f"{len(during)} during the outage: {len(shaped)} x 503 in the error shape, "
        f"{len(during) - len(shaped)} other; 0 expected elsewhere, {len(others)} seen; health "
        f"reported the database down ({len(health_during)} checks); 2xx again "
        f"{recovery:.1f}s after it came back (bound 15s), beat beating again after "
        f"{beat_back:.1f}s; a scan launched then: {scan_status}",
        ok,
    )
    assert len(during) >= 10, len(during)
    assert not others, [(a.path, a.status, a.raw[:300]) for a in others[:5]]
    assert len(shaped) == len(during)
    assert health_during and health_reports_db, [a.raw for a in health_during]
    assert recovery <= 15, recovery
    assert scan_status == "completed"


# --- 4. The media volume full -----------------------------------------------------------------
def fill(path: Path) -> int:
    """Write zeros until the file system says ENOSPC; return the bytes written."""
    written = 0
    chunk = b"\0" * 65536
    with path.open("wb", buffering=0) as handle:
        while True:
            try:
                written += handle.write(chunk)
            except OSError:
                return written


def test_media_volume_full(stack, figures):
    quota = Tmpfs(stack.quota, "2m")
    quota.mount()
    try:
        (stack.quota / "media").mkdir()
        (stack.quota / "workspaces").mkdir()
        big = stack.configure("too big for the disk", ["bandit"], ["big"])
        big_scan = stack.launch(big)
        stack.wait_scans([big_scan], timeout=240)
        scan = stack.scan_rows([big_scan])[big_scan]
        result = stack.result_rows([big_scan])[0]
        reason = result[10]
        clear = reason.startswith("No space left on device while storing the raw output of bandit")
        free_after = quota.free_bytes()
        serving_full = serving(stack)

        # The quota filled to the last byte by something else: a small scan fails the same way.
        filler = stack.quota / "filler"
        fill(filler)
        small = stack.configure("small", ["bandit", "detect-secrets"], ["sample"])
        full_scan = stack.launch(small)
        stack.wait_scans([full_scan], timeout=240)
        full_rows = stack.result_rows([full_scan])
        full_reasons = [r[10] for r in full_rows]
        full_clear = all(r[4] == "failed" and "No space left on device" in r[10] for r in full_rows)
        serving_filled = serving(stack)

        filler.unlink()
        after_scan = stack.launch(small)
        stack.wait_scans([after_scan], timeout=240)
        after_status = stack.scan_rows([after_scan])[after_scan][1]
    finally:
        quota.unmount()
    all_200 = all(v == 200 for v in (*serving_full.values(), *serving_filled.values()))
    ok = (
        scan[1] == "failed"
        and clear
        and scan[2]
        and "No space left on device" in scan[2]
        and free_after > 1024 * 1024
        and full_clear
        and all_200
        and after_status == "completed"
    )
    figures.add(
        SUITE,
        "Media + workspace volume full (tmpfs size=2m)",
        "3 scans",
        f"bandit's ~3 MB report: scan {scan[1]}, '{reason[:70]}...'; the partial report removed "
        f"({free_after // 1024} KiB free again); volume filled to 0: a small scan failed with "
        f"{len(full_rows)} such reasons; health and lists 200 throughout "
        f"({'ok' if all_200 else serving_full | serving_filled}); space freed: next scan "
        f"{after_status}",
        ok,
    )
    assert scan[1] == "failed" and clear, (scan, reason)
    assert scan[2] and "No space left on device" in scan[2], scan
    assert free_after > 1024 * 1024, free_after
    assert full_clear, full_reasons
    assert all_200, (serving_full, serving_filled)
    assert after_status == "completed"
