"""Backups and restore on the real path: `manage.py backup` and `manage.py restore` as
subprocesses, real pg_dump/pg_restore, the embedded SQLite database, real media files.

The restore drill (PostgreSQL): a realistic data set is backed up while a scan is running and
the platform keeps writing, restored into a fresh database and media folder, and checked table
by table, file by file and through the API of a live SecuLite started on the restored copy;
then its worker and beat show that the interrupted scan ends and the schedules still fire.
The SQLite tests cover the embedded database and the refusals: a non-empty target, an archive
whose checksums do not match, and an archive with a path traversal member."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest

from apps.tools.tests.helpers import SAMPLE_APP, require_tool
from tests.backup_seed import seed
from tests.live import (
    ENTRYPOINT,
    LiveStack,
    create_database,
    drop_database,
    redis_database,
    stack_env,
)
from tests.processes import BACKEND_DIR, base_env
from tests.test_deploy_files import load_compose, run_entrypoint

MANAGE = [sys.executable, "manage.py"]


def manage(*args: str, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*MANAGE, *args],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# Rows that describe the host rather than the data: migrate (run by restore) refreshes which
# scanners this machine has. The staff's choice (enabled) must survive.
HOST_TABLES = {"tools_tooldefinition": "SELECT id, tool_id, enabled FROM tools_tooldefinition"}


def media_digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def only_archive(directory: Path) -> Path:
    archives = sorted(directory.glob("seculite-*.tar.gz"))
    assert len(archives) == 1, archives
    return archives[0]


# --- PostgreSQL: the restore drill --------------------------------------------------------------
def pg_tables(params: dict, dbname: str, where: dict[str, str]) -> dict[str, tuple]:
    """(row count, digest of every row) per table, and the sequences' positions."""
    import psycopg
    from psycopg import sql

    found = {}
    with psycopg.connect(**{**params, "dbname": dbname}) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
        for (table,) in tables:
            if table in HOST_TABLES:
                found[table] = tuple(sorted(conn.execute(HOST_TABLES[table]).fetchall()))
                continue
            query = sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(t::text, chr(10) ORDER BY t::text), ''))"
                " FROM {} t"
            ).format(sql.Identifier(table))
            if table in where:
                query = query + sql.SQL(" WHERE ") + sql.SQL(where[table])
            found[table] = tuple(conn.execute(query).fetchone())
        found["<sequences>"] = tuple(
            conn.execute(
                "SELECT sequencename, last_value FROM pg_sequences "
                "WHERE schemaname = 'public' AND sequencename <> 'core_heartbeat_id_seq' "
                "ORDER BY 1"
            ).fetchall()
        )
    return found


def pg_query(params: dict, dbname: str, query: str, *args) -> list[tuple]:
    import psycopg

    with psycopg.connect(**{**params, "dbname": dbname}) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        return conn.execute(query, args or None).fetchall()


def api_view(get, *, skip_scans: set[int]) -> dict:
    """Everything the caller sees through the API: organizations and members, projects with
    their targets, groups and configurations (next runs included), scans with their tool
    results and raw outputs, findings with their history and comments."""
    view: dict = {}

    def fetch(path: str):
        status, content_type, body = get(path)
        assert status == 200, (path, status, body[:500])
        if path.endswith("/raw/"):
            assert body, path
            view[path] = (len(body), hashlib.sha256(body).hexdigest())
            return None
        assert content_type.startswith("application/json"), (path, content_type)
        view[path] = json.loads(body)
        return view[path]

    for org in fetch("/api/v1/organizations/?page_size=500")["results"]:
        fetch(f"/api/v1/organizations/{org['id']}/members/?page_size=500")
    for project in fetch("/api/v1/projects/?page_size=500")["results"]:
        for part in ("targets", "targetgroups", "scanconfigurations"):
            fetch(f"/api/v1/projects/{project['id']}/{part}/?page_size=500")
    scans = fetch("/api/v1/scans/?page_size=500")
    scans["results"] = [s for s in scans["results"] if s["id"] not in skip_scans]
    for scan in scans["results"]:
        fetch(f"/api/v1/scans/{scan['id']}/")
        for result in fetch(f"/api/v1/scans/{scan['id']}/toolresults/"):
            if result["has_raw_output"]:
                fetch(f"/api/v1/scans/{scan['id']}/toolresults/{result['id']}/raw/")
    for finding in fetch("/api/v1/findings/?page_size=500")["results"]:
        fetch(f"/api/v1/findings/{finding['id']}/")
        fetch(f"/api/v1/findings/{finding['id']}/comments/?page_size=500")
    return view


