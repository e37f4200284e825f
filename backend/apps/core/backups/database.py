"""Dumping and loading the configured database: pg_dump / pg_restore (custom format) on
PostgreSQL, SQLite's online backup API on the embedded database.

PostgreSQL's client programs get the connection from PG* environment variables, the password
included, so that nothing secret appears on a command line (visible in `ps`)."""

from __future__ import annotations

import logging
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from .archive import BackupError

logger = logging.getLogger("seculite.backups")

POSTGRESQL = "postgresql"
SQLITE = "sqlite"
DUMP_NAMES = {POSTGRESQL: "database/seculite.pgdump", SQLITE: "database/seculite.sqlite3"}
# Where distributions install PostgreSQL's client programs, one directory per major version.
PG_BIN_GLOBS = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/usr/local/pgsql*/bin")
PG_TIMEOUT = 6 * 3600


def vendor() -> str:
    if connection.vendor == "postgresql":
        return POSTGRESQL
    if connection.vendor == "sqlite":
        return SQLITE
    raise BackupError(f"Backups support PostgreSQL and SQLite, not {connection.vendor}.")


def server_version() -> str:
    if vendor() == POSTGRESQL:
        connection.ensure_connection()
        number = connection.pg_version  # e.g. 150020
        major = number // 10000
        return f"{major}.{number % 10000}" if major >= 10 else str(number)
    return sqlite3.sqlite_version


def applied_migrations() -> dict[str, list[str]]:
    """Applied migrations per app, in name order (the manifest's migration state)."""
    applied: dict[str, list[str]] = {}
    for app, name in sorted(MigrationRecorder(connection).applied_migrations()):
        applied.setdefault(app, []).append(name)
    return applied


def unknown_migrations(recorded: dict[str, list[str]]) -> list[str]:
    """Migrations recorded in an archive that this code does not have (a newer SecuLite)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    return sorted(
        f"{app}.{name}"
        for app, names in recorded.items()
        for name in names
        if app in loader.migrated_apps and (app, name) not in known
    )


# --- PostgreSQL client programs -------------------------------------------------------------------
def _version_of(binary: str) -> tuple[int, ...]:
    done = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
        [binary, "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    match = re.search(r"(\d+)(?:\.(\d+))?", done.stdout)
    if done.returncode != 0 or not match:
        return ()
    return tuple(int(part) for part in match.groups() if part is not None)


def pg_program(name: str, server_major: int | None = None) -> str:
    """The `name` program (pg_dump, pg_restore) that can talk to the server: from
    SECULITE_PG_BIN_DIR, else the installed version matching the server's major version (or the
    newest newer one), else PATH. An older client than the server is refused."""
    if server_major is None:
        connection.ensure_connection()
        server_major = connection.pg_version // 10000
    configured = getattr(settings, "SECULITE_PG_BIN_DIR", "")
    if configured:
        candidate = Path(configured) / name
        if not os.access(candidate, os.X_OK):
            raise BackupError(f"SECULITE_PG_BIN_DIR={configured} has no executable {name}.")
        candidates = [str(candidate)]
    else:
        found = []
        for pattern in PG_BIN_GLOBS:
            found += [str(p) for p in Path("/").glob(pattern.lstrip("/") + "/" + name)]
        on_path = shutil.which(name)
        candidates = found + ([on_path] if on_path else [])
    versions = [(v, c) for c in dict.fromkeys(candidates) if (v := _version_of(c))]
    if not versions:
        raise BackupError(
            f"{name} was not found: install PostgreSQL's client programs "
            f"(postgresql-client-{server_major or 'N'}) or set SECULITE_PG_BIN_DIR."
        )
    exact = [(v, c) for v, c in versions if v[0] == server_major]
    newer = sorted((v, c) for v, c in versions if v[0] > server_major)
    if exact:
        return exact[0][1]
    if newer:
        return newer[-1][1]
    best = max(versions)
    raise BackupError(
        f"{name} {'.'.join(map(str, best[0]))} ({best[1]}) is older than the PostgreSQL server "
        f"({server_major}): install postgresql-client-{server_major} or set SECULITE_PG_BIN_DIR."
    )


def pg_environment() -> dict[str, str]:
    """libpq's variables for the configured database; the password never goes on argv."""
    params = connection.settings_dict
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PG") and key not in ("DB_PASSWORD",)
    }
    options = params.get("OPTIONS") or {}
    values = {
        "PGHOST": params.get("HOST") or "",
        "PGPORT": str(params.get("PORT") or ""),
        "PGUSER": params.get("USER") or "",
        "PGPASSWORD": params.get("PASSWORD") or "",
        "PGDATABASE": params.get("NAME") or "",
        "PGCONNECT_TIMEOUT": str(options.get("connect_timeout") or ""),
        "PGSSLMODE": str(options.get("sslmode") or ""),
        "PGAPPNAME": "seculite-backup",
    }
    env.update({key: value for key, value in values.items() if value})
    return env


