"""Backups of a SecuLite installation (the database and MEDIA_ROOT) and their restore.

`backup_create` dumps the database first and then adds the media files, so that every file a
row of the dump names is in the archive (files written after the dump are harmless extras).
`backup_restore` verifies the whole archive before it changes anything, refuses a non-empty
database or media folder unless told to replace them, then loads the dump, moves the media
files into place and applies the migrations this code has (an archive of an older version)."""

from __future__ import annotations

import io
import logging
import os
import platform
import re
import shutil
import stat
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import django
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connections

from .archive import (
    FORMAT,
    FORMAT_VERSION,
    MEDIA_DIR,
    ArchiveWriter,
    BackupError,
    extract_verified,
)
from .database import (
    DUMP_NAMES,
    applied_migrations,
    database_describe,
    database_dump,
    database_load,
    database_tables,
    unknown_migrations,
    vendor,
)

logger = logging.getLogger("seculite.backups")

ARCHIVE_RE = re.compile(r"^seculite-(\d{8}-\d{6})(?:-(\d+))?\.tar\.gz$")
STAGING_PREFIX = ".seculite-restore-"
STALE_PARTIAL = timedelta(days=1)


@dataclass
class BackupResult:
    path: Path
    size: int
    media_files: int
    media_bytes: int
    manifest: dict
    pruned: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


@dataclass
class RestoreResult:
    manifest: dict
    media_files: int
    replaced: bool
    migrate_output: str = ""
    unfinished_scans: int = 0


def seculite_version() -> str:
    """The version in backend/pyproject.toml (the image has it too)."""
    try:
        with (Path(settings.BACKEND_DIR) / "pyproject.toml").open("rb") as fh:
            return str(tomllib.load(fh)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def backup_directory(directory: Path | str | None = None) -> Path:
    return Path(directory or settings.SECULITE_BACKUP_DIR).expanduser().resolve()


def archives(directory: Path) -> list[Path]:
    """The archives `backup_create` wrote in `directory`, oldest first."""
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = ARCHIVE_RE.match(path.name)
        if match and path.is_file() and not path.is_symlink():
            found.append(((match.group(1), int(match.group(2) or 0)), path))
    return [path for _, path in sorted(found)]


def archive_time(path: Path) -> datetime | None:
    match = ARCHIVE_RE.match(path.name)
    if not match:
        return None
    return datetime.strptime(match.group(1), "%Y%m%d-%H%M%S").replace(tzinfo=UTC)


# --- backup --------------------------------------------------------------------------------------
def _media_files(root: Path, exclude: list[Path]):
    """(path, member name) of every regular file under MEDIA_ROOT; links are not followed."""
    excluded = {p.resolve() for p in exclude}
    for here, dirs, files in os.walk(root, followlinks=False):
        base = Path(here)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(STAGING_PREFIX) and (base / d).resolve() not in excluded
        )
        for name in sorted(files):
            path = base / name
            yield path, f"{MEDIA_DIR}/{path.relative_to(root).as_posix()}"


def _add_media(writer: ArchiveWriter, root: Path, exclude: list[Path], skipped: list[str]):
    count = total = 0
    if not root.is_dir():
        return count, total
    for path, name in _media_files(root, exclude):
        try:
            if not stat.S_ISREG(path.lstat().st_mode):
                skipped.append(f"{name} (not a regular file)")
                continue
            member = writer.add_file(path, name)
        except FileNotFoundError:
            continue  # removed meanwhile (retention): the dump no longer needs it either
        except (BackupError, UnicodeEncodeError) as exc:
            skipped.append(f"{name!r} ({exc})")
            continue
        count += 1
        total += member.size
    return count, total


def _archive_name(directory: Path, now: datetime, attempt: int) -> Path:
    suffix = f"-{attempt}" if attempt else ""
    return directory / f"seculite-{now:%Y%m%d-%H%M%S}{suffix}.tar.gz"


def _publish(partial: Path, final: Path, directory: Path, now: datetime) -> Path:
    """Give the finished archive its name without ever replacing another archive."""
    attempt = 0
    while True:
        try:
            os.link(partial, final)
        except FileExistsError:
            attempt += 1
            final = _archive_name(directory, now, attempt)
            continue
        except OSError:  # a filesystem without hard links
            if final.exists():
                attempt += 1
                final = _archive_name(directory, now, attempt)
                continue
            os.replace(partial, final)
            return final
        partial.unlink()
        return final


