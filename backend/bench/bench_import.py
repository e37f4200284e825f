"""make bench-import: report imports at scale through the real platform (Gunicorn, a Celery
worker, PostgreSQL, Redis), with Bandit-format reports made by a generator.

For N = 10,000 and 100,000 (a fresh project each): the first import of N findings, a reimport
of the same report unchanged, and a report with 50% overlap (half the findings gone, half new).
Each line gives the time from the start of the upload to the completed scan (its status polled
in the database every 0.05 s), findings per second, the worker's peak memory (VmHWM of its pool
process, reset before each import through /proc/<pid>/clear_refs), and the SQL statements of
the import task (the worker logs them when SECULITE_IMPORT_QUERY_LOG is set): those Django ran
plus those the finding stage sent on the raw psycopg connection (per batch of 5,000 findings a
binary COPY into the stage, one pipelined INSERT ... ON CONFLICT merge and a TRUNCATE). A second
line splits the time: upload, queue, reading and writing the report, and the lifecycle pass that
finishes the scan.

Needs PostgreSQL and Redis (DB_* and CELERY_BROKER_URL, defaults 127.0.0.1). Targets on a
2-core machine: 100,000 findings in < 10 s, an unchanged reimport of 100,000 in < 5 s, worker
memory < 500 MB."""

import argparse
import http.client
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

BACKEND = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BACKEND))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "seculite_api.settings.local")
os.environ.setdefault("SECULITE_VAR_DIR", tempfile.mkdtemp(prefix="seculite-bench-var-"))

import django

django.setup()

from tests.live import LiveStack, create_database, drop_database, redis_database, stack_env

TESTS = [
    (
        "B307",
        "blacklist",
        "MEDIUM",
        "HIGH",
        78,
        "Use of possibly insecure function - consider using safer ast.literal_eval.",
    ),
    (
        "B602",
        "subprocess_popen_with_shell_equals_true",
        "HIGH",
        "HIGH",
        78,
        "subprocess call with shell=True identified, security issue.",
    ),
    (
        "B108",
        "hardcoded_tmp_directory",
        "MEDIUM",
        "MEDIUM",
        377,
        "Probable insecure usage of temp file/directory.",
    ),
    (
        "B101",
        "assert_used",
        "LOW",
        "HIGH",
        703,
        "Use of assert detected. The enclosed code will "
        "be removed when compiling to optimised byte code.",
    ),
]


# --- the report generator ------------------------------------------------------------------------
def bandit_result(index: int) -> dict:
    """Finding number `index`: always the same for the same index (so reports can overlap)."""
    test_id, name, severity, confidence, cwe, text = TESTS[index % len(TESTS)]
    line = 10 + index % 400
    return {
        "code": f"{line - 1} def handler_{index}(value):\n{line}     return run_{index}(value)\n",
        "col_offset": 11,
        "end_col_offset": 27,
        "filename": f"./pkg{index // 1000}/module_{index % 1000}.py",
        "issue_confidence": confidence,
        "issue_cwe": {"id": cwe, "link": f"https://cwe.mitre.org/data/definitions/{cwe}.html"},
        "issue_severity": severity,
        "issue_text": text,
        "line_number": line,
        "line_range": [line],
        "more_info": f"https://bandit.readthedocs.io/en/1.9.4/plugins/{test_id.lower()}.html",
        "test_id": test_id,
        "test_name": name,
    }


def write_bandit_report(path: Path, count: int, *, first: int = 0) -> Path:
    """A Bandit JSON report of `count` findings numbered first..first+count-1.

    Two reports overlap where their ranges do: (N, first=0) and (N, first=N/2) share 50%."""
    with path.open("w") as out:
        out.write('{\n  "errors": [],\n  "generated_at": "2026-11-28T00:00:00Z",\n')
        totals = json.dumps({"_totals": {"loc": count, "nosec": 0}})
        out.write(f'  "metrics": {totals},\n  "results": [\n')
        for position, index in enumerate(range(first, first + count)):
            if position:
                out.write(",\n")
            out.write(json.dumps(bandit_result(index), indent=2))
        out.write("\n  ]\n}\n")
    return path


