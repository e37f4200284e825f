"""The access suite's stack: production settings with their production defaults (secure cookies,
SSL redirect, X-Accel-Redirect), Gunicorn, a Celery worker and beat, behind nginx-https.conf
with a self-signed certificate made by openssl, and an HTTPS client that keeps one connection
per thread.

Only what the authorization matrix would otherwise trip over is relaxed: login lockout and the
throttles of the public endpoints (the matrix sends a failed login and an empty registration as
every caller, from one address), and the reaper's patience (the matrix's worlds hold scans that
no worker runs). Lockout, throttling and the reaper have their own tests."""

from __future__ import annotations

import hashlib
import http.client
import json
import ssl
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from tests.live import LiveStack, create_database, drop_database, redis_database, stack_env
from tests.nginx_conf import make_self_signed_cert, start_nginx
from tests.processes import BACKEND_DIR, free_port, wait_for

#: Variables tests.live.stack_env sets for plain-HTTP loopback; unset here, so that the
#: production settings' own defaults apply (HTTPS is on, through nginx).
PLAIN_HTTP_OVERRIDES = (
    "DJANGO_SECURE_SSL_REDIRECT",
    "DJANGO_SESSION_COOKIE_SECURE",
    "DJANGO_CSRF_COOKIE_SECURE",
    "SECULITE_X_ACCEL_REDIRECT",
)
RELAXED = {
    "SECULITE_LOGIN_FAILURE_LIMIT": "100000",
    "SECULITE_THROTTLE_LOGIN": "100000/min",
    "SECULITE_THROTTLE_REGISTRATION": "100000/hour",
    "SECULITE_THROTTLE_PASSWORD_RESET": "100000/hour",
    "SECULITE_THROTTLE_WEBHOOK": "100000/min",
    # The matrix's worlds hold scans "running" with no worker behind them: the reaper would
    # re-run them all (and starve the suite's own work) if it found them stale.
    "SECULITE_HEARTBEAT_TIMEOUT": "86400",
    "SECULITE_REDISPATCH_SECONDS": "86400",
    # Every caller of the suite is on loopback, which the metrics endpoint lets in by address
    # by default; the matrix (like the test settings) grants no address, so that its rows are
    # about users. The address rule has its own tests (apps/core/tests/test_metrics.py).
    "SECULITE_METRICS_ALLOWED_IPS": "192.0.2.0/24",
}


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name.lower()), "")

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body)