def backup_create(
    *, directory: Path | str | None = None, keep: int | None = None, now: datetime | None = None
) -> BackupResult:
    """Write one timestamped archive of the database and MEDIA_ROOT into `directory`
    (SECULITE_BACKUP_DIR), then keep only the newest `keep` (SECULITE_BACKUP_KEEP; 0: all)."""
    directory = backup_directory(directory)
    keep = settings.SECULITE_BACKUP_KEEP if keep is None else keep
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    directory.mkdir(parents=True, exist_ok=True)
    try:
        os.chmod(directory, 0o700)  # archives hold password hashes and secrets
    except OSError:  # a directory of another owner (a mounted share): the files stay 0600
        logger.warning("could not restrict the permissions of %s", directory)
    kind = vendor()
    media_root = Path(settings.MEDIA_ROOT)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=directory, prefix=".seculite-dump-") as tmp:
        dump = Path(tmp) / "database"
        try:
            facts = database_dump(dump)
            migrations = applied_migrations()
        except DatabaseError as exc:
            raise BackupError(
                f"Cannot reach the {database_describe()}: {_first_line(exc)}"
            ) from None
        for attempt in range(100):
            final = _archive_name(directory, now, attempt)
            partial = final.with_name(f".{final.name}.partial")
            if final.exists():
                continue
            try:
                writer = ArchiveWriter(partial)
                break
            except FileExistsError:
                continue
        else:  # pragma: no cover - a hundred backups in one second
            raise BackupError(f"Could not pick a free archive name in {directory}.")
        skipped: list[str] = []
        try:
            writer.add_file(dump, DUMP_NAMES[kind])
            media_files, media_bytes = _add_media(writer, media_root, [directory], skipped)
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "created_at": now.isoformat(),
                "created_at_epoch": int(now.timestamp()),
                "seculite_version": seculite_version(),
                "django_version": django.get_version(),
                "python_version": platform.python_version(),
                "database": {**facts, "member": DUMP_NAMES[kind]},
                "migrations": migrations,
                "media": {"files": media_files, "bytes": media_bytes},
            }
            writer.add_manifest(manifest)
            writer.close()
        except BaseException:
            writer.abort()
            raise
    final = _publish(partial, final, directory, now)
    pruned = backups_prune(directory=directory, keep=keep, now=now, protect=final)
    size = final.stat().st_size
    logger.info(
        "backup written: %s (%d bytes, %d media files, %.1fs)",
        final,
        size,
        media_files,
        time.monotonic() - started,
    )
    for entry in skipped:
        logger.warning("backup skipped a media entry: %s", entry)
    return BackupResult(
        path=final,
        size=size,
        media_files=media_files,
        media_bytes=media_bytes,
        manifest={**manifest, "members": dict(writer.members)},
        pruned=pruned,
        skipped=skipped,
    )


def backups_prune(
    *, directory: Path, keep: int, now: datetime | None = None, protect: Path | None = None
) -> list[Path]:
    """Delete all but the newest `keep` archives (0: keep all) except `protect` (the one just
    written, even if a clock change named older ones later), and partial files of backups that
    died more than a day ago."""
    now = now or datetime.now(UTC)
    removed = []
    if keep > 0:
        found = [p for p in archives(directory) if p != protect]
        for path in found[: max(len(found) - (keep - (protect is not None)), 0)]:
            path.unlink(missing_ok=True)
            removed.append(path)
            logger.info("backup removed by retention (keeping %d): %s", keep, path.name)
    if directory.is_dir():
        cutoff = (now - STALE_PARTIAL).timestamp()
        for path in directory.iterdir():
            stale = path.name.endswith(".partial") or path.name.startswith(".seculite-dump-")
            if stale and path.name.startswith(".") and path.lstat().st_mtime < cutoff:
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
    return removed


