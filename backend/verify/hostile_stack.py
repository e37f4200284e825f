"""The hostile-input suite's stack: Gunicorn, a Celery worker (2 slots) and beat on production
settings, behind nginx (plain HTTP on loopback), with a scan root holding the crafted
repository, file:// Git URLs on (so the clone path runs), an administrator for the admin
checks, and everything else at its production default (no private targets allowed)."""

from __future__ import annotations

import http.cookiejar
import re
import secrets
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from tests.live import (
    ENTRYPOINT,
    LiveStack,
    create_database,
    drop_database,
    redis_database,
    stack_env,
)
from tests.nginx_conf import start_nginx
from tests.processes import BACKEND_DIR, free_port, wait_for

ADMIN_USER = "hostile-admin"


@dataclass
class HostileStack:
    tmp: Path
    live: LiveStack
    database: str
    postgres_params: dict
    nginx_port: int
    roots: Path
    admin_password: str
    projects: dict[str, int] = field(default_factory=dict)

    @property
    def web_port(self) -> int:
        return self.live.port

    @property
    def media(self) -> Path:
        return Path(self.live.env["DJANGO_MEDIA_ROOT"])

    def via_nginx(self, method: str, path: str, body=None):
        """The JSON API through nginx (LiveStack.api talks to Gunicorn directly)."""
        saved = self.live.base
        self.live.base = f"http://127.0.0.1:{self.nginx_port}"
        try:
            return self.live.api(method, path, body)
        finally:
            self.live.base = saved

    def sql(self, query: str, *args) -> list[tuple]:
        import psycopg

        with psycopg.connect(**{**self.postgres_params, "dbname": self.database}) as conn:
            return conn.execute(query, args).fetchall()

    def database_text(self) -> str:
        """Every row of every table as text: what a secret would have to be absent from."""
        tables = [
            row[0]
            for row in self.sql(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        parts = []
        for table in tables:
            rows = self.sql(f'SELECT t::text FROM "{table}" t')  # noqa: S608 - names from pg
            parts.extend(r[0] for r in rows)
        return "\n".join(parts)

    def worker_pgids(self) -> list[int]:
        return [proc.popen.pid for proc in self.live.workers.values()]

    def stop(self) -> None:
        self.live.stop()
        drop_database(self.postgres_params, self.database)


def migrate(live: LiveStack, timeout: float = 1200) -> None:
    """entrypoint.sh migrate (migrations, static files, the administrator, scanner versions),
    with room for a machine whose cores are shared: running every scanner's --version alone
    can take minutes there."""
    done = subprocess.run(
        [*ENTRYPOINT, "migrate"],
        cwd=BACKEND_DIR,
        env=live.env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def start_hostile_stack(
    tmp: Path, *, postgres_params: dict, redis_url: str, nginx_binary: str, spa_dist: Path
) -> HostileStack:
    database = create_database(postgres_params)
    number = int(urlparse(redis_url).path.strip("/") or 0)
    roots = tmp / "roots"
    roots.mkdir()
    password = secrets.token_urlsafe(18)
    env = stack_env(
        tmp=tmp,
        postgres_params=postgres_params,
        database=database,
        broker_url=redis_database(redis_url, number),
        SECULITE_SCAN_ROOTS=str(roots),
        SECULITE_ALLOW_FILE_GIT_URLS="true",
        SECULITE_TOOL_TIMEOUT="600",
        DJANGO_SUPERUSER_USERNAME=ADMIN_USER,
        DJANGO_SUPERUSER_EMAIL="hostile-admin@example.org",
        DJANGO_SUPERUSER_PASSWORD=password,
    )
    live = LiveStack(tmp, env)
    try:
        migrate(live)
        live.start(workers=1, beat=True)
        nginx_port = free_port()
        start_nginx(
            live.group,
            tmp / "nginx",
            binary=nginx_binary,
            upstream_port=live.port,
            listen_port=nginx_port,
            spa_root=spa_dist,
            static_root=Path(env["DJANGO_STATIC_ROOT"]),
            media_root=Path(env["DJANGO_MEDIA_ROOT"]),
        )
        stack = HostileStack(
            tmp=tmp,
            live=live,
            database=database,
            postgres_params=postgres_params,
            nginx_port=nginx_port,
            roots=roots,
            admin_password=password,
        )
        wait_for(
            lambda: stack.via_nginx("GET", "/api/v1/health/")[0] == 200,
            timeout=60,
            what="nginx in front of Gunicorn",
            group=live.group,
        )
        live.sign_up("hostile-analyst")
        for name in ("reports", "control", "targets", "repos"):
            status, project = live.api("POST", "/api/v1/projects/", {"name": name})
            assert status == 201, project
            stack.projects[name] = project["id"]
        return stack
    except BaseException:
        live.stop()
        drop_database(postgres_params, database)
        raise


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class AdminSession:
    """A browser-like session on the Django admin through nginx: cookies, CSRF tokens."""

    TOKEN_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
            request.add_header("Referer", self.base + path)
        try:
            with self.opener.open(request, timeout=30) as resp:
                return resp.status, resp.read().decode(errors="replace"), ""
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode(errors="replace"), err.headers.get("Location", "")

    def token(self, path: str) -> str:
        status, page, _ = self.request("GET", path)
        assert status == 200, (status, page[:500])
        match = self.TOKEN_RE.search(page)
        assert match, page[:500]
        return match.group(1)

    def log_in(self, username: str, password: str) -> None:
        token = self.token("/admin/login/")
        status, page, location = self.request(
            "POST",
            "/admin/login/?next=/admin/",
            {
                "csrfmiddlewaretoken": token,
                "username": username,
                "password": password,
                "next": "/admin/",
            },
        )
        assert status == 302 and location.endswith("/admin/"), (status, page[:800])

    def add_target(self, project_id: int, asset_type: str, identifier: str, metadata="{}"):
        """POST the admin's add form for a target: (status, page)."""
        path = "/admin/projects/targetasset/add/"
        token = self.token(path)
        status, page, location = self.request(
            "POST",
            path,
            {
                "csrfmiddlewaretoken": token,
                "project": str(project_id),
                "name": "admin-hostile",
                "asset_type": asset_type,
                "identifier": identifier,
                "metadata": metadata,
                "description": "",
                "is_active": "on",
                "_save": "Save",
            },
        )
        return status, page, location