def _run_pg(args: list[str], what: str) -> None:
    done = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
        args,
        env=pg_environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=PG_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()[-2000:]
        raise BackupError(f"{what} failed (exit code {done.returncode}): {detail}")


# --- dump ----------------------------------------------------------------------------------------
def database_dump(dest: Path) -> dict:
    """Write a consistent copy of the configured database to `dest`; return manifest facts."""
    kind = vendor()
    if kind == POSTGRESQL:
        program = pg_program("pg_dump")
        # One snapshot (pg_dump's single transaction): consistent while the platform writes.
        _run_pg(
            [
                program,
                "--format=custom",
                "--no-password",
                "--lock-wait-timeout=120s",
                f"--file={dest}",
            ],
            "pg_dump",
        )
        tool = ".".join(map(str, _version_of(program)))
        return {"vendor": kind, "server_version": server_version(), "dump_tool": f"pg_dump {tool}"}
    source = Path(connection.settings_dict["NAME"])
    if not source.is_file():
        raise BackupError(f"The SQLite database {source} does not exist: nothing to back up.")
    timeout = (connection.settings_dict.get("OPTIONS") or {}).get("timeout", 30)
    src = sqlite3.connect(source, timeout=timeout)
    dst = sqlite3.connect(dest)
    try:
        # The online backup API copies a consistent snapshot while other processes write.
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        dst.close()
        src.close()
    return {"vendor": kind, "server_version": server_version(), "dump_tool": "sqlite3 backup API"}


# --- restore -------------------------------------------------------------------------------------
def database_describe() -> str:
    params = connection.settings_dict
    if vendor() == POSTGRESQL:
        return f"PostgreSQL database {params['NAME']} at {params.get('HOST')}:{params.get('PORT')}"
    return f"SQLite database {params['NAME']}"


def database_tables() -> list[str]:
    """The tables (and views, sequences) of the configured database: empty means empty."""
    if vendor() == SQLITE and not Path(connection.settings_dict["NAME"]).exists():
        return []
    with connection.cursor() as cursor:
        if vendor() == POSTGRESQL:
            cursor.execute(
                "SELECT n.nspname || '.' || c.relname FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
                "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                "AND n.nspname NOT LIKE 'pg_toast%%' AND n.nspname NOT LIKE 'pg_temp%%' "
                "ORDER BY 1"
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                "AND name NOT LIKE 'sqlite_%' ORDER BY 1"
            )
        return [row[0] for row in cursor.fetchall()]


def _pg_wipe() -> None:
    """Drop every table, view and sequence of the public schema (restore --force)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.relkind FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
        )
        relations = cursor.fetchall()
    kinds = {"v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE", "f": "FOREIGN TABLE"}
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        for name, kind in relations:
            statement = kinds.get(kind, "TABLE")
            cursor.execute(f"DROP {statement} IF EXISTS public.{quote(name)} CASCADE")


def database_load(source: Path, *, kind: str, replace: bool) -> None:
    """Load a dump written by database_dump into the configured database. With `replace`, its
    current contents are dropped first; otherwise it must be empty (checked by the caller)."""
    if kind != vendor():
        raise BackupError(
            f"The archive holds a {kind} database but SecuLite is configured for {vendor()}: "
            + (
                "set DB_ENGINE=postgresql and the DB_* variables to restore it."
                if kind == POSTGRESQL
                else "unset the DB_* variables (the embedded SQLite database) to restore it."
            )
        )
    if kind == POSTGRESQL:
        program = pg_program("pg_restore")
        if replace:
            _pg_wipe()
        connections.close_all()
        _run_pg(
            [
                program,
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                "--no-password",
                f"--dbname={connection.settings_dict['NAME']}",
                str(source),
            ],
            "pg_restore",
        )
        connections.close_all()
        return
    target = Path(connection.settings_dict["NAME"])
    connections.close_all()
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(source)
    try:
        integrity = src.execute("PRAGMA integrity_check").fetchone()[0]
        if integrity != "ok":
            raise BackupError(f"The SQLite database in the archive is damaged: {integrity}")
        dst = sqlite3.connect(target, timeout=60)
        try:
            src.backup(dst)  # replaces every page of the target, under SQLite's locks
        finally:
            dst.close()
    finally:
        src.close()