def backup_next_due(*, directory: Path, every: timedelta, now: datetime | None = None) -> datetime:
    """When the next periodic backup is due: `every` after the newest archive, or now."""
    now = now or datetime.now(UTC)
    newest = archives(directory)
    when = archive_time(newest[-1]) if newest else None
    if when is None or when > now:  # none yet, or named by a clock that was ahead
        return now
    return max(now, when + every)


# --- restore -------------------------------------------------------------------------------------
def _media_entries(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if not p.name.startswith(STAGING_PREFIX))


def _unfinished_scans() -> int:
    try:
        scan = apps.get_model("scans", "Scan")
    except LookupError:  # pragma: no cover - the scans app is always installed
        return 0
    return scan.objects.filter(status__in=("pending", "queued", "running")).count()


def backup_verify(*, archive: Path | str) -> dict:
    """Check an archive's members against its manifest without changing anything."""
    extracted = extract_verified(Path(archive), None)
    _check_compatible(extracted.manifest, Path(archive).name)
    return extracted.manifest


def _check_compatible(manifest: dict, name: str) -> None:
    database = manifest.get("database") or {}
    kind = database.get("vendor")
    if database.get("member") != DUMP_NAMES.get(kind):
        raise BackupError(f"{name} names no database dump this SecuLite can read.")
    if kind != vendor():
        raise BackupError(
            f"{name} holds a {kind} database but SecuLite is configured for {vendor()}: "
            + (
                "set DB_ENGINE=postgresql and the DB_* variables to restore it."
                if kind == "postgresql"
                else "unset the DB_* variables (the embedded SQLite database) to restore it."
            )
        )
    migrations = manifest.get("migrations")
    if not isinstance(migrations, dict):
        raise BackupError(f"The manifest of {name} has no migration state.")
    newer = unknown_migrations(migrations)
    if newer:
        raise BackupError(
            f"{name} comes from a newer SecuLite ({manifest.get('seculite_version')}): this "
            f"version lacks the migrations {', '.join(newer[:5])}"
            + (f" and {len(newer) - 5} more" if len(newer) > 5 else "")
            + ". Upgrade SecuLite first, then restore."
        )


def backup_restore(*, archive: Path | str, force: bool = False) -> RestoreResult:
    """Restore `archive` into the configured database and MEDIA_ROOT. Both must be empty unless
    `force`, which replaces what they hold. Nothing is changed when the archive does not verify."""
    archive = Path(archive).expanduser().resolve()
    if not archive.is_file():
        raise BackupError(f"{archive} is not a file.")
    media_root = Path(settings.MEDIA_ROOT)
    try:
        tables = database_tables()
    except DatabaseError as exc:
        raise BackupError(f"Cannot reach the {database_describe()}: {_first_line(exc)}") from None
    if not force:
        if tables:
            raise BackupError(
                f"The {database_describe()} is not empty ({len(tables)} tables). Restore into an "
                "empty database, or pass --force (make restore FILE=... FORCE=1) to replace "
                "its contents."
            )
        entries = _media_entries(media_root)
        if entries:
            raise BackupError(
                f"The media folder {media_root} is not empty ({len(entries)} entries). Restore "
                "into an empty folder, or pass --force (make restore FILE=... FORCE=1) to "
                "replace its contents."
            )
    media_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=media_root))
    try:
        extracted = extract_verified(archive, staging)
        manifest = extracted.manifest
        _check_compatible(manifest, archive.name)
        database_load(
            extracted.path(manifest["database"]["member"]),
            kind=manifest["database"]["vendor"],
            replace=force,
        )
        if force:
            for entry in _media_entries(media_root):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        restored_media = staging / MEDIA_DIR
        media_files = sum(1 for name in extracted.members if name.startswith(f"{MEDIA_DIR}/"))
        if restored_media.is_dir():
            for entry in restored_media.iterdir():
                os.replace(entry, media_root / entry.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    connections.close_all()
    out = io.StringIO()
    call_command("migrate", interactive=False, stdout=out, verbosity=1)
    logger.info("backup restored from %s (created %s)", archive.name, manifest.get("created_at"))
    return RestoreResult(
        manifest=manifest,
        media_files=media_files,
        replaced=force,
        migrate_output=out.getvalue(),
        unfinished_scans=_unfinished_scans(),
    )
