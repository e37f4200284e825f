"""`make dev`'s process layout on the embedded defaults: SQLite and the filesystem broker, with
real web, worker and beat processes, stopped together by Ctrl-C."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from tests.processes import BACKEND_DIR, ProcessGroup, base_env, free_port, http_get, wait_for


def _pids_with_env(marker: str) -> list[int]:
    """Processes whose environment carries `marker` (our own children, whatever their names)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_rundev_runs_web_worker_and_beat_on_embedded_defaults(tmp_path, spa_dist):
    port = free_port()
    marker = f"seculite-rundev-{uuid.uuid4().hex}"
    env = base_env(
        DJANGO_SETTINGS_MODULE="seculite_api.settings.local",
        SECULITE_VAR_DIR=str(tmp_path / "var"),
        SECULITE_BEAT_HEARTBEAT_SECONDS="1",
        SECULITE_TEST_MARKER=marker,
        SECULITE_SPA_DIST_DIR=str(spa_dist),
    )
    group = ProcessGroup(tmp_path)
    dev = group.start("rundev", [sys.executable, "manage.py", "rundev", "--port", str(port)], env)
    base = f"http://127.0.0.1:{port}"
    try:
        health = wait_for(
            lambda: (a := http_get(f"{base}/api/v1/health/", timeout=5)).status == 200
            and a.json()["workers"] >= 1
            and a.json(),
            timeout=90,
            what="health with one worker",
            group=group,
        )
        assert health["database"] == "ok"
        assert health["broker"] == "ok"

        # The embedded database is a WAL-mode SQLite file under SECULITE_VAR_DIR.
        db_file = tmp_path / "var" / "seculite.sqlite3"
        assert db_file.is_file()
        assert (tmp_path / "var" / "seculite.sqlite3-wal").exists()
        assert (tmp_path / "var" / "broker" / "queue").is_dir()

        # Beat enqueues its heartbeat through the embedded broker and the worker runs it.
        beat = wait_for(
            lambda: http_get(f"{base}/api/v1/health/").json()["beat_last_seen"],
            timeout=60,
            what="beat heartbeat",
            group=group,
        )
        assert beat.endswith("+00:00")

        # A task routed to the `scans` queue runs on the worker.
        probe = subprocess.run(
            [sys.executable, "manage.py", "probe_workers", "--timeout", "60"],
            cwd=BACKEND_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert probe.returncode == 0, probe.stderr + group.logs()
        detail = json.loads(probe.stdout.strip().splitlines()[-1])
        assert detail["routing_key"] == "scans"
        assert detail["hostname"].startswith("dev-")

        # The SPA is served by Django at / and at a deep link.
        for path in ("/", "/projects/42"):
            page = http_get(base + path)
            assert page.status == 200, path
            assert b'<div id="app">' in page.body
            assert page.headers["content-type"].startswith("text/html")

        # The administrator account was generated and its password printed once.
        assert "password:" in dev.output()
    finally:
        if dev.popen.poll() is None:
            dev.popen.send_signal(signal.SIGINT)  # what Ctrl-C delivers
        try:
            code = dev.popen.wait(timeout=40)
        except subprocess.TimeoutExpired:
            group.kill_all()
            raise AssertionError("rundev did not stop after SIGINT:\n" + dev.output()) from None
    assert code == 0, dev.output()[-3000:]
    # Web, worker (with its pool) and beat are all gone.
    deadline = time.monotonic() + 10
    while _pids_with_env(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _pids_with_env(marker) == [], "processes left behind after Ctrl-C"