@dataclass
class AccessStack:
    tmp: Path
    live: LiveStack
    database: str
    postgres_params: dict
    certs: Path
    nginx_dir: Path
    https_port: int
    http_port: int
    spa_root: Path
    timings: dict[str, float] = field(default_factory=dict)
    background: dict[str, subprocess.Popen] = field(default_factory=dict)
    _local: threading.local = field(default_factory=threading.local)

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def env(self) -> dict[str, str]:
        return self.live.env

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.certs / "fullchain.pem"))

    def _connection(self) -> http.client.HTTPSConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPSConnection(
                "127.0.0.1", self.https_port, context=self.ssl_context(), timeout=60
            )
            self._local.conn = conn
        return conn

    def request(
        self,
        method: str,
        path: str,
        *,
        body=None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """One request to nginx over HTTPS (a kept-alive connection of this thread); `body` is
        sent as JSON unless it is bytes."""
        sent = dict(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body, default=str).encode()
            sent.setdefault("Content-Type", "application/json")
        sent.setdefault("Accept", "*/*")
        if token:
            sent["Authorization"] = f"Token {token}"
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, path, body=data, headers=sent)
                resp = conn.getresponse()
                raw = resp.read()
                return Answer(resp.status, resp.getheaders(), raw)
            except Exception as exc:
                conn.close()
                self._local.conn = None
                # nginx closed an idle kept-alive connection: open a new one, once.
                # (after keepalive_requests, 1000 by default).
                stale = isinstance(exc, (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError))
                if attempt == 2 or not stale:
                    raise
        raise AssertionError("unreachable")

    def python(self, *args: str, env: dict | None = None, timeout: float = 300):
        """`python ARGS` in backend/ with the stack's environment (production settings)."""
        return subprocess.run(
            [str(BACKEND_DIR / ".venv" / "bin" / "python"), *args],
            cwd=BACKEND_DIR,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def _connect(self):
        import psycopg

        return psycopg.connect(**{**self.postgres_params, "dbname": self.database})

    def sql(self, query, params=()) -> list[tuple]:
        """Rows of a query on the stack's database (read-only checks from the test process)."""
        with self._connect() as conn:
            return conn.execute(query, params).fetchall()

    def digest(self, tables: list[str]) -> dict[str, list]:
        """[rows, md5 of every row in text order] per table (whatever its primary key is
        called: a finding's sighting has `finding_id`)."""
        from psycopg import sql

        out = {}
        with self._connect() as conn:
            for table in tables:
                query = sql.SQL(
                    "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
                    " FROM {} AS t"
                ).format(sql.Identifier(table))
                out[table] = list(conn.execute(query).fetchone())
        return out

    def background_result(self, name: str, timeout: float = 900) -> str:
        """Wait for a command started with the stack (`prelaunch`); its output, or a failure."""
        proc = self.background[name]
        proc.wait(timeout=timeout)
        output = (self.tmp / f"{name}.out").read_text(errors="replace")
        assert proc.returncode == 0, f"{name} exited {proc.returncode}:\n{output[-4000:]}"
        return output

    def written_files(self) -> list[Path]:
        """Every file the stack wrote: the processes' logs (Gunicorn, workers, beat, nginx's
        stdout), nginx's access and error logs, media and var; not the static files, the SPA
        copy, the certificate, the rendered nginx configuration or the suite's own plan."""
        skip = {"static", "spa", "certs", "cache"}
        return sorted(
            p
            for p in self.tmp.rglob("*")
            if p.is_file()
            and not skip & set(p.relative_to(self.tmp).parts)
            and p.suffix != ".conf"
            and p.name not in ("plan.json", "plan.out", "mime.types")
        )

    def stop(self) -> None:
        for proc in self.background.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.live.stop()
        drop_database(self.postgres_params, self.database)


def _migrations_digest() -> str:
    """What a migrated database depends on: every app's migrations and the locked packages."""
    digest = hashlib.sha256()
    paths = [*sorted(BACKEND_DIR.glob("apps/*/migrations/*.py")), BACKEND_DIR / "poetry.lock"]
    for path in paths:
        digest.update(str(path.relative_to(BACKEND_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _admin(postgres_params: dict):
    import psycopg

    return psycopg.connect(**{**postgres_params, "dbname": "postgres"}, autocommit=True)


def migrated_database(postgres_params: dict, env: dict[str, str]) -> str:
    """A fresh database with every migration applied and the tools synced, cloned from a
    template database that is migrated once per state of the migrations (the first run pays
    `migrate`; a later run clones in about a second). `migrate` itself, as the deployment runs
    it, is the stack test's business (tests/test_stack.py)."""
    from psycopg import errors, sql

    template = f"seculite_tmpl_access_{_migrations_digest()}"
    with _admin(postgres_params) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (template,)
        ).fetchone()
    if not exists:
        building = create_database(postgres_params)
        done = subprocess.run(
            [
                str(BACKEND_DIR / ".venv" / "bin" / "python"),
                "-c",
                "import django; django.setup(); from django.core.management import call_command;"
                " call_command('migrate', interactive=False, verbosity=0);"
                " call_command('sync_tools', verbosity=0)",
            ],
            cwd=BACKEND_DIR,
            env={**env, "DB_NAME": building},
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if done.returncode != 0:
            drop_database(postgres_params, building)
            raise AssertionError("migrating the template database failed:\n" + done.stderr)
        with _admin(postgres_params) as conn:
            try:
                conn.execute(
                    sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                        sql.Identifier(building), sql.Identifier(template)
                    )
                )
            except errors.DuplicateDatabase:  # made meanwhile by another run
                drop_database(postgres_params, building)
            # Templates of earlier migration states are of no further use.
            old = conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'seculite_tmpl_access_%%'"
                " AND datname <> %s",
                (template,),
            ).fetchall()
        for (name,) in old:
            drop_database(postgres_params, name)
    name = f"seculite_access_{uuid.uuid4().hex[:10]}"
    with _admin(postgres_params) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )
    return name


def start_access_stack(
    tmp: Path,
    *,
    postgres_params: dict,
    redis_url: str,
    nginx_binary: str,
    spa_dist: Path,
    prelaunch: dict[str, list[str]] | None = None,
) -> AccessStack:
    """Start the stack; `prelaunch` names `python ARGS` commands (stack environment) started
    as soon as the database exists, to run while the processes start (output in NAME.out)."""
    number = int(urlparse(redis_url).path.strip("/") or 0)
    broker = redis_database(redis_url, number)
    env = stack_env(tmp=tmp, postgres_params=postgres_params, database="", broker_url=broker)
    for key in PLAIN_HTTP_OVERRIDES:
        env.pop(key, None)
    env.update(RELAXED)
    env["GUNICORN_WORKERS"] = "2"
    env["CELERY_WORKER_CONCURRENCY"] = "1"
    # The probe pages of the CSP check live beside the built SPA, in a copy of it.
    spa_root = tmp / "spa"
    subprocess.run(["cp", "-r", str(spa_dist), str(spa_root)], check=True, timeout=60)
    clock = time.monotonic()
    database = migrated_database(postgres_params, env)
    timings = {"database": time.monotonic() - clock}
    env["DB_NAME"] = database
    live = LiveStack(tmp, env)
    stack = None
    # The admin and Swagger UI pages need the collected static files and their manifest,
    # complete before Gunicorn starts: a worker that read a half-written manifest answered 500
    # on /api/v1/docs/ for its lifetime (production's `migrate` service collects before `web`).
    collect = subprocess.Popen(
        [str(BACKEND_DIR / ".venv" / "bin" / "python"), "manage.py", "collectstatic", "--noinput"],
        cwd=BACKEND_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    background = {}
    for name, args in (prelaunch or {}).items():
        with (tmp / f"{name}.out").open("wb") as out:
            background[name] = subprocess.Popen(
                [str(BACKEND_DIR / ".venv" / "bin" / "python"), *args],
                cwd=BACKEND_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
    try:
        output = collect.communicate(timeout=600)[0]
        assert collect.returncode == 0, output.decode(errors="replace")
        live.start(workers=1, beat=True)
        timings["processes"] = time.monotonic() - clock - timings["database"]
        certs = make_self_signed_cert(tmp / "certs", common_name="localhost")
        http_port, https_port = free_port(), free_port()
        conf, _ = start_nginx(
            live.group,
            tmp / "nginx",
            binary=nginx_binary,
            upstream_port=live.port,
            listen_port=http_port,
            tls_port=https_port,
            certs_dir=certs,
            config="nginx-https.conf",
            spa_root=spa_root,
            static_root=Path(env["DJANGO_STATIC_ROOT"]),
            media_root=Path(env["DJANGO_MEDIA_ROOT"]),
        )
        stack = AccessStack(
            tmp=tmp,
            live=live,
            database=database,
            postgres_params=postgres_params,
            certs=certs,
            nginx_dir=conf.parent,
            https_port=https_port,
            http_port=http_port,
            spa_root=spa_root,
            timings=timings,
            background=background,
        )
        wait_for(
            lambda: stack.request("GET", "/api/v1/health/").status == 200,
            timeout=60,
            what="nginx with TLS in front of Gunicorn",
            group=live.group,
        )
        timings["total"] = time.monotonic() - clock
        return stack
    except BaseException:
        for proc in (collect, *background.values()):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        live.stop()
        drop_database(postgres_params, database)
        raise
