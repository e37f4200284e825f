"""The backup archive in one process: writing and verifying, tampered and hostile archives,
retention, the schedule of the backup service, and how pg_dump/pg_restore are found and called.
Whole backups and restores of real databases: tests/test_backup_restore.py."""

import hashlib
import io
import json
import os
import re
import stat
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.core.backups import BackupError, backup_next_due, backups_prune
from apps.core.backups import database as backup_database
from apps.core.backups.archive import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    ArchiveWriter,
    extract_verified,
)
from apps.core.backups.database import DUMP_NAMES, pg_environment, pg_program, vendor


def manifest_for(members: dict[str, bytes], **extra) -> dict:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": "2025-01-01T00:00:00+00:00",
        "seculite_version": "0.1.0",
        "database": {"vendor": vendor(), "member": DUMP_NAMES[vendor()]},
        "migrations": {},
        "members": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for name, data in members.items()
        },
        **extra,
    }


def write_tar(path: Path, entries: list[tarfile.TarInfo | tuple[str, bytes]], manifest=None):
    """A tar.gz with these members (a name and bytes, or a ready TarInfo) and the manifest."""
    with tarfile.open(path, "w:gz") as tar:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tar.addfile(entry)
                continue
            name, data = entry
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if manifest is not None:
            data = json.dumps(manifest).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


GOOD = {
    DUMP_NAMES["postgresql"]: b"PGDMP fake dump",
    "media/scan_tool_outputs/2025/01/01/scan-1/bandit-target-1/bandit.json": b'{"results": []}',
    "media/imports/report.sarif": b'{"runs": []}',
}


def files_under(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_writer_and_verified_extraction_round_trip(tmp_path):
    source = tmp_path / "source"
    for name, data in GOOD.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(data)
    archive = tmp_path / "a.tar.gz"
    writer = ArchiveWriter(archive)
    for name in GOOD:
        writer.add_file(source / name, name)
    writer.add_manifest({"format": FORMAT, "format_version": FORMAT_VERSION, "extra": "kept"})
    writer.close()
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600, "archives hold secrets"
    with tarfile.open(archive) as tar:
        assert tar.getnames()[-1] == MANIFEST, "the manifest comes last"

    staging = tmp_path / "staging"
    staging.mkdir()
    extracted = extract_verified(archive, staging)
    assert files_under(staging) == GOOD
    assert extracted.manifest["extra"] == "kept"
    assert extracted.manifest["members"] == {
        name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        for name, data in GOOD.items()
    }
    # Verifying only (restore --check) reads everything and writes nothing.
    assert extract_verified(archive, None).manifest == extracted.manifest


def test_the_writer_refuses_a_name_a_restore_would_refuse(tmp_path):
    (tmp_path / "f").write_bytes(b"x")
    writer = ArchiveWriter(tmp_path / "a.tar.gz")
    with pytest.raises(BackupError, match="leaves its folder"):
        writer.add_file(tmp_path / "f", "media/../f")
    writer.abort()
    assert not (tmp_path / "a.tar.gz").exists()


def tampered(data: bytes) -> bytes:
    return bytes([data[0] ^ 0x01]) + data[1:]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("flip", "1 file(s) do not match their checksum"),
        ("drop", "1 listed file(s) are missing"),
        ("add", "1 file(s) are not in the manifest"),
    ],
)
def test_a_damaged_archive_is_refused(tmp_path, change, message):
    entries = dict(GOOD)
    manifest = manifest_for(GOOD)
    target = "media/imports/report.sarif"
    if change == "flip":
        entries[target] = tampered(entries[target])
    elif change == "drop":
        del entries[target]
    else:
        entries["media/planted.txt"] = b"not from the backup"
    archive = write_tar(tmp_path / "a.tar.gz", list(entries.items()), manifest)
    with pytest.raises(BackupError, match=re.escape(message)) as caught:
        extract_verified(archive, None)
    assert "Nothing was restored" in str(caught.value)


