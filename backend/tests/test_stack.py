"""The production process layout, natively on loopback (no Docker engine here): entrypoint.sh
(wait, migrate, collectstatic), Gunicorn, a Celery worker, Celery beat and Debian's nginx with
nginx/nginx.conf, against real PostgreSQL and Redis."""

import json
import secrets
import signal
import subprocess
import uuid
from urllib.parse import urlparse, urlunparse

import pytest

from tests.nginx_conf import render_nginx_conf
from tests.processes import (
    BACKEND_DIR,
    ProcessGroup,
    base_env,
    free_port,
    http_get,
    wait_for,
)

pytestmark = pytest.mark.stack

REPO_DIR = BACKEND_DIR.parent
ENTRYPOINT = ["sh", str(BACKEND_DIR / "entrypoint.sh")]
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


@pytest.fixture
def stack_database(postgres_params):
    import psycopg
    from psycopg import sql

    name = f"seculite_stack_{uuid.uuid4().hex[:10]}"
    admin = {**postgres_params, "dbname": "postgres"}
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield {**postgres_params, "dbname": name}
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def stack_broker(redis_url):
    """A Redis database of its own for this test, emptied before and after."""
    import redis

    parsed = urlparse(redis_url)
    url = urlunparse(parsed._replace(path="/13"))
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