def without_hosts(value, hosts: tuple[str, ...]):
    """Absolute links (pagination, webhook URLs) name the server asked: compare their paths."""
    if isinstance(value, dict):
        return {k: without_hosts(v, hosts) for k, v in value.items()}
    if isinstance(value, list):
        return [without_hosts(v, hosts) for v in value]
    if isinstance(value, str):
        for host in hosts:
            value = value.replace(host, "")
    return value


def client_getter(key: str):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    def get(path: str):
        response = client.get(path)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        return response.status_code, response.get("Content-Type", ""), body

    return get


def http_getter(base: str, key: str):
    def get(path: str):
        request = urllib.request.Request(base + path, headers={"Authorization": f"Token {key}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                return resp.status, resp.headers.get("Content-Type", ""), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers.get("Content-Type", ""), err.read()

    return get


class Writer(threading.Thread):
    """What a running platform does during a backup: a worker beats its tool run's heart and
    rows are appended, each in its own transaction."""

    def __init__(self, result_id: int):
        super().__init__(daemon=True)
        self.result_id = result_id
        self.stop = threading.Event()
        self.beats: list = []
        self.error: BaseException | None = None

    def run(self):
        from django.db import connection
        from django.utils import timezone

        from apps.core.models import Heartbeat
        from apps.scans.models import ScanToolResult

        try:
            while not self.stop.is_set():
                now = timezone.now()
                ScanToolResult.objects.filter(pk=self.result_id).update(heartbeat_at=now)
                Heartbeat.objects.create(name=f"drill-{len(self.beats):05d}", last_seen=now)
                self.beats.append(now)
                time.sleep(0.02)
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            connection.close()


@pytest.mark.stack
def test_restore_drill(transactional_db, settings, tmp_path, postgres_params, redis_url):
    """Back up while a scan runs and the platform writes; restore into a fresh database and
    media folder; everything is back, the interrupted scan ends and beat's schedules fire."""
    from django.db import connection

    from apps.scans.models import ScanToolResult
    from seculite_api.celery import app

    for slug in ("bandit", "detect-secrets"):
        require_tool(slug)
    started = time.monotonic()
    roots = tmp_path / "roots"
    shutil.copytree(SAMPLE_APP, roots / "sample")
    source_tmp, target_tmp = tmp_path / "source", tmp_path / "restored"
    settings.MEDIA_ROOT = source_tmp / "media"
    settings.SECULITE_SCAN_ROOTS = [roots]
    settings.SECULITE_WORKSPACE_DIR = source_tmp / "workspaces"
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        info = seed(sample=roots / "sample", once_in=timedelta(seconds=15))
    finally:
        app.conf.task_always_eager = eager
    inflight = info["inflight_scan"]
    keys = info["keys"]
    source_db = connection.settings_dict["NAME"]
    source_view = api_view(client_getter(keys["owner"]), skip_scans={inflight})
    status, _, body = client_getter(keys["outsider"])("/api/v1/projects/")
    assert status == 200
    outsider_view = json.loads(body)
    details = [p for p in source_view if p.startswith("/api/v1/findings/") and p.endswith("/")]
    assert len(details) == info["findings"], sorted(source_view)
    assert [p for p in source_view if p.endswith("/raw/")], "the raw output is compared"
    seeded = time.monotonic()

    # The backup, taken while the worker beats and rows are appended.
    running = ScanToolResult.objects.get(scan_id=inflight, tool_id="bandit")
    writer = Writer(running.pk)
    writer.start()
    while len(writer.beats) < 5 and writer.is_alive():
        time.sleep(0.01)
    db_env = {
        "postgres_params": postgres_params,
        "broker_url": redis_database(redis_url, int(urlparse(redis_url).path.strip("/") or 0)),
    }
    backups = tmp_path / "backups"
    done = manage(
        "backup",
        "--output-dir",
        str(backups),
        env=stack_env(tmp=source_tmp, database=source_db, **db_env),
    )
    writer.stop.set()
    writer.join(timeout=30)
    assert writer.error is None, writer.error
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Backup written" in done.stdout
    archive = only_archive(backups)
    assert len(writer.beats) > 5, "the platform kept writing during the backup"
    live_rows = {
        "scans_scantoolresult": f"scan_id <> {inflight}",
        "core_heartbeat": "name NOT LIKE 'drill-%'",
    }
    source_tables = pg_tables(postgres_params, source_db, live_rows)
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["database"]["vendor"] == "postgresql"
    assert manifest["database"]["dump_tool"].startswith("pg_dump ")
    assert "0001_initial" in manifest["migrations"]["findings"]
    assert len(manifest["members"]) == 1 + len(media_digests(source_tmp / "media")) >= 2
    backed_up = time.monotonic()

    # The restore, into a fresh database and media folder, in another process.
    target_db = create_database(postgres_params)
    stack = None
    try:
        env = stack_env(
            tmp=target_tmp,
            database=target_db,
            SECULITE_SCAN_ROOTS=str(roots),
            SECULITE_HEARTBEAT_TIMEOUT="6",
            SECULITE_REAPER_SECONDS="2",
            SECULITE_CANCEL_POLL_SECONDS="0.5",
            SECULITE_REDISPATCH_SECONDS="5",
            **db_env,
        )
        done = manage("restore", str(archive), env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"Restored {archive.name} into the PostgreSQL database {target_db}" in done.stdout
        assert "1 scan(s) were unfinished" in done.stdout
        restored_at = time.monotonic()

        # Table by table, row by row: equal (sequences included, so new rows get fresh ids).
        restored_tables = pg_tables(postgres_params, target_db, live_rows)
        assert restored_tables == source_tables
        assert source_tables["findings_finding"][0] == info["findings"] >= 5
        assert source_tables["findings_findinghistory"][0] >= 8
        assert source_tables["findings_findingcomment"][0] == 3
        assert source_tables["django_celery_beat_periodictask"][0] >= 2
        # Rows written during the backup: a consistent snapshot, i.e. a prefix of them, and
        # the heartbeat of that same moment.
        drill = [
            name
            for (name,) in pg_query(
                postgres_params,
                target_db,
                "SELECT name FROM core_heartbeat WHERE name LIKE 'drill-%' ORDER BY name",
            )
        ]
        count = len(drill)
        assert 5 <= count <= len(writer.beats)
        assert drill == [f"drill-{n:05d}" for n in range(count)]
        ((beat,),) = pg_query(
            postgres_params,
            target_db,
            "SELECT heartbeat_at FROM scans_scantoolresult WHERE id = %s",
            running.pk,
        )
        assert beat in writer.beats[count - 1 : count + 1]
        # Every media file, byte for byte.
        assert media_digests(target_tmp / "media") == media_digests(source_tmp / "media")

        # The API of a SecuLite on the restored copy (web only: nothing changes the data yet).
        stack = LiveStack(target_tmp, env)
        stack.start(workers=0, beat=False)
        restored_view = api_view(http_getter(stack.base, keys["owner"]), skip_scans={inflight})
        hosts = ("http://testserver", stack.base)
        assert sorted(restored_view) == sorted(source_view)
        for path, value in source_view.items():
            assert without_hosts(restored_view[path], hosts) == without_hosts(value, hosts), path
        status, _, body = http_getter(stack.base, keys["outsider"])("/api/v1/projects/")
        assert status == 200 and json.loads(body) == outsider_view
        assert [p["id"] for p in json.loads(body)["results"]] == [info["project_b"]]
        status, body = stack.api("GET", f"/api/v1/scans/{inflight}/", auth=False)
        assert status == 401
        api_checked = time.monotonic()

        # Worker and beat: the interrupted scan ends, and the once schedule fires.
        stack.token = keys["owner"]
        status, scan = stack.api("GET", f"/api/v1/scans/{inflight}/")
        assert status == 200 and scan["status"] == "running", scan
        stack.start_worker()
        stack.beat = stack.group.start("beat", [*ENTRYPOINT, "beat"], stack.env)
        final = stack.wait_scan(inflight, timeout=120)
        assert final["status"] == "completed", final
        by_tool = {r["tool_id"]: r for r in final["tool_results"]}
        assert by_tool["bandit"]["attempts"] == 2, "the reaper ran the interrupted tool again"
        assert by_tool["bandit"]["worker"] != "worker@decommissioned-host"
        assert by_tool["bandit"]["status"] == "completed"
        assert by_tool["detect-secrets"]["status"] in ("completed", "no_findings")
        ((total, distinct),) = pg_query(
            postgres_params,
            target_db,
            "SELECT count(*), count(DISTINCT fingerprint) FROM findings_finding "
            "WHERE tool_id = 'bandit'",
        )
        assert total == distinct == info["findings"], "restored findings are updated, not copied"

        deadline = time.monotonic() + 90
        scheduled = []
        while not scheduled and time.monotonic() < deadline:
            _, body = stack.api("GET", f"/api/v1/scans/?configuration_id={info['once']}")
            scheduled = body["results"]
            time.sleep(0.5)
        assert scheduled, "beat did not fire the restored schedule:\n" + stack.group.logs()
        assert scheduled[0]["trigger_type"] == "scheduled"
        fired = stack.wait_scan(scheduled[0]["id"], timeout=120)
        assert fired["status"] == "completed", fired
        (result,) = fired["tool_results"]
        assert result["findings_count"] == info["findings"]
        assert fired["summary"]["new"] == 0, "the restored findings were recognised"
        finished = time.monotonic()
        print(
            f"\nrestore drill: seed {seeded - started:.1f}s, backup {backed_up - seeded:.1f}s "
            f"({archive.stat().st_size} bytes, {len(manifest['members'])} members), restore "
            f"{restored_at - backed_up:.1f}s, API checks {api_checked - restored_at:.1f}s, "
            f"worker + beat {finished - api_checked:.1f}s; {len(source_view)} API answers "
            f"compared, {len(source_tables)} tables"
        )
    finally:
        if stack is not None:
            stack.stop()
        drop_database(postgres_params, target_db)


# --- SQLite: the embedded database ------------------------------------------------------------
SEED_AND_BACKUP = """
import json, sys
from pathlib import Path
import django
django.setup()
from django.conf import settings
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
from seculite_api.celery import app
app.conf.task_always_eager = True
app.conf.task_eager_propagates = True
from django.core.management import call_command
call_command("migrate", verbosity=0)
from tests.backup_seed import seed
info = seed(sample=Path(sys.argv[1]))
call_command("backup", "--output-dir", sys.argv[2])
print("SEED " + json.dumps(info))
"""


def sqlite_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """The embedded database and broker under `var_dir` (no DB_* at all), like `make dev`."""
    return base_env(
        DJANGO_SETTINGS_MODULE="seculite_api.settings.local",
        SECULITE_VAR_DIR=str(var_dir),
        SECULITE_SERVE_SPA="false",
        DJANGO_ALLOWED_HOSTS="localhost,127.0.0.1,testserver",
        SECULITE_TOOLS_DIR=str(BACKEND_DIR.parent / ".tools" / "scanners"),
        **extra,
    )


def sqlite_rows(path: Path) -> dict[str, list[str]]:
    """Every row of every table of an SQLite database, in a comparable form."""
    con = sqlite3.connect(path)
    try:
        tables = [
            name
            for (name,) in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {
            table: sorted(
                repr(row)
                for row in con.execute(
                    HOST_TABLES.get(table) or f'SELECT * FROM "{table}"'  # noqa: S608 - from sqlite_master
                )
            )
            for table in tables
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def sqlite_backup(tmp_path_factory):
    """A seeded embedded installation and its backup archive."""
    require_tool("bandit")
    tmp = tmp_path_factory.mktemp("sqlite")
    roots = tmp / "roots"
    shutil.copytree(SAMPLE_APP, roots / "sample")
    source = tmp / "source"
    done = subprocess.run(
        [sys.executable, "-c", SEED_AND_BACKUP, str(roots / "sample"), str(tmp / "backups")],
        cwd=BACKEND_DIR,
        env=sqlite_env(source, SECULITE_SCAN_ROOTS=str(roots)),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("SEED "))
    return {
        "tmp": tmp,
        "source": source,
        "archive": only_archive(tmp / "backups"),
        "info": json.loads(line[5:]),
    }


@pytest.fixture(scope="module")
def sqlite_restored(sqlite_backup):
    target = sqlite_backup["tmp"] / "restored"
    done = manage("restore", str(sqlite_backup["archive"]), env=sqlite_env(target))
    assert done.returncode == 0, done.stdout + done.stderr
    return target, done.stdout


def copy_of(site: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "site"
    shutil.copytree(site, dest)
    return dest


def state(var_dir: Path) -> tuple:
    database = var_dir / "seculite.sqlite3"
    rows = sqlite_rows(database) if database.exists() else {}
    return rows, media_digests(var_dir / "media") if (var_dir / "media").exists() else {}


def test_sqlite_backup_and_restore_round_trip(sqlite_backup, sqlite_restored):
    target, output = sqlite_restored
    assert "Restored" in output and "SQLite database" in output
    assert "1 scan(s) were unfinished" in output
    source_rows, source_media = state(sqlite_backup["source"])
    restored_rows, restored_media = state(target)
    assert restored_rows == source_rows
    assert restored_media == source_media
    info = sqlite_backup["info"]
    assert len(source_rows["findings_finding"]) == info["findings"] >= 5
    assert len(source_rows["findings_findinghistory"]) >= 8
    assert len(source_rows["findings_findingcomment"]) == 3
    assert any(
        "scan-configuration-" in row for row in source_rows["django_celery_beat_periodictask"]
    )
    assert any(p.endswith(".json") for p in source_media), source_media  # the raw output
    with tarfile.open(sqlite_backup["archive"]) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    assert names[0] == "database/seculite.sqlite3" and names[-1] == "manifest.json"
    assert manifest["database"]["vendor"] == "sqlite"
    assert manifest["seculite_version"] and manifest["django_version"].startswith("5.2")
    assert manifest["migrations"]["scans"][0] == "0001_initial"
    assert set(manifest["members"]) == {"database/seculite.sqlite3"} | {
        f"media/{name}" for name in source_media
    }
    with tarfile.open(sqlite_backup["archive"]) as tar:
        for name, member in manifest["members"].items():
            data = tar.extractfile(name).read()
            assert hashlib.sha256(data).hexdigest() == member["sha256"], name


def test_restore_refuses_a_target_that_is_not_empty(sqlite_backup, sqlite_restored, tmp_path):
    site = copy_of(sqlite_restored[0], tmp_path)
    before = state(site)
    done = manage("restore", str(sqlite_backup["archive"]), env=sqlite_env(site))
    assert done.returncode == 1
    assert "is not empty" in done.stderr and "FORCE=1" in done.stderr
    assert state(site) == before

    media_only = tmp_path / "media-only"
    (media_only / "media" / "left-over").mkdir(parents=True)
    done = manage("restore", str(sqlite_backup["archive"]), env=sqlite_env(media_only))
    assert done.returncode == 1 and "The media folder" in done.stderr
    assert not (media_only / "seculite.sqlite3").exists() or not sqlite_rows(
        media_only / "seculite.sqlite3"
    )

    # --force replaces both.
    (site / "media" / "stray.txt").write_text("not in the backup")
    done = manage("restore", str(sqlite_backup["archive"]), "--force", env=sqlite_env(site))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "previous contents were replaced" in done.stdout
    assert state(site) == state(sqlite_backup["source"])


def rewrite(archive: Path, dest: Path, change) -> Path:
    """A copy of `archive` with `change(name, data) -> data` applied to each member."""
    with tarfile.open(archive) as src, tarfile.open(dest, "w:gz") as out:
        for info in src.getmembers():
            data = change(info.name, src.extractfile(info).read())
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return dest


def test_restore_refuses_an_archive_whose_checksums_do_not_match(
    sqlite_backup, sqlite_restored, tmp_path
):
    flipped = []

    def flip_first_media_byte(name: str, data: bytes) -> bytes:
        if flipped or not name.startswith("media/") or not data:
            return data
        flipped.append(name)
        return bytes([data[0] ^ 0x20]) + data[1:]

    damaged = rewrite(sqlite_backup["archive"], tmp_path / "damaged.tar.gz", flip_first_media_byte)
    assert flipped, "the archive has a media file to damage"
    site = copy_of(sqlite_restored[0], tmp_path)
    (site / "media" / "kept.txt").write_text("must survive a refused restore")
    before = state(site)
    done = manage("restore", str(damaged), "--force", env=sqlite_env(site))
    assert done.returncode == 1, done.stdout
    assert "do not match their checksum" in done.stderr and "Nothing was restored" in done.stderr
    assert state(site) == before
    assert not list((site / "media").glob(".seculite-restore-*")), "no staging left behind"


def test_restore_refuses_a_path_traversal_member(sqlite_backup, tmp_path):
    escape = "seculite-escaped-by-restore.txt"
    hostile = tmp_path / "hostile.tar.gz"
    with tarfile.open(sqlite_backup["archive"]) as src:
        manifest = json.load(src.extractfile("manifest.json"))
        with tarfile.open(hostile, "w:gz") as out:
            payload = b"planted"
            evil = tarfile.TarInfo(f"media/../../{escape}")
            evil.size = len(payload)
            out.addfile(evil, io.BytesIO(payload))
            manifest["members"][evil.name] = {
                "sha256": hashlib.sha256(payload).hexdigest(),
                "size": len(payload),
            }
            for info in src.getmembers():
                if info.name != "manifest.json":
                    out.addfile(info, src.extractfile(info))
            data = json.dumps(manifest).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    site = tmp_path / "empty"
    done = manage("restore", str(hostile), env=sqlite_env(site))
    assert done.returncode == 1, done.stdout
    assert "leaves its folder" in done.stderr
    assert not list(tmp_path.rglob(escape)) and not (BACKEND_DIR / escape).exists()
    assert state(site) == ({}, {}), "nothing was restored"


# --- deployment: the compose service and the entrypoint ----------------------------------------
@pytest.mark.parametrize("name", ["docker-compose.yml", "docker-compose.prod.yml"])
def test_compose_backup_service(name):
    compose = load_compose(name)
    service = compose["services"]["backup"]
    assert service["profiles"] == ["backup"]
    assert service["command"] == ["backup"]
    assert service["environment"]["SECULITE_BACKUP_DIR"] == "/app/backups"
    assert service["environment"]["DB_HOST"] == "db"
    assert "backend_media_data:/app/media" in service["volumes"]
    assert "backup_data:/app/backups" in service["volumes"]
    assert "backup_data" in compose["volumes"]
    # Only the database: a restore on a fresh host must not wait for `migrate`.
    assert service["depends_on"] == {"db": {"condition": "service_healthy"}}


def test_entrypoint_backup_runs_the_periodic_backup(tmp_path):
    calls = run_entrypoint(tmp_path, "backup")
    assert [(c.program, c.args) for c in calls] == [
        ("python", ["manage.py", "wait_for_db", "--skip-broker", "--timeout", "60"]),
        ("python", ["manage.py", "backup", "--every", "86400"]),
    ]
    calls = run_entrypoint(tmp_path, "backup", SECULITE_BACKUP_INTERVAL_SECONDS="3600")
    assert calls[-1].args == ["manage.py", "backup", "--every", "3600"]
