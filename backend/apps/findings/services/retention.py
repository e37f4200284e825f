"""Retention, enforced by the nightly `retention_purge` task with the system settings' days
(0 keeps forever):

- raw scanner output (ScanToolResult.raw_output_path, and uploaded report files of imports) of
  tool runs that finished more than `retention_days_raw_output` days ago: the file is deleted and
  the path cleared; the tool result and its findings stay;
- uploaded report files that no import refers to (an upload cut off by a killed web worker,
  an import deleted with its scan) once they are an hour old, whatever the setting;
- closed findings (resolved, auto_resolved) not seen for `retention_days_closed_findings` days
  are deleted with their history and comments. Open findings are never touched, and neither are
  false positives and accepted risks: those are decisions that keep suppressing the same
  fingerprint in later scans, so deleting them would bring the finding back as new.

Both work in batches (one bounded set of queries per batch), so a purge of millions of rows
neither holds a long transaction nor loads them into memory."""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.models import SystemSettings
from apps.scans.models import SCAN_FINISHED, ScanToolResult

from ..models import Finding, FindingStatus, ReportImport
from .imports import UPLOAD_DIR

logger = logging.getLogger("seculite.retention")

BATCH_SIZE = 1000
#: How old an upload no import refers to must be before it is deleted: the request that wrote
#: it records its import within moments of the last byte.
ORPHAN_UPLOAD_AGE = timedelta(hours=1)
#: The statuses a purge may delete (never OPEN_STATUSES, false_positive or risk_accepted).
PURGEABLE_STATUSES = (FindingStatus.RESOLVED, FindingStatus.AUTO_RESOLVED)


def _delete_media_file(relative: str) -> bool:
    """Delete MEDIA_ROOT/relative when it is a file inside MEDIA_ROOT; True when it is gone."""
    if not relative:
        return True
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        logger.warning("retention: refusing to delete %s outside MEDIA_ROOT", relative)
        return False
    try:
        path.unlink(missing_ok=True)
    except IsADirectoryError:
        return False
    except OSError as exc:
        logger.warning("retention: could not delete %s: %s", relative, exc)
        return False
    _prune_empty_parents(path.parent, root)
    return True


def _prune_empty_parents(directory: Path, root: Path) -> None:
    """Remove directories left empty (scan-N/, then the day, month, year folders)."""
    while directory != root and directory.is_relative_to(root):
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent


def raw_output_purge(*, days: int, now=None, batch_size: int = BATCH_SIZE) -> int:
    """Delete raw outputs older than `days`; returns the number of files removed."""
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = (
        ScanToolResult.objects.exclude(raw_output_path="")
        .filter(Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff))
        .filter(scan__status__in=SCAN_FINISHED)
    )
    purged = 0
    last_pk = 0
    while True:
        batch = list(
            old.filter(pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", "raw_output_path")[:batch_size]
        )
        if not batch:
            break
        last_pk = batch[-1][0]
        done = [pk for pk, path in batch if _delete_media_file(path)]
        ScanToolResult.objects.filter(pk__in=done).update(
            raw_output_path="", updated_at=timezone.now()
        )
        purged += len(done)
    purged += _report_files_purge(cutoff=cutoff, batch_size=batch_size)
    return purged


def _report_files_purge(*, cutoff, batch_size: int) -> int:
    """Uploaded reports of finished imports are raw scanner output too."""
    old = ReportImport.objects.exclude(file_path="").filter(
        created_at__lt=cutoff, scan__status__in=SCAN_FINISHED
    )
    purged = 0
    last_pk = 0
    while True:
        batch = list(
            old.filter(pk__gt=last_pk).order_by("pk").values_list("pk", "file_path")[:batch_size]
        )
        if not batch:
            break
        last_pk = batch[-1][0]
        done = [pk for pk, path in batch if _delete_media_file(path)]
        ReportImport.objects.filter(pk__in=done).update(file_path="", updated_at=timezone.now())
        purged += len(done)
    return purged


def orphan_uploads_purge(*, now=None, batch_size: int = BATCH_SIZE) -> int:
    """Delete uploaded files under MEDIA_ROOT/imports that no ReportImport refers to and that
    were last written more than ORPHAN_UPLOAD_AGE ago; returns how many."""
    root = Path(settings.MEDIA_ROOT)
    cutoff = ((now or timezone.now()) - ORPHAN_UPLOAD_AGE).timestamp()
    purged = 0
    batch: list[str] = []

    def sweep() -> int:
        known = set(
            ReportImport.objects.filter(file_path__in=batch).values_list("file_path", flat=True)
        )
        gone = sum(_delete_media_file(relative) for relative in batch if relative not in known)
        batch.clear()
        return gone

    for folder, _, names in os.walk(root / UPLOAD_DIR):
        for name in names:
            path = Path(folder) / name
            try:
                if path.is_symlink() or path.stat().st_mtime >= cutoff:
                    continue
            except OSError:
                continue
            batch.append(path.relative_to(root).as_posix())
            if len(batch) >= batch_size:
                purged += sweep()
    if batch:
        purged += sweep()
    return purged


def closed_findings_purge(*, days: int, now=None, batch_size: int = BATCH_SIZE) -> int:
    """Delete closed findings last seen more than `days` ago; returns how many."""
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = Finding.objects.filter(status__in=PURGEABLE_STATUSES, sighting__seen_at__lt=cutoff)
    deleted = 0
    last_pk = 0
    while True:
        ids = list(
            old.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            break
        last_pk = ids[-1]
        with transaction.atomic():
            # The status is checked again in the DELETE: a finding reopened meanwhile stays.
            _, per_model = old.filter(pk__in=ids).delete()
        deleted += per_model.get(Finding._meta.label, 0)
    return deleted


def retention_purge(*, now=None) -> dict:
    """Apply both retention periods of the system settings; returns the counts."""
    row = SystemSettings.load()
    report = {
        "raw_outputs": raw_output_purge(days=row.retention_days_raw_output, now=now),
        "orphan_uploads": orphan_uploads_purge(now=now),
        "closed_findings": closed_findings_purge(days=row.retention_days_closed_findings, now=now),
    }
    logger.info("retention purge: %s", report)
    return report