def test_production_stack_behind_nginx(
    tmp_path, stack_database, stack_broker, nginx_binary, spa_dist
):
    web_port, http_port = free_port(), free_port()
    static_root, media_root = tmp_path / "static", tmp_path / "media"
    worker_name = f"stack-{uuid.uuid4().hex[:8]}"
    env = base_env(
        DJANGO_SETTINGS_MODULE="seculite_api.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DB_ENGINE="postgresql",
        DB_NAME=stack_database["dbname"],
        DB_USER=stack_database["user"],
        DB_PASSWORD=stack_database["password"],
        DB_HOST=stack_database["host"],
        DB_PORT=str(stack_database["port"]),
        CELERY_BROKER_URL=stack_broker,
        DJANGO_STATIC_ROOT=str(static_root),
        DJANGO_MEDIA_ROOT=str(media_root),
        SECULITE_VAR_DIR=str(tmp_path / "var"),
        SECULITE_BEAT_HEARTBEAT_SECONDS="1",
        GUNICORN_BIND=f"127.0.0.1:{web_port}",
        GUNICORN_WORKERS="2",
        CELERY_WORKER_CONCURRENCY="2",
        CELERY_WORKER_NAME=f"{worker_name}@%h",
        CELERY_BEAT_PIDFILE=str(tmp_path / "celerybeat.pid"),
        WAIT_FOR_DB_TIMEOUT="30",
    )

    # One-shot deployment step: wait for the services, migrate, collect static files.
    migrate = subprocess.run(
        [*ENTRYPOINT, "migrate"],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    assert (static_root / "admin" / "css" / "base.css").is_file()

    group = ProcessGroup(tmp_path)
    conf = render_nginx_conf(
        REPO_DIR / "nginx",
        tmp_path / "nginx",
        upstream=f"127.0.0.1:{web_port}",
        listen_port=http_port,
        spa_root=spa_dist,
        static_root=static_root,
        media_root=media_root,
    )
    try:
        web = group.start("web", [*ENTRYPOINT, "web"], env)
        worker = group.start("worker", [*ENTRYPOINT, "worker"], env)
        beat = group.start("beat", [*ENTRYPOINT, "beat"], env)
        nginx = group.start(
            "nginx",
            [nginx_binary, "-c", str(conf), "-p", str(conf.parent), "-g", "daemon off;"],
            env,
        )
        base = f"http://127.0.0.1:{http_port}"

        # Health through nginx: database, broker and our one worker.
        health = wait_for(
            lambda: (a := http_get(f"{base}/api/v1/health/")).status == 200
            and a.json()["workers"] >= 1
            and a,
            timeout=120,
            what="healthy stack with a worker",
            group=group,
        )
        body = health.json()
        assert body["database"] == "ok" and body["broker"] == "ok" and body["workers"] == 1
        assert_security_headers(health, "/api/v1/health/")

        # The SPA at / and at a deep link, never cached; its hashed assets cached for long.
        index = http_get(f"{base}/")
        deep = http_get(f"{base}/projects/42")
        for page, path in ((index, "/"), (deep, "/projects/42")):
            assert page.status == 200, path
            assert b'<div id="app">' in page.body, path
            assert page.headers["content-type"].startswith("text/html"), path
            assert "no-cache" in page.headers.get("cache-control", ""), path
            assert_security_headers(page, path)
        csp = index.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]
        asset = next(
            part.split('"', 1)[0]
            for part in index.body.decode().split('src="')[1:]
            if part.startswith("/assets/")
        )
        asset_answer = http_get(base + asset)
        assert asset_answer.status == 200
        assert "max-age=31536000" in asset_answer.headers.get("cache-control", "")
        assert asset_answer.headers.get("content-encoding") in (None, "gzip")
        gz = http_get_gzip(base + asset)
        assert gz.headers.get("content-encoding") == "gzip"

        # Django's static files, collected by `migrate`, served by nginx with a long cache.
        css = http_get(f"{base}/static/admin/css/base.css")
        assert css.status == 200 and b"body" in css.body
        assert "max-age" in css.headers.get("cache-control", "")
        assert "gunicorn" not in css.headers.get("server", "").lower()

        # Raw scanner output under /media/ is not public, nor is the internal location.
        raw = media_root / "scan_tool_outputs" / "2026" / "11" / "27" / "bandit.json"
        raw.parent.mkdir(parents=True)
        raw.write_text('{"secret": "raw scanner output"}')
        for path in (
            "/media/scan_tool_outputs/2026/11/27/bandit.json",
            "/protected-media/scan_tool_outputs/2026/11/27/bandit.json",
        ):
            answer = http_get(base + path)
            assert answer.status == 404, path
            assert b"raw scanner output" not in answer.body
        direct = http_get(
            f"http://127.0.0.1:{web_port}/media/scan_tool_outputs/2026/11/27/bandit.json"
        )
        assert direct.status == 404 and b"raw scanner output" not in direct.body

        # API errors keep their JSON shape through nginx; unknown API URLs are JSON 404s.
        missing = http_get(f"{base}/api/v1/no-such-endpoint/")
        assert missing.status == 404
        assert missing.json() == {"detail": "Not found.", "errors": {}, "error_code": "not_found"}
        assert_security_headers(missing, "/api/v1/no-such-endpoint/")

        # A task routed to the `scans` queue runs on the worker.
        probe = subprocess.run(
            [*ENTRYPOINT, "manage", "probe_workers", "--timeout", "60"],
            cwd=BACKEND_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert probe.returncode == 0, probe.stderr + group.logs()
        detail = json.loads(probe.stdout.strip().splitlines()[-1])
        assert detail["routing_key"] == "scans"
        assert detail["hostname"].startswith(worker_name)

        # Beat enqueues its periodic heartbeat (every second here) and the worker runs it.
        first = wait_for(
            lambda: http_get(f"{base}/api/v1/health/").json()["beat_last_seen"],
            timeout=60,
            what="first beat heartbeat",
            group=group,
        )
        wait_for(
            lambda: http_get(f"{base}/api/v1/health/").json()["beat_last_seen"]
            not in (None, first),
            timeout=30,
            what="a second beat heartbeat",
            group=group,
        )
        assert "Scheduler: Sending due task seculite-beat-heartbeat" in beat.output()

        # Everything stops cleanly.
        codes = {
            "nginx": group.stop(nginx, signal.SIGQUIT),
            "beat": group.stop(beat),
            "worker": group.stop(worker),
            "web": group.stop(web),
        }
        assert codes == {"nginx": 0, "beat": 0, "worker": 0, "web": 0}, group.logs()
    finally:
        group.kill_all()


def assert_security_headers(answer, path: str) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert answer.header_lists.get(name) == [value], (path, name, answer.header_lists.get(name))
    assert len(answer.header_lists.get("content-security-policy", [])) == 1, path


def http_get_gzip(url: str):
    import urllib.request

    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        resp.read()
        return resp