# --- talking to the stack ------------------------------------------------------------------------
def upload(stack: LiveStack, project_id: int, report: Path) -> dict:
    """Stream the report as multipart/form-data (never read whole) and return the 202 body."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{report.name}"\r\nContent-Type: application/json\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = len(head) + report.stat().st_size + len(tail)
    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=300)
    connection.putrequest("POST", f"/api/v1/projects/{project_id}/imports/")
    connection.putheader("Authorization", f"Token {stack.token}")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(size))
    connection.endheaders()
    connection.send(head)
    with report.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            connection.send(chunk)
    connection.send(tail)
    response = connection.getresponse()
    body = json.loads(response.read() or b"{}")
    connection.close()
    assert response.status == 202, (response.status, body)
    return body


def wait_finished(stack: LiveStack, scan_id: int, timeout: float = 900) -> dict:
    """Poll the scan's status in the database every 0.05 s (an API request that often would
    take CPU from the import it measures), then read the scan once through the API."""
    import psycopg

    deadline = time.monotonic() + timeout
    with psycopg.connect(**stack.db, autocommit=True) as db:
        while time.monotonic() < deadline:
            row = db.execute("SELECT status FROM scans_scan WHERE id = %s", [scan_id]).fetchone()
            if row and row[0] in ("completed", "failed", "error", "cancelled"):
                status, scan = stack.api("GET", f"/api/v1/scans/{scan_id}/")
                assert status == 200, scan
                return scan
            time.sleep(0.05)
    raise AssertionError(f"import {scan_id} did not finish:\n" + stack.group.logs())


def pool_pids(worker_pid: int) -> list[int]:
    children = Path(f"/proc/{worker_pid}/task/{worker_pid}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def reset_peaks(pids: list[int]) -> None:
    for pid in pids:
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:
            pass


def peak_mb(pids: list[int]) -> float:
    peak = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]))
    return peak / 1024


def last_statements(log: Path, scan_id: int) -> tuple[int, int]:
    """The task writes its line just after the scan is marked finished: wait for it."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for line in reversed(log.read_text().splitlines() if log.exists() else []):
            entry = json.loads(line)
            if entry["scan"] == scan_id:
                return entry["statements"], entry["batches"]
        time.sleep(0.05)
    return -1, -1


def _seconds(start: str | None, end: str | None) -> float:
    if not start or not end:
        return float("nan")
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def measure(stack, worker_pid, query_log, project_id, report, count) -> dict:
    pids = pool_pids(worker_pid)
    reset_peaks(pids)
    started = time.monotonic()
    scan_id = upload(stack, project_id, report)["id"]
    uploaded = time.monotonic() - started
    scan = wait_finished(stack, scan_id)
    seconds = time.monotonic() - started
    result = scan["tool_results"][0]
    assert scan["status"] == "completed", scan
    statements, batches = last_statements(query_log, scan_id)
    summary = scan["summary"]
    return {
        "seconds": seconds,
        "rate": count / seconds,
        "peak_mb": peak_mb(pool_pids(worker_pid) or pids),
        "statements": statements,
        "batches": batches,
        "new": summary.get("new"),
        "recurring": summary.get("recurring"),
        "resolved": summary.get("resolved"),
        "findings": summary.get("total"),
        # Where the time went: the upload (until the 202), waiting for the worker, reading and
        # writing the report (the tool result's duration), and finishing (the lifecycle pass).
        "upload": uploaded,
        "queued": _seconds(scan["created_at"], scan["started_at"]),
        "ingest": result["duration_seconds"] or float("nan"),
        "finish": _seconds(result["finished_at"], scan["finished_at"]),
    }


