"""The backup archive: a tar (gzip) of the database dump and the media files, with a manifest
(versions, migration state, size and SHA-256 of every member) as its last member.

Archives are untrusted input when restored: every member name is checked (relative, no `..`,
under `database/` or `media/`), only regular files are accepted (no links, devices or FIFOs),
and each file is written by this code, never by `tarfile.extract`."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

FORMAT = "seculite-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_DIR = "database"
MEDIA_DIR = "media"
MAX_MANIFEST_BYTES = 256 * 1024 * 1024
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass
class Member:
    sha256: str
    size: int


@dataclass
class ExtractedArchive:
    """What a verified archive held: its manifest and where its files were written."""

    manifest: dict
    root: Path
    members: dict[str, Member] = field(default_factory=dict)

    def path(self, name: str) -> Path:
        return self.root / name


class _HashingReader:
    """A file object that hashes what is read through it (tarfile copies exactly `size`)."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


class ArchiveWriter:
    """Writes an archive: files first, the manifest last (it lists the files' checksums)."""

    def __init__(self, path: Path, *, compresslevel: int = 6):
        self.path = path
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file = os.fdopen(fd, "wb")
        self._tar = tarfile.open(
            fileobj=self._file, mode="w:gz", compresslevel=compresslevel, format=tarfile.PAX_FORMAT
        )
        self.members: dict[str, Member] = {}

    def add_file(self, source: Path, name: str) -> Member:
        """Add `source` as `name`; its size is taken when it is opened (a file that grows while
        it is read is stored as it was then)."""
        member_name(name)  # never write what a restore would refuse
        with source.open("rb") as handle:
            stat = os.fstat(handle.fileno())
            info = tarfile.TarInfo(name)
            info.size = stat.st_size
            info.mtime = int(stat.st_mtime)
            info.mode = 0o600
            reader = _HashingReader(handle)
            self._tar.addfile(info, reader)
        member = Member(sha256=reader.digest.hexdigest(), size=reader.size)
        self.members[name] = member
        return member

    def add_manifest(self, manifest: dict) -> None:
        manifest = {
            **manifest,
            "members": {
                name: {"sha256": m.sha256, "size": m.size} for name, m in self.members.items()
            },
        }
        data = json.dumps(manifest, indent=2, sort_keys=True).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(data)
        info.mode = 0o600
        info.mtime = int(manifest.get("created_at_epoch", 0))
        self._tar.addfile(info, io.BytesIO(data))

    def close(self) -> None:
        self._tar.close()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()

    def abort(self) -> None:
        try:
            self._tar.close()
        except (OSError, tarfile.TarError):
            pass
        self._file.close()
        self.path.unlink(missing_ok=True)


def member_name(name: str) -> PurePosixPath:
    """The member's path when it is safe to write under the restore's staging directory."""
    if not name or "\x00" in name or "\\" in name:
        raise BackupError(f"The archive holds a member with an invalid name: {name!r}.")
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith("/"):
        raise BackupError(f"The archive holds a member with an absolute path: {name!r}.")
    if any(part in ("..", ".", "") for part in name.split("/")):
        raise BackupError(f"The archive holds a member whose path leaves its folder: {name!r}.")
    if name != MANIFEST and path.parts[0] not in (DATABASE_DIR, MEDIA_DIR):
        raise BackupError(f"The archive holds an unexpected member: {name!r}.")
    return path


def _check_member(info: tarfile.TarInfo) -> PurePosixPath:
    path = member_name(info.name)
    if info.issym() or info.islnk():
        raise BackupError(f"The archive holds a link, which is refused: {info.name!r}.")
    if not (info.isfile() or info.isdir()):
        raise BackupError(f"The archive holds a special file, which is refused: {info.name!r}.")
    return path


def _hash(source: BinaryIO) -> Member:
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return Member(sha256=digest.hexdigest(), size=size)


def _copy(source: BinaryIO, dest: Path) -> Member:
    digest = hashlib.sha256()
    size = 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: a second member of the same name is refused rather than overwriting the first;
    # O_NOFOLLOW: never write through a link planted in the staging directory.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(dest, flags, 0o600)
    except FileExistsError:
        raise BackupError(f"The archive holds {dest.name!r} twice.") from None
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return Member(sha256=digest.hexdigest(), size=size)


def extract_verified(archive: Path, staging: Path | None) -> ExtractedArchive:
    """Read `archive` once, writing its files under `staging` (None: only hash them) and
    check them against the manifest. Raises BackupError (the caller removes `staging`) on any
    unsafe member, a missing or extra file, or a checksum that does not match."""
    if not archive.is_file():
        raise BackupError(f"{archive} is not a file.")
    staging = staging.resolve() if staging is not None else None
    found: dict[str, Member] = {}
    manifest_bytes: bytes | None = None
    try:
        with tarfile.open(archive, mode="r|*") as tar:
            for info in tar:
                path = _check_member(info)
                if info.isdir():
                    continue
                source = tar.extractfile(info)
                if source is None:  # pragma: no cover - regular files always have data
                    raise BackupError(f"The archive member {info.name!r} has no data.")
                if info.name == MANIFEST:
                    if manifest_bytes is not None:
                        raise BackupError("The archive holds two manifests.")
                    if info.size > MAX_MANIFEST_BYTES:
                        raise BackupError("The archive's manifest is implausibly large.")
                    manifest_bytes = source.read()
                    continue
                if info.name in found:
                    raise BackupError(f"The archive holds {info.name!r} twice.")
                if staging is None:
                    found[info.name] = _hash(source)
                    continue
                dest = staging.joinpath(*path.parts)
                if not dest.resolve().is_relative_to(staging):  # belt and braces
                    raise BackupError(f"The archive member {info.name!r} leaves its folder.")
                found[info.name] = _copy(source, dest)
    except (tarfile.TarError, EOFError, OSError, ValueError, zlib.error) as exc:
        raise BackupError(f"{archive.name} could not be read or unpacked: {exc}") from None
    if manifest_bytes is None:
        raise BackupError(f"{archive.name} has no {MANIFEST}: it is not a SecuLite backup.")
    try:
        manifest = json.loads(manifest_bytes)
    except ValueError:
        raise BackupError(f"The manifest of {archive.name} is not valid JSON.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{archive.name} is not a SecuLite backup (unknown manifest format).")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{archive.name} has backup format version {manifest.get('format_version')!r}; "
            f"this SecuLite reads version {FORMAT_VERSION}."
        )
    listed = manifest.get("members")
    if not isinstance(listed, dict):
        raise BackupError(f"The manifest of {archive.name} lists no members.")
    missing = sorted(set(listed) - set(found))
    extra = sorted(set(found) - set(listed))
    wrong = sorted(
        name
        for name, member in found.items()
        if name in listed
        and (
            not isinstance(listed[name], dict)
            or listed[name].get("sha256") != member.sha256
            or listed[name].get("size") != member.size
        )
    )
    if missing or extra or wrong:
        parts = []
        if wrong:
            parts.append(f"{len(wrong)} file(s) do not match their checksum ({_some(wrong)})")
        if missing:
            parts.append(f"{len(missing)} listed file(s) are missing ({_some(missing)})")
        if extra:
            parts.append(f"{len(extra)} file(s) are not in the manifest ({_some(extra)})")
        raise BackupError(
            f"{archive.name} is damaged or was altered: {'; '.join(parts)}. Nothing was restored."
        )
    return ExtractedArchive(manifest=manifest, root=staging or archive.parent, members=found)


def _some(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", and {len(names) - limit} more" if len(names) > limit else "")
