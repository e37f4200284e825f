"""A live SecuLite on loopback for tests of the real path: its own PostgreSQL database and Redis
database, Gunicorn, Celery workers and beat started through entrypoint.sh, and an HTTP client."""

import json
import os
import secrets
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from tests.processes import BACKEND_DIR, ProcessGroup, base_env, free_port

ENTRYPOINT = ["sh", str(BACKEND_DIR / "entrypoint.sh")]


def create_database(postgres_params: dict) -> str:
    import psycopg
    from psycopg import sql

    name = f"seculite_live_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(**{**postgres_params, "dbname": "postgres"}, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def drop_database(postgres_params: dict, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(**{**postgres_params, "dbname": "postgres"}, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def redis_database(redis_url: str, number: int) -> str:
    import redis

    url = urlunparse(urlparse(redis_url)._replace(path=f"/{number}"))
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


def stack_env(
    *, tmp: Path, postgres_params: dict, database: str, broker_url: str, **extra: str
) -> dict[str, str]:
    """The environment of every process of a live stack (production settings, loopback)."""
    return base_env(
        DJANGO_SETTINGS_MODULE="seculite_api.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_SESSION_COOKIE_SECURE="false",
        DJANGO_CSRF_COOKIE_SECURE="false",
        SECULITE_X_ACCEL_REDIRECT="false",
        DB_ENGINE="postgresql",
        DB_NAME=database,
        DB_USER=postgres_params["user"],
        DB_PASSWORD=postgres_params["password"],
        DB_HOST=postgres_params["host"],
        DB_PORT=str(postgres_params["port"]),
        CELERY_BROKER_URL=broker_url,
        DJANGO_STATIC_ROOT=str(tmp / "static"),
        DJANGO_MEDIA_ROOT=str(tmp / "media"),
        SECULITE_VAR_DIR=str(tmp / "var"),
        SECULITE_WORKSPACE_DIR=str(tmp / "workspaces"),
        CELERY_BEAT_PIDFILE=str(tmp / "celerybeat.pid"),
        WAIT_FOR_DB_TIMEOUT="30",
        SECULITE_TOOLS_DIR=os.environ.get(
            "SECULITE_TOOLS_DIR", str(BACKEND_DIR.parent / ".tools" / "scanners")
        ),
        **extra,
    )


class LiveStack:
    """Gunicorn + workers + beat on a fresh database; `api()` talks to it over HTTP."""

    def __init__(self, tmp: Path, env: dict[str, str]):
        self.tmp = tmp
        self.env = env
        self.group = ProcessGroup(tmp)
        self.port = free_port()
        self.env["GUNICORN_BIND"] = f"127.0.0.1:{self.port}"
        self.env.setdefault("GUNICORN_WORKERS", "2")
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers: dict[str, object] = {}
        self.token = ""

    def migrate(self) -> None:
        done = subprocess.run(
            [*ENTRYPOINT, "migrate"],
            cwd=BACKEND_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    def start(self, *, workers: int = 1, beat: bool = True) -> None:
        self.web = self.group.start("web", [*ENTRYPOINT, "web"], self.env)
        for _ in range(workers):
            self.start_worker()
        if beat:
            self.beat = self.group.start("beat", [*ENTRYPOINT, "beat"], self.env)
        self.wait_healthy(workers=workers)

    def start_worker(self, concurrency: int = 2) -> str:
        name = f"w{len(self.workers) + 1}-{uuid.uuid4().hex[:6]}"
        env = {
            **self.env,
            "CELERY_WORKER_NAME": f"{name}@%h",
            "CELERY_WORKER_CONCURRENCY": str(concurrency),
        }
        self.workers[name] = self.group.start(f"worker-{name}", [*ENTRYPOINT, "worker"], env)
        return name

    def kill_worker(self, name: str) -> None:
        """SIGKILL a worker and its pool at once, as an OOM kill or a power cut would."""
        proc = self.workers.pop(name)
        os.killpg(proc.popen.pid, signal.SIGKILL)
        proc.popen.wait(timeout=10)

    def wait_healthy(self, workers: int = 1, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.group.assert_running()
            try:
                status, body = self.api("GET", "/api/v1/health/", auth=False)
                if status == 200 and body["workers"] >= workers:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError("the live stack did not become healthy:\n" + self.group.logs())

    def api(self, method: str, path: str, body=None, *, auth: bool = True):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if auth and self.token:
            request.add_header("Authorization", f"Token {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                raw = resp.read()
                return resp.status, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as err:
            raw = err.read()
            try:
                return err.code, json.loads(raw)
            except ValueError:
                return err.code, raw.decode(errors="replace")

    def sign_up(self, username: str = "analyst") -> None:
        password = "Live-Stack-Passw0rd!"
        status, body = self.api(
            "POST",
            "/api/v1/auth/registration/",
            {
                "username": username,
                "email": f"{username}@example.org",
                "password": password,
                "password_confirm": password,
            },
            auth=False,
        )
        assert status == 201, body
        status, body = self.api(
            "POST", "/api/v1/auth/login/", {"username": username, "password": password}, auth=False
        )
        assert status == 200, body
        self.token = body["token"]

    def wait_scan(self, scan_id: int, timeout: float, until=None) -> dict:
        """Poll a scan until it is finished (or `until(scan)` holds); fail with the logs."""
        deadline = time.monotonic() + timeout
        scan = {}
        while time.monotonic() < deadline:
            status, scan = self.api("GET", f"/api/v1/scans/{scan_id}/")
            assert status == 200, scan
            if (
                until(scan)
                if until
                else scan["status"] in ("completed", "failed", "error", "cancelled")
            ):
                return scan
            time.sleep(0.5)
        raise AssertionError(
            f"scan {scan_id} did not get there in {timeout}s: {scan}\n" + self.group.logs()
        )

    def stop(self) -> None:
        self.group.kill_all()
