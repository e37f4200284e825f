"""The live stack of the Faults suite: Gunicorn, one Celery worker, beat and nginx, on a private
PostgreSQL cluster and a private Redis server (both stopped and broken by the tests), with the
media directory and scan workspaces on a path that a test can cover with a small tmpfs."""

import shutil
import subprocess
import time
from pathlib import Path

import django

from apps.tools.tests.helpers import SAMPLE_APP
from tests.live import ENTRYPOINT, LiveStack, create_database, stack_env
from tests.nginx_conf import start_nginx
from tests.processes import BACKEND_DIR, free_port

from .faults_services import PrivatePostgres, PrivateRedis

FORMS_SOURCE = Path(django.__file__).resolve().parent / "forms"  # ~10 files: bandit for seconds

# Small on purpose: the suite waits for these, so a scan engine that honours them settles fast.
HEARTBEAT_TIMEOUT = 5
REAPER_SECONDS = 1
CANCEL_POLL_SECONDS = 0.5
REDISPATCH_SECONDS = 4

SCAN_FINISHED = ("completed", "failed", "error", "cancelled")
RESULT_FINISHED = ("completed", "no_findings", "failed", "timed_out", "skipped", "cancelled")


def write_big_target(path: Path, files: int = 20, asserts: int = 200) -> None:
    """A Python package on which Bandit reports ~4,000 `assert` findings: a ~3 MB raw report."""
    path.mkdir(parents=True)
    for i in range(files):
        lines = [f"def check_{i}(value):\n"]
        lines += [f'    assert value != {j}, "value {j} is reserved"\n' for j in range(asserts)]
        (path / f"module_{i}.py").write_text("".join(lines))


