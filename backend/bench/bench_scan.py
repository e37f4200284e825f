"""make bench-scan: scan a real medium codebase (the installed Django package's source) with
bandit + semgrep + detect-secrets through the platform (API -> Celery worker -> findings), and
run the same tools directly one after another. Prints both wall times and SecuLite's overhead.

Needs PostgreSQL and Redis (DB_* and CELERY_BROKER_URL, defaults 127.0.0.1) and `make tools`.
Overhead = platform wall time minus the time during which at least one scanner process ran:
launching, preparing, queueing, parsing, ingestion and status bookkeeping."""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

BACKEND = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BACKEND))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "seculite_api.settings.local")
os.environ.setdefault("SECULITE_VAR_DIR", tempfile.mkdtemp(prefix="seculite-bench-var-"))

import django

django.setup()

from apps.tools.plugins.base import ScanContext
from apps.tools.plugins.registry import registry
from apps.tools.runner import minimal_env
from tests.live import (
    LiveStack,
    create_database,
    drop_database,
    redis_database,
    stack_env,
)

TOOLS = ("bandit", "semgrep", "detect-secrets")


def direct_sequential(source: Path, work: Path) -> dict[str, float]:
    """Each tool's own command line (as the plugin builds it), run one after another."""
    times = {}
    for slug in TOOLS:
        plugin = registry.get(slug)
        location = plugin.locate()
        if not location.available:
            sys.exit(f"{slug} is not installed: run `make tools` ({location.reason})")
        out = work / f"direct-{slug}"
        ctx = ScanContext(
            workspace=source, output_dir=out, binary=location.path, scratch_dir=out / "scratch"
        )
        out.mkdir(parents=True)
        ctx.scratch.mkdir()
        command = plugin.build_command(ctx)
        env = {**minimal_env(plugin, location.path, ctx.scratch), **command.env}
        started = time.monotonic()
        with (
            command.output_path.open("wb")
            if command.stdout_is_report
            else open(os.devnull, "wb") as stdout
        ):
            subprocess.run(
                command.argv,
                cwd=command.cwd,
                env=env,
                stdout=stdout,
                stderr=subprocess.DEVNULL,
                check=False,
            )
        times[slug] = time.monotonic() - started
        print(f"  direct {slug:15} {times[slug]:7.1f} s", flush=True)
    return times


def union_seconds(intervals: list[tuple[float, float]]) -> float:
    total, end = 0.0, None
    for start, stop in sorted(intervals):
        if end is None or start > end:
            total += stop - start
            end = stop
        elif stop > end:
            total += stop - end
            end = stop
    return total


def platform(source: Path, work: Path, concurrency: int) -> tuple[float, dict]:
    postgres = {
        "host": os.environ.get("DB_HOST", "127.0.0.1"),
        "port": int(os.environ.get("DB_PORT", "5432")),
        "user": os.environ.get("DB_USER", "postgres"),
        "password": os.environ.get("DB_PASSWORD", ""),
        "dbname": "postgres",
    }
    broker = redis_database(os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"), 11)
    database = create_database(postgres)
    env = stack_env(
        tmp=work,
        postgres_params=postgres,
        database=database,
        broker_url=broker,
        SECULITE_SCAN_ROOTS=str(source),
        GUNICORN_WORKERS="2",
    )
    stack = LiveStack(work, env)
    try:
        stack.migrate()
        stack.web = stack.group.start("web", ["sh", str(BACKEND / "entrypoint.sh"), "web"], env)
        stack.start_worker(concurrency=concurrency)
        stack.wait_healthy(workers=1)
        stack.sign_up("bench")
        _, project = stack.api("POST", "/api/v1/projects/", {"name": "bench"})
        _, target = stack.api(
            "POST",
            f"/api/v1/projects/{project['id']}/targets/",
            {"name": "django", "asset_type": "git_repository", "identifier": str(source)},
        )
        status, config = stack.api(
            "POST",
            f"/api/v1/projects/{project['id']}/scanconfigurations/",
            {
                "name": "bench",
                "target_assets": [target["id"]],
                "tools_and_configs": [{"tool_id": t} for t in TOOLS],
            },
        )
        assert status == 201, config
        started = time.monotonic()
        status, scan = stack.api(
            "POST", f"/api/v1/projects/{project['id']}/scanconfigurations/{config['id']}/launch/"
        )
        assert status == 202, scan
        scan = stack.wait_scan(scan["id"], timeout=1800)
        wall = time.monotonic() - started
        return wall, scan
    finally:
        stack.stop()
        drop_database(postgres, database)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--concurrency", type=int, default=3, help="worker processes (one per tool by default)"
    )
    args = parser.parse_args()
    source = Path(django.__file__).parent
    files = sum(1 for _ in source.rglob("*.py"))
    lines = sum(len(p.read_bytes().splitlines()) for p in source.rglob("*.py"))
    print(f"codebase: {source} ({files} Python files, {lines} lines)")
    print(f"machine: {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="seculite-bench-") as tmp:
        work = Path(tmp)
        print("direct, one tool after another:")
        direct = direct_sequential(source, work / "direct")
        direct_total = sum(direct.values())
        print(f"platform (API -> worker with {args.concurrency} processes -> findings):")
        wall, scan = platform(source, work / "platform", args.concurrency)
    assert scan["status"] == "completed", scan
    intervals = []
    for result in scan["tool_results"]:
        start = datetime.fromisoformat(result["scanner_started_at"]).timestamp()
        intervals.append((start, start + result["scanner_seconds"]))
        print(
            f"  {result['tool_id']:15} scanner {result['scanner_seconds']:7.1f} s, "
            f"run {result['duration_seconds']:7.1f} s, {result['findings_count']} findings"
        )
    scanning = union_seconds(intervals)
    overhead = wall - scanning
    print()
    print(f"direct sequential wall time : {direct_total:8.1f} s")
    print(
        f"platform wall time          : {wall:8.1f} s ({scan['summary']['total']} findings stored)"
    )
    print(
        f"platform overhead           : {overhead:8.1f} s = {100 * overhead / wall:.1f}% "
        f"of the platform's wall time (target < 10%)"
    )
    print(f"speed-up over sequential    : {direct_total / wall:8.2f}x (target > 1)")
    ok = wall < direct_total and overhead / wall < 0.10
    print("RESULT:", "targets met" if ok else "TARGETS MISSED")


if __name__ == "__main__":
    main()