def special(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


HOSTILE = {
    "absolute path": (["/tmp/seculite-escape.txt"], "absolute path"),
    "parent directory": (["../seculite-escape.txt"], "leaves its folder"),
    "parent inside media": (["media/../../seculite-escape.txt"], "leaves its folder"),
    "backslashes": (["media\\..\\..\\seculite-escape.txt"], "invalid name"),
    "outside the layout": (["etc/cron.d/evil"], "unexpected member"),
    "symlink": ([special("media/link", tarfile.SYMTYPE, "/etc/passwd")], "a link"),
    "hard link": ([special("media/hard", tarfile.LNKTYPE, "/etc/passwd")], "a link"),
    "fifo": ([special("media/fifo", tarfile.FIFOTYPE)], "special file"),
    "device": ([special("media/dev", tarfile.CHRTYPE)], "special file"),
    "duplicate": (["media/imports/report.sarif"], "twice"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_member_is_refused_before_anything_is_written(tmp_path, case):
    planted, message = HOSTILE[case]
    entries = list(GOOD.items())
    members = dict(GOOD)
    for item in planted:
        if isinstance(item, tarfile.TarInfo):
            entries.append(item)
        else:
            entries.append((item, b"hostile"))
            members[item] = b"hostile"
    # A manifest that vouches for the hostile member: its checksum is not what stops it.
    archive = write_tar(tmp_path / "a.tar.gz", entries, manifest_for(members))
    staging = tmp_path / "deep" / "media" / "staging"
    staging.mkdir(parents=True)
    before = sorted(p for p in tmp_path.rglob("*"))
    with pytest.raises(BackupError, match=message):
        extract_verified(archive, staging)
    escaped = [p for p in tmp_path.rglob("*") if p not in before and not p.is_relative_to(staging)]
    assert escaped == []
    assert not Path("/tmp/seculite-escape.txt").exists()
    assert not (tmp_path / "seculite-escape.txt").exists()
    assert not list(staging.rglob("link")) and not list(staging.rglob("fifo"))


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (None, "has no manifest.json"),
        ({"format": "something-else"}, "not a SecuLite backup"),
        ({"format": FORMAT, "format_version": 99, "members": {}}, "format version 99"),
        ({"format": FORMAT, "format_version": FORMAT_VERSION}, "lists no members"),
    ],
)
def test_an_archive_without_a_usable_manifest_is_refused(tmp_path, manifest, message):
    archive = write_tar(tmp_path / "a.tar.gz", list(GOOD.items()), manifest)
    with pytest.raises(BackupError, match=message):
        extract_verified(archive, None)


def test_garbage_is_refused_clearly(tmp_path):
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(b"\x1f\x8b" + os.urandom(2000))
    with pytest.raises(BackupError, match="could not be read or unpacked"):
        extract_verified(archive, None)


# --- the restore command, without touching the database ------------------------------------------
def test_restore_check_reports_an_intact_archive(tmp_path, capsys):
    members = {DUMP_NAMES[vendor()]: b"dump", "media/imports/report.sarif": b'{"runs": []}'}
    archive = write_tar(tmp_path / "b.tar.gz", list(members.items()), manifest_for(members))
    call_command("restore", str(archive), "--check")
    assert "b.tar.gz is intact" in capsys.readouterr().out


def test_restore_check_refuses_a_tampered_archive(tmp_path):
    entries = dict(GOOD)
    entries["media/imports/report.sarif"] = b'{"runs": [1]}'
    archive = write_tar(tmp_path / "a.tar.gz", list(entries.items()), manifest_for(GOOD))
    with pytest.raises(CommandError, match="do not match their checksum"):
        call_command("restore", str(archive), "--check")


def test_restore_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="is not a file"):
        call_command("restore", str(tmp_path / "nothing.tar.gz"))


def test_an_archive_of_a_newer_seculite_is_refused(tmp_path):
    members = {DUMP_NAMES[vendor()]: b"dump"}
    manifest = manifest_for(members, migrations={"findings": ["0001_initial", "0099_future"]})
    manifest["seculite_version"] = "9.0.0"
    archive = write_tar(tmp_path / "a.tar.gz", list(members.items()), manifest)
    with pytest.raises(CommandError, match=r"newer SecuLite \(9.0.0\).*findings.0099_future"):
        call_command("restore", str(archive), "--check")


def test_an_archive_of_the_other_database_engine_is_refused(tmp_path):
    other = "sqlite" if vendor() == "postgresql" else "postgresql"
    members = {DUMP_NAMES[other]: b"dump"}
    manifest = manifest_for(members, database={"vendor": other, "member": DUMP_NAMES[other]})
    archive = write_tar(tmp_path / "a.tar.gz", list(members.items()), manifest)
    with pytest.raises(CommandError, match=f"holds a {other} database"):
        call_command("restore", str(archive), "--check")


