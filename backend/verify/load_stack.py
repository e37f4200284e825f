"""The live stack of the Load and Hostile-input suites: tests/live.py's LiveStack (its own
PostgreSQL database and Redis database, Gunicorn, Celery workers and beat through entrypoint.sh)
with Debian's nginx in front, rendered from the repository's nginx/ as in production. Once
started, `api()` and `base` go through nginx."""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlparse

from tests.live import LiveStack, create_database, drop_database, redis_database, stack_env
from tests.nginx_conf import start_nginx
from tests.processes import BACKEND_DIR, free_port

SHELL_SCRIPT = """#!/bin/sh
# A tiny target for quick real scans: ShellCheck reports SC2086 and SC2046 here.
for f in $(ls $1); do
  echo $f
done
"""


class NginxStack(LiveStack):
    """LiveStack behind nginx; `db` holds psycopg connection parameters of its database."""

    def __init__(self, tmp: Path, env: dict[str, str], *, db: dict, nginx: str, spa: Path):
        super().__init__(tmp, env)
        self.db = db
        self.nginx_binary = nginx
        self.spa = spa
        self.http_port = free_port()
        self.gunicorn_base = self.base

    def start(self, *, workers: int = 1, beat: bool = True) -> None:
        super().start(workers=workers, beat=beat)
        conf, self.nginx = start_nginx(
            self.group,
            self.tmp / "nginx",
            binary=self.nginx_binary,
            upstream_port=self.port,
            env=self.env,
            listen_port=self.http_port,
            spa_root=self.spa,
            static_root=self.env["DJANGO_STATIC_ROOT"],
            media_root=self.env["DJANGO_MEDIA_ROOT"],
        )
        self.nginx_logs = conf.parent / "logs"
        self.base = f"http://127.0.0.1:{self.http_port}"
        self.wait_healthy(workers=workers)

    def stop(self) -> None:
        nginx = getattr(self, "nginx", None)
        if nginx is not None and nginx.popen.poll() is None:
            self.group.stop(nginx, signal.SIGQUIT)
        super().stop()

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows of one SQL statement on the stack's own database (read-only checks, seeding)."""
        import psycopg

        with psycopg.connect(**self.db) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def all_logs(self) -> str:
        """Everything the stack's processes and nginx wrote (to search for leaked secrets)."""
        texts = [p.output() for p in self.group.procs]
        if hasattr(self, "nginx_logs"):
            texts += [f.read_text(errors="replace") for f in self.nginx_logs.glob("*.log")]
        return "\n".join(texts)

    def tiny_target(self, project: int, name: str = "tiny") -> int:
        """A local-path git_repository target under the scan roots with one shell script."""
        root = Path(self.env["SECULITE_SCAN_ROOTS"]) / name
        root.mkdir(parents=True, exist_ok=True)
        (root / "run.sh").write_text(SHELL_SCRIPT)
        status, target = self.api(
            "POST",
            f"/api/v1/projects/{project}/targets/",
            {"name": name, "asset_type": "git_repository", "identifier": str(root)},
        )
        assert status == 201, target
        return target["id"]

    def create_api_key(self) -> str:
        status, body = self.api("POST", "/api/v1/auth/userprofile/api-key/")
        assert status == 201, body
        return body["key"]


def redis_number(redis_url: str) -> int:
    """The Redis database the caller's CELERY_BROKER_URL names (default 0)."""
    path = urlparse(redis_url).path.strip("/")
    return int(path) if path.isdigit() else 0


_TEMPLATE: dict[str, object] = {}


# The one-shot deployment step of entrypoint.sh (`migrate`) in one process: migrations, static
# files, the tool rows. Without its per-tool version runs and the first administrator, which
# the suites do not use and which cost minutes on a loaded machine (a Python start each).
TEMPLATE_STEPS = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
call_command("collectstatic", interactive=False, verbosity=0)
call_command("sync_tools")
"""


def migrated_template(
    config, *, postgres_params: dict, redis_url: str, tmp: Path
) -> tuple[str, Path]:
    """A database migrated once per session, and the static files collected with it. Each
    suite's stack starts from a copy (CREATE DATABASE ... TEMPLATE), so that the migrations run
    once however many stacks a session starts."""
    if not _TEMPLATE:
        database = create_database(postgres_params)
        config.add_cleanup(lambda: drop_database(postgres_params, database))
        env = stack_env(
            tmp=tmp, postgres_params=postgres_params, database=database, broker_url=redis_url
        )
        done = subprocess.run(
            [sys.executable, "-c", TEMPLATE_STEPS],
            cwd=BACKEND_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "shellcheck" in done.stdout, done.stdout
        _TEMPLATE.update(database=database, static=tmp / "static")
    return str(_TEMPLATE["database"]), Path(str(_TEMPLATE["static"]))


def clone_database(postgres_params: dict, template: str) -> str:
    import psycopg
    from psycopg import sql

    name = f"seculite_verify_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(**{**postgres_params, "dbname": "postgres"}, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )
    return name


@contextlib.contextmanager
def nginx_stack(
    tmp: Path,
    *,
    template: tuple[str, Path],
    postgres_params: dict,
    redis_url: str,
    nginx_binary: str,
    spa_dist: Path,
    workers: int,
    beat: bool,
    **env: str,
):
    """A copy of the migrated template, everything started behind nginx; stopped and dropped
    after."""
    database = clone_database(postgres_params, template[0])
    roots = tmp / "roots"
    roots.mkdir(parents=True, exist_ok=True)
    stack_environment = stack_env(
        tmp=tmp,
        postgres_params=postgres_params,
        database=database,
        broker_url=redis_database(redis_url, redis_number(redis_url)),
        SECULITE_SCAN_ROOTS=str(roots),
        **env,
    )
    stack_environment["DJANGO_STATIC_ROOT"] = str(template[1])
    stack = NginxStack(
        tmp,
        stack_environment,
        db={**postgres_params, "dbname": database},
        nginx=nginx_binary,
        spa=spa_dist,
    )
    try:
        stack.start(workers=workers, beat=beat)
        yield stack
    finally:
        stack.stop()
        drop_database(postgres_params, database)
        shutil.rmtree(tmp / "media", ignore_errors=True)