class FaultStack(LiveStack):
    """LiveStack behind nginx, with SQL access to its database and the private services."""

    pg: PrivatePostgres
    redis: PrivateRedis
    db: dict
    quota: Path
    media: Path
    project: int
    targets: dict[str, int]

    def __init__(self, tmp: Path, env: dict[str, str]):
        super().__init__(tmp, env)
        self.dead = []  # processes this suite killed, kept for their logs

    def migrate(self) -> None:
        """The schema only: the deployment step's collectstatic and tool version detection cost
        a minute on a loaded machine and nothing here needs them."""
        done = subprocess.run(
            [*ENTRYPOINT, "manage", "migrate", "--noinput"],
            cwd=BACKEND_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    def kill_worker(self, name: str) -> None:
        """SIGKILL it (LiveStack) and forget it: the others must keep passing assert_running."""
        proc = self.workers[name]
        super().kill_worker(name)
        self.group.procs.remove(proc)
        self.dead.append(proc)

    def sql(self, query: str, params=()) -> list[tuple]:
        import psycopg

        with psycopg.connect(**self.db, connect_timeout=5) as conn:
            return conn.execute(query, params).fetchall()

    def worker_ready(self, name: str, timeout: float = 120) -> float:
        """Wait for the worker's "ready." line; return the monotonic time it was seen."""
        proc = self.workers[name]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in proc.output():
                return time.monotonic()
            self.group.assert_running()
            time.sleep(0.1)
        raise AssertionError(f"worker {name} did not get ready:\n{proc.output()[-3000:]}")

    def worker_host(self, name: str) -> str:
        """The hostname Celery gives the worker `name` (what tool results record)."""
        import socket

        return f"{name}@{socket.gethostname()}"

    def configure(self, name: str, tools: list[str], targets: list[str]) -> dict:
        status, config = self.api(
            "POST",
            f"/api/v1/projects/{self.project}/scanconfigurations/",
            {
                "name": name,
                "target_assets": [self.targets[t] for t in targets],
                "tools_and_configs": [{"tool_id": t} for t in tools],
            },
        )
        assert status == 201, config
        return config

    def launch(self, config: dict) -> int:
        status, scan = self.api(
            "POST",
            f"/api/v1/projects/{self.project}/scanconfigurations/{config['id']}/launch/",
        )
        assert status == 202, scan
        return scan["id"]

    def scan_rows(self, scan_ids: list[int]) -> dict[int, tuple]:
        rows = self.sql(
            "SELECT id, status, error_message FROM scans_scan WHERE id = ANY(%s)", (scan_ids,)
        )
        return {r[0]: r for r in rows}

    def result_rows(self, scan_ids: list[int]) -> list[tuple]:
        """(id, scan, tool, target, status, findings, finished_at, raw path, attempts, worker,
        error) of the scans' tool results."""
        return self.sql(
            "SELECT id, scan_id, tool_id, target_id, status, findings_count, finished_at, "
            "raw_output_path, attempts, worker, error_message FROM scans_scantoolresult "
            "WHERE scan_id = ANY(%s) ORDER BY id",
            (scan_ids,),
        )

    def wait_scans(self, scan_ids: list[int], timeout: float) -> float:
        """Wait until every scan is finished (read from the database); return the time."""
        deadline = time.monotonic() + timeout
        rows = {}
        while time.monotonic() < deadline:
            rows = self.scan_rows(scan_ids)
            if all(rows[i][1] in SCAN_FINISHED for i in scan_ids):
                return time.monotonic()
            time.sleep(0.25)
        raise AssertionError(
            f"scans not finished after {timeout}s: "
            f"{[(i, rows.get(i, (0, '?'))[1]) for i in scan_ids]}\n"
            f"{self.result_rows(scan_ids)}\n" + self.group.logs()
        )

    def reaper_reports(self) -> list[dict]:
        """What the reaper did, from the workers' logs ("reaper: {...}" lines)."""
        import ast
        import json

        reports = []
        for proc in [*self.dead, *self.group.procs]:
            if not proc.name.startswith("worker-"):
                continue
            for line in proc.output().splitlines():
                if "reaper: {" not in line:
                    continue
                try:  # JSON log lines in production, plain text elsewhere
                    line = json.loads(line)["message"]
                except (ValueError, KeyError, TypeError):
                    pass
                reports.append(ast.literal_eval(line.split("reaper: ", 1)[1].strip()))
        return reports

    def duplicates(self) -> dict[str, int]:
        """Findings with the same fingerprint per project and target, and tool results run
        twice within one scan: both must be zero."""
        findings = self.sql(
            "SELECT count(*) - count(DISTINCT (project_id, target_id, fingerprint)) "
            "FROM findings_finding"
        )[0][0]
        results = self.sql(
            "SELECT count(*) FROM (SELECT 1 FROM scans_scantoolresult "
            "GROUP BY scan_id, tool_id, target_id HAVING count(*) > 1) AS twice"
        )[0][0]
        return {"findings": findings, "tool_results": results}


def build_stack(tmp: Path, pg_root: Path, nginx_binary: str) -> FaultStack:
    """Start everything; the caller stops it with `stop_stack`."""
    roots = tmp / "roots"
    shutil.copytree(SAMPLE_APP, roots / "sample")
    shutil.copytree(FORMS_SOURCE, roots / "forms", ignore=shutil.ignore_patterns("__pycache__"))
    write_big_target(roots / "big")

    pg = PrivatePostgres(pg_root)
    redis = PrivateRedis(tmp / "redis")
    stack = None
    try:
        pg.init()
        pg.start()
        redis.start()
        database = create_database(pg.params)
        quota = tmp / "quota"
        env = stack_env(
            tmp=tmp,
            postgres_params=pg.params,
            database=database,
            broker_url=redis.url,
            SECULITE_SCAN_ROOTS=str(roots),
            SECULITE_HEARTBEAT_TIMEOUT=str(HEARTBEAT_TIMEOUT),
            SECULITE_REAPER_SECONDS=str(REAPER_SECONDS),
            SECULITE_CANCEL_POLL_SECONDS=str(CANCEL_POLL_SECONDS),
            SECULITE_REDISPATCH_SECONDS=str(REDISPATCH_SECONDS),
            SECULITE_BEAT_HEARTBEAT_SECONDS="1",
            SECULITE_HEALTH_PING_TIMEOUT="1",
            DB_CONNECT_TIMEOUT="3",
            GUNICORN_WORKERS="2",
            GUNICORN_TIMEOUT="60",
        )
        # Raw output and workspaces share one path that test 4 covers with a 2 MB tmpfs.
        env["DJANGO_MEDIA_ROOT"] = str(quota / "media")
        env["SECULITE_WORKSPACE_DIR"] = str(quota / "workspaces")
        stack = FaultStack(tmp, env)
        stack.pg, stack.redis, stack.quota = pg, redis, quota
        stack.media = quota / "media"
        stack.db = {**pg.params, "dbname": database}
        stack.migrate()
        stack.start(workers=1, beat=True)

        spa = tmp / "spa"  # the API is what this suite tests: a stand-in index for "/"
        spa.mkdir()
        (spa / "index.html").write_text('<!doctype html><div id="app"></div>')
        http_port = free_port()
        start_nginx(
            stack.group,
            tmp / "nginx",
            binary=nginx_binary,
            upstream_port=stack.port,
            env=env,
            listen_port=http_port,
            spa_root=spa,
            static_root=tmp / "static",
            media_root=stack.media,
        )
        stack.base = f"http://127.0.0.1:{http_port}"  # from now on every request goes via nginx
        stack.wait_healthy(workers=1)
        stack.sign_up()
        status, project = stack.api("POST", "/api/v1/projects/", {"name": "Faults"})
        assert status == 201, project
        stack.project = project["id"]
        stack.targets = {}
        for name in ("sample", "forms", "big"):
            status, target = stack.api(
                "POST",
                f"/api/v1/projects/{stack.project}/targets/",
                {"name": name, "asset_type": "git_repository", "identifier": str(roots / name)},
            )
            assert status == 201, target
            stack.targets[name] = target["id"]
        return stack
    except BaseException:
        stop_stack(stack, pg, redis)
        raise


def stop_stack(stack: FaultStack | None, pg: PrivatePostgres, redis: PrivateRedis) -> None:
    if stack is not None:
        stack.stop()
    redis.stop()
    if pg.running():
        pg.stop(mode="immediate")