def cpu_reference() -> float:
    """Seconds one core takes for 10,000,000 steps of a Python loop (best of three)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(10_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated N values")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    postgres = {
        "host": os.environ.get("DB_HOST", "127.0.0.1"),
        "port": int(os.environ.get("DB_PORT", "5432")),
        "user": os.environ.get("DB_USER", "postgres"),
        "password": os.environ.get("DB_PASSWORD", ""),
        "dbname": "postgres",
    }
    print(
        f"machine: {os.cpu_count()} cores, {cpu_reference():.2f} s for a reference Python loop "
        f"(machines of one kind differ: compare runs by it); "
        f"PostgreSQL at {postgres['host']}:{postgres['port']}"
    )
    with tempfile.TemporaryDirectory(prefix="seculite-bench-import-") as tmp:
        work = Path(tmp)
        query_log = work / "import-queries.jsonl"
        broker = redis_database(os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"), 12)
        database = create_database(postgres)
        env = stack_env(
            tmp=work,
            postgres_params=postgres,
            database=database,
            broker_url=broker,
            GUNICORN_WORKERS="2",
            GUNICORN_TIMEOUT="300",
            SECULITE_IMPORT_QUERY_LOG=str(query_log),
            CELERY_LOG_LEVEL="WARNING",
        )
        stack = LiveStack(work, env)
        stack.db = {**postgres, "dbname": database}
        rows = []
        try:
            stack.migrate()
            stack.web = stack.group.start("web", ["sh", str(BACKEND / "entrypoint.sh"), "web"], env)
            name = stack.start_worker(concurrency=1)
            stack.wait_healthy(workers=1)
            worker_pid = stack.workers[name].popen.pid
            stack.sign_up("bench")
            for count in sizes:
                status, project = stack.api("POST", "/api/v1/projects/", {"name": f"n{count}"})
                assert status == 201, project
                first = write_bandit_report(work / f"bandit-{count}.json", count)
                half = write_bandit_report(
                    work / f"bandit-{count}-overlap.json", count, first=count // 2
                )
                size_mb = first.stat().st_size / 1e6
                print(f"\nN = {count:,} (report {size_mb:.1f} MB)", flush=True)
                for case, report in (
                    ("first import", first),
                    ("unchanged reimport", first),
                    ("50% overlap", half),
                ):
                    row = measure(stack, worker_pid, query_log, project["id"], report, count)
                    row.update(n=count, case=case)
                    rows.append(row)
                    print(
                        f"  {case:19} {row['seconds']:7.2f} s  {row['rate']:9,.0f} findings/s  "
                        f"worker peak {row['peak_mb']:6.0f} MB  SQL {row['statements']} "
                        f"({row['batches']} batches)  (new {row['new']}, "
                        f"recurring {row['recurring']}, resolved {row['resolved']})",
                        flush=True,
                    )
                    print(
                        f"  {'':19} upload {row['upload']:.2f} s, queued {row['queued']:.2f} s, "
                        f"read + write {row['ingest']:.2f} s, lifecycle and finish "
                        f"{row['finish']:.2f} s",
                        flush=True,
                    )
        finally:
            stack.stop()
            drop_database(postgres, database)
    print("\ntargets (2 cores):")
    ok = True
    for row in rows:
        if row["n"] != 100_000:
            continue
        limit = {"first import": 10.0, "unchanged reimport": 5.0}.get(row["case"])
        if limit is not None:
            met = row["seconds"] < limit
            ok &= met
            print(
                f"  {row['case']} of 100,000 < {limit:.0f} s: {row['seconds']:.2f} s "
                f"{'OK' if met else 'MISSED'}"
            )
    peak = max((row["peak_mb"] for row in rows), default=0)
    ok &= peak < 500
    print(f"  worker memory < 500 MB: {peak:.0f} MB {'OK' if peak < 500 else 'MISSED'}")
    print("RESULT:", "targets met" if ok else "TARGETS MISSED")


if __name__ == "__main__":
    main()