# --- retention and schedule ----------------------------------------------------------------------
def test_retention_keeps_the_newest_archives_and_nothing_else_is_touched(tmp_path):
    names = [
        "seculite-20250101-030000.tar.gz",
        "seculite-20250102-030000.tar.gz",
        "seculite-20250102-030000-1.tar.gz",
        "seculite-20250103-030000.tar.gz",
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    keepers = ["notes.txt", "seculite-manual.tar.gz", "other-20250101-030000.tar.gz"]
    for name in keepers:
        (tmp_path / name).write_bytes(b"x")
    stale = tmp_path / ".seculite-20241231-030000.tar.gz.partial"
    stale.write_bytes(b"half")
    old = (datetime.now(UTC) - timedelta(days=2)).timestamp()
    os.utime(stale, (old, old))
    fresh = tmp_path / ".seculite-20250103-040000.tar.gz.partial"  # a backup in progress
    fresh.write_bytes(b"half")

    removed = backups_prune(directory=tmp_path, keep=2)
    assert [p.name for p in removed] == names[:2]
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([*names[2:], *keepers, fresh.name])
    assert backups_prune(directory=tmp_path, keep=0) == []  # 0 keeps every archive
    assert len(list(tmp_path.glob("seculite-2025*.tar.gz"))) == 2


def test_retention_never_removes_the_archive_just_written(tmp_path):
    ahead = tmp_path / "seculite-20990101-000000.tar.gz"  # named while the clock was wrong
    written = tmp_path / "seculite-20250101-000000.tar.gz"
    older = tmp_path / "seculite-20240101-000000.tar.gz"
    for path in (ahead, written, older):
        path.write_bytes(b"x")
    removed = backups_prune(directory=tmp_path, keep=2, protect=written)
    assert removed == [older]
    assert backups_prune(directory=tmp_path, keep=1, protect=written) == [ahead]
    assert [p.name for p in tmp_path.iterdir()] == [written.name]


def test_a_finished_archive_never_replaces_another(tmp_path):
    from apps.core.backups.services import _publish

    now = datetime(2025, 3, 1, 3, 0, tzinfo=UTC)
    taken = tmp_path / "seculite-20250301-030000.tar.gz"
    taken.write_bytes(b"an earlier backup of the same second")
    partial = tmp_path / ".seculite-20250301-030000.tar.gz.partial"
    partial.write_bytes(b"this backup")
    final = _publish(partial, taken, tmp_path, now)
    assert final.name == "seculite-20250301-030000-1.tar.gz"
    assert final.read_bytes() == b"this backup" and not partial.exists()
    assert taken.read_bytes() == b"an earlier backup of the same second"


def test_the_next_backup_is_due_one_interval_after_the_newest(tmp_path):
    now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    day = timedelta(days=1)
    assert backup_next_due(directory=tmp_path, every=day, now=now) == now
    (tmp_path / "seculite-20250301-030000.tar.gz").write_bytes(b"x")
    assert backup_next_due(directory=tmp_path, every=day, now=now) == datetime(
        2025, 3, 2, 3, 0, tzinfo=UTC
    )
    # A restarted service does not back up again before it is due; an overdue one runs now.
    later = datetime(2025, 3, 9, tzinfo=UTC)
    assert backup_next_due(directory=tmp_path, every=day, now=later) == later
    # An archive named by a clock that was ahead does not postpone backups.
    (tmp_path / "seculite-20990301-030000.tar.gz").write_bytes(b"x")
    assert backup_next_due(directory=tmp_path, every=day, now=now) == now


# --- PostgreSQL client programs ------------------------------------------------------------------
def fake_program(path: Path, version: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho '{path.name} (PostgreSQL) {version}'\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def installed_clients(tmp_path, monkeypatch, settings):
    settings.SECULITE_PG_BIN_DIR = ""
    for version in ("14.11", "15.6", "16.2"):
        fake_program(tmp_path / "lib" / version.split(".")[0] / "bin" / "pg_dump", version)
    monkeypatch.setattr(backup_database, "PG_BIN_GLOBS", (str(tmp_path / "lib" / "*" / "bin"),))
    monkeypatch.setattr(backup_database.shutil, "which", lambda name: None)
    return tmp_path / "lib"


def test_pg_dump_of_the_server_major_version_is_preferred(installed_clients):
    assert pg_program("pg_dump", server_major=15) == str(installed_clients / "15/bin/pg_dump")
    # No exact match: the newest newer client (pg_dump reads older servers).
    assert pg_program("pg_dump", server_major=13) == str(installed_clients / "16/bin/pg_dump")


def test_a_client_older_than_the_server_is_refused(installed_clients):
    with pytest.raises(BackupError, match=r"16.2 .* is older than the PostgreSQL server \(17\)"):
        pg_program("pg_dump", server_major=17)
    with pytest.raises(BackupError, match="pg_restore was not found"):
        pg_program("pg_restore", server_major=15)


def test_pg_bin_dir_wins(tmp_path, settings, installed_clients):
    fake_program(tmp_path / "custom" / "pg_dump", "15.9")
    settings.SECULITE_PG_BIN_DIR = str(tmp_path / "custom")
    assert pg_program("pg_dump", server_major=15) == str(tmp_path / "custom" / "pg_dump")
    settings.SECULITE_PG_BIN_DIR = str(tmp_path / "nowhere")
    with pytest.raises(BackupError, match="has no executable pg_dump"):
        pg_program("pg_dump", server_major=15)


def test_the_password_goes_through_the_environment_never_argv(monkeypatch):
    calls = []

    class Done:
        returncode = 0
        stdout = stderr = ""

    def run(args, **kwargs):
        calls.append((args, kwargs["env"]))
        return Done()

    monkeypatch.setattr(backup_database.subprocess, "run", run)
    monkeypatch.setitem(connection.settings_dict, "PASSWORD", "pw-Only-In-PGPASSWORD")
    monkeypatch.setitem(connection.settings_dict, "HOST", "db.internal")
    monkeypatch.setenv("PGPASSFILE", "/somewhere/else")  # inherited PG* variables are dropped
    backup_database._run_pg(["/usr/bin/pg_dump", "--format=custom"], "pg_dump")
    ((args, env),) = calls
    assert not any("pw-Only-In-PGPASSWORD" in arg for arg in args)
    assert env["PGPASSWORD"] == "pw-Only-In-PGPASSWORD" and env["PGHOST"] == "db.internal"
    assert "PGPASSFILE" not in env and "DB_PASSWORD" not in env
    assert pg_environment()["PGAPPNAME"] == "seculite-backup"


def test_a_failing_pg_program_is_reported_with_its_message(monkeypatch):
    class Failed:
        returncode = 1
        stdout = ""
        stderr = 'pg_dump: error: connection to server failed: FATAL:  role "x" does not exist'

    monkeypatch.setattr(backup_database.subprocess, "run", lambda *a, **k: Failed())
    with pytest.raises(BackupError, match=r'pg_dump failed \(exit code 1\): .*role "x"'):
        backup_database._run_pg(["/usr/bin/pg_dump"], "pg_dump")


# --- the backup service's loop -------------------------------------------------------------------
class StopLoop(Exception):
    pass


def test_the_backup_loop_survives_a_failure_and_waits_for_the_next_due_time(
    tmp_path, monkeypatch, capsys
):
    from apps.core.management.commands import backup as command

    outcomes = [BackupError("pg_dump failed (exit code 1): the server went away"), "ok"]
    sleeps = []

    def fake_create(*, directory, keep):
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        archive = Path(directory) / datetime.now(UTC).strftime("seculite-%Y%m%d-%H%M%S.tar.gz")
        archive.write_bytes(b"x")

        class Result:
            path, size, media_files, skipped, pruned = archive, 1, 0, [], []
            manifest = {"database": {"vendor": "postgresql", "server_version": "15.6"}}

        return Result()

    def fake_sleep(seconds):
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise StopLoop

    monkeypatch.setattr(command, "backup_create", fake_create)
    monkeypatch.setattr(command.time, "sleep", fake_sleep)
    with pytest.raises(StopLoop):
        call_command(
            "backup", "--every", "3600", "--retry-seconds", "7", "--output-dir", str(tmp_path)
        )
    out, err = capsys.readouterr()
    assert "Backup failed: pg_dump failed" in err
    assert sleeps[0] == 7, "a failed backup is tried again after --retry-seconds"
    assert "Backup written" in out and outcomes == []
    assert 3590 < sleeps[1] <= 3600, "then the next one is due an interval after the archive"
