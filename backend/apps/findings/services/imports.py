"""Report imports: an uploaded report becomes a scan (trigger `import`) with one tool result per
tool in the report, processed by a worker and finished through the scan engine's own
`scan_maybe_finish`, so the lifecycle (auto-resolve per target and tool, reopening) applies as
after any scan.

All or nothing: the findings are written batch by batch as the report is read, in one
transaction that also sets the tool results' final status. A report that cannot be read
(malformed, truncated, too large, wrong format, hostile) ends as a failed import with the reason
in the tool result's `error_message`, and no finding is written.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    InterfaceError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.utils import timezone

from apps.core.queueing import queue_after_commit
from apps.projects.models import AssetType, Project, TargetAsset
from apps.scans.models import (
    SCAN_FINISHED,
    TOOL_RESULT_FINISHED,
    Scan,
    ScanStatus,
    ScanToolResult,
    ToolResultStatus,
    TriggerType,
)
from apps.tools.plugins.base import ParseError

from ..formats import SARIF, available_formats, open_report, resolve_format
from ..models import ReportImport
from .ingestion import FindingStage

logger = logging.getLogger("seculite.findings")

#: The folder under MEDIA_ROOT that uploaded reports are written to (imports/YYYY/MM/DD/<uuid>).
UPLOAD_DIR = "imports"
#: The per-project target that imports without a target_id go to.
IMPORT_TARGET_NAME = "Imported reports"
#: The tool id of an import's tool result until the report names its tool(s).
PLACEHOLDER_TOOL = "import"
#: How often (seconds) a running import beats its heart and checks for cancellation.
BEAT_SECONDS = 2.0


@dataclass
class StoredUpload:
    """An uploaded file already written under MEDIA_ROOT."""

    relative_path: str
    original_name: str
    size: int


class ImportCancelled(Exception):
    pass


class ImportTakenOver(Exception):
    """Another attempt (a retry, the reaper) owns the import now: this one writes nothing."""


# --- creating -------------------------------------------------------------------------------
def import_target(*, project: Project) -> TargetAsset:
    """The project's "Imported reports" target (a file_upload target), created on first use."""
    target, _ = TargetAsset.objects.get_or_create(
        project=project,
        name=IMPORT_TARGET_NAME,
        defaults={
            "asset_type": AssetType.FILE_UPLOAD,
            "identifier": "imported-reports",
            "description": "Findings of uploaded reports that name no target.",
        },
    )
    return target


def report_import_create(
    *,
    project: Project,
    upload: StoredUpload,
    user=None,
    target_id: int | None = None,
    requested_format: str = "",
) -> Scan:
    """Record the upload as a queued import scan and queue its processing (after commit)."""
    from ..jobs.imports import report_import_process

    requested_format = (requested_format or "").strip().lower()
    if requested_format and requested_format not in available_formats():
        raise ValidationError(
            {"format": [f"Unknown format; one of: {', '.join(available_formats())}."]}
        )
    with transaction.atomic():
        if target_id is not None:
            target = TargetAsset.objects.filter(project=project, pk=target_id).first()
            if target is None:
                raise ValidationError(
                    {"target_id": [f'Invalid pk "{target_id}" - object does not exist.']}
                )
            if not target.is_active:
                raise ValidationError({"target_id": ["This target is inactive."]})
        else:
            target = import_target(project=project)
        scan = Scan.objects.create(
            project=project,
            trigger_type=TriggerType.IMPORT,
            triggered_by=user if getattr(user, "is_authenticated", False) else None,
            status=ScanStatus.QUEUED,
            phase="queued",
        )
        ScanToolResult.objects.create(
            scan=scan,
            tool_id=requested_format or PLACEHOLDER_TOOL,
            target=target,
            raw_output_path=upload.relative_path,
        )
        ReportImport.objects.create(
            scan=scan,
            project=project,
            target=target,
            file_path=upload.relative_path,
            original_name=upload.original_name[:255],
            size_bytes=upload.size,
            requested_format=requested_format,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        queue_after_commit(report_import_process, scan.pk)  # or the reaper, if it is down
    return scan


# --- processing -----------------------------------------------------------------------------
def _claim(scan_id: int, task_id: str, worker: str) -> tuple[Scan, ScanToolResult] | None:
    """Take the import for this task; None when it is finished or alive in another worker."""
    stale_before = timezone.now() - timezone.timedelta(seconds=settings.SECULITE_HEARTBEAT_TIMEOUT)
    with transaction.atomic():
        scan = (
            Scan.objects.select_for_update()
            .filter(pk=scan_id, trigger_type=TriggerType.IMPORT)
            .first()
        )
        if scan is None or scan.status in SCAN_FINISHED:
            return None
        results = list(scan.tool_results.select_for_update().order_by("pk"))
        if not results or all(r.status in TOOL_RESULT_FINISHED for r in results):
            return scan, None
        result = results[0]
        if (
            result.status == ToolResultStatus.RUNNING
            and result.celery_task_id != task_id
            and result.heartbeat_at
            and result.heartbeat_at > stale_before
        ):
            return None  # another worker is importing it
        now = timezone.now()
        if result.attempts >= settings.SECULITE_TOOL_MAX_ATTEMPTS:
            message = (
                f"The import stopped {result.attempts} times without finishing (the worker "
                "was lost while reading this report)."
            )
            ScanToolResult.objects.filter(scan=scan).exclude(
                status__in=TOOL_RESULT_FINISHED
            ).update(
                status=ToolResultStatus.FAILED,
                error_message=message,
                finished_at=now,
                updated_at=now,
            )
            return scan, None
        scan.status = ScanStatus.RUNNING
        scan.started_at = scan.started_at or now
        scan.phase = "importing"
        scan.save(update_fields=["status", "started_at", "phase", "updated_at"])
        ScanToolResult.objects.filter(scan=scan).exclude(status__in=TOOL_RESULT_FINISHED).update(
            status=ToolResultStatus.RUNNING,
            started_at=now,
            heartbeat_at=now,
            celery_task_id=task_id[:64],
            worker=worker[:200],
            updated_at=now,
        )
        ScanToolResult.objects.filter(pk=result.pk).update(attempts=result.attempts + 1)
        result.refresh_from_db()
        return scan, result


class _Beat:
    """Progress callback of the stage, at most every BEAT_SECONDS: the heartbeat the reaper
    reads, the phase shown in the UI, and the cancel check.

    The findings are written in one open transaction, so on PostgreSQL these go through a
    connection of their own (committed at once, and not queued behind the pipelined upserts)."""

    def __init__(self, scan: Scan):
        self.scan = scan
        self.next = time.monotonic() + BEAT_SECONDS
        self.side = None
        if connection.vendor == "postgresql":
            self.side = connections.create_connection(DEFAULT_DB_ALIAS)

    def __call__(self, staged: int) -> None:
        now = time.monotonic()
        if now < self.next:
            return
        self.next = now + BEAT_SECONDS
        stamp = timezone.now()
        if self.side is None:
            return  # SQLite: nobody else can read it before the commit anyway
        quote = self.side.ops.quote_name
        results = quote(ScanToolResult._meta.db_table)
        scans = quote(Scan._meta.db_table)
        with self.side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {results} SET heartbeat_at = %s WHERE scan_id = %s AND status = %s",  # noqa: S608
                [stamp, self.scan.pk, ToolResultStatus.RUNNING.value],
            )
            cursor.execute(
                f"UPDATE {scans} SET phase = %s, updated_at = %s WHERE id = %s "  # noqa: S608
                "RETURNING cancel_requested",
                [f"importing: {staged} findings read"[:100], stamp, self.scan.pk],
            )
            row = cursor.fetchone()
        if row and row[0]:
            raise ImportCancelled()

    def close(self) -> None:
        if self.side is not None:
            self.side.close()
            self.side = None


def _tool_results(scan: Scan, first: ScanToolResult, tools) -> dict[str, ScanToolResult]:
    """One tool result per tool of the report: the first takes the claimed row."""
    results: dict[str, ScanToolResult] = {}
    if not tools:
        ScanToolResult.objects.filter(pk=first.pk).update(tool_id=SARIF)
        first.tool_id = SARIF
        return results
    now = timezone.now()
    for position, tool in enumerate(tools):
        if position == 0:
            first.tool_id = tool.tool_id
            first.tool_version = tool.version[:100]
            ScanToolResult.objects.filter(pk=first.pk).update(
                tool_id=first.tool_id, tool_version=first.tool_version
            )
            results[tool.tool_id] = first
        else:
            results[tool.tool_id], _ = ScanToolResult.objects.update_or_create(
                scan=scan,
                tool_id=tool.tool_id,
                target=first.target,
                defaults={
                    "tool_version": tool.version[:100],
                    "status": ToolResultStatus.RUNNING,
                    "started_at": first.started_at,
                    "heartbeat_at": now,
                    "celery_task_id": first.celery_task_id,
                    "worker": first.worker,
                    "attempts": first.attempts,
                    "raw_output_path": first.raw_output_path,
                },
            )
    return results


def report_import_process(*, scan_id: int, task_id: str = "", worker: str = "") -> dict:
    """Read the report, stage its findings, write them at once, and finish the scan.

    Returns {"staged": rows written, "batches": merges, "statements": SQL statements the stage
    sent on the raw connection} (for benchmarks)."""
    from apps.scans.services.execution import scan_maybe_finish

    claimed = _claim(scan_id, task_id, worker)
    if claimed is None:
        return {}
    scan, result = claimed
    if result is None:
        scan_maybe_finish(scan_id=scan.pk)
        return {}
    report = ReportImport.objects.get(scan=scan)
    path = Path(settings.MEDIA_ROOT) / report.file_path
    clock = time.monotonic()
    fmt = report.requested_format
    beat = _Beat(scan)
    stats = {"staged": 0, "batches": 0, "statements": 0}
    try:
        if not path.is_file():
            raise ParseError("the uploaded file is no longer there")
        fmt = resolve_format(path, report.requested_format)
        ReportImport.objects.filter(pk=report.pk).update(detected_format=fmt)
        reader = open_report(path, fmt)
        tools = reader.prepare()
        results = _tool_results(scan, result, tools)
        # One transaction from the first finding to the tool results' final status: a report
        # that turns out bad half-way leaves nothing behind.
        with transaction.atomic():
            with FindingStage(scan=scan, on_progress=beat) as stage:
                for tool_id, record in reader.records():
                    stage.add(results[tool_id], record)
                counts = stage.write()
                stats = {
                    "staged": stage.count,
                    "batches": stage.batches,
                    "statements": stage.statements,
                }
            # The tool results are locked only now: the heartbeat (another connection) updates
            # them while the findings are written.
            ids = [r.pk for r in results.values()] or [result.pk]
            locked = list(ScanToolResult.objects.select_for_update().filter(pk__in=ids))
            if len(locked) != len(ids) or any(
                r.status != ToolResultStatus.RUNNING or r.celery_task_id != result.celery_task_id
                for r in locked
            ):
                raise ImportTakenOver()  # or its scan was deleted meanwhile: nothing to keep
            if Scan.objects.filter(pk=scan.pk, cancel_requested=True).exists():
                raise ImportCancelled()
            now = timezone.now()
            duration = round(time.monotonic() - clock, 3)
            failures = {t.tool_id: t.failure for t in tools if t.failure}
            for row in locked:
                seen = counts.seen_by_result.get(row.pk, 0)
                status = ToolResultStatus.COMPLETED if seen else ToolResultStatus.NO_FINDINGS
                error = ""
                if row.tool_id in failures:
                    status = ToolResultStatus.FAILED
                    error = f"The report says {row.tool_id} did not run successfully: "
                    error = (error + failures[row.tool_id])[:2000]
                ScanToolResult.objects.filter(pk=row.pk).update(
                    status=status,
                    error_message=error,
                    findings_count=seen,
                    finished_at=now,
                    duration_seconds=duration,
                    heartbeat_at=now,
                    updated_at=now,
                )
    except ImportTakenOver:
        return {}
    except ImportCancelled:
        _fail(scan, ToolResultStatus.CANCELLED, "cancelled")
    except Exception as exc:
        message, ours = _failure(exc, fmt)
        if ours:
            logger.exception("import of scan %s failed", scan.pk)
            Scan.objects.filter(pk=scan.pk).update(platform_error=True)
        else:
            logger.info("import of scan %s failed: %s", scan.pk, message)
        _fail(scan, ToolResultStatus.FAILED, message)
    finally:
        beat.close()
    scan_maybe_finish(scan_id=scan.pk)
    return stats


def _failure(exc: BaseException, fmt: str) -> tuple[str, bool]:
    """A clear message, and whether SecuLite itself (not the report) failed."""
    what = f"{fmt} report" if fmt else "report"
    if isinstance(exc, ParseError):
        text = str(exc)
        if text.startswith(("the report", "the file", "the uploaded", "a ", "SARIF")):
            return f"Import failed: {text}"[:2000], False
        return f"Import failed: unreadable {what}: {text}"[:2000], False
    if isinstance(exc, RecursionError):
        return f"Import failed: the {what} is nested too deeply", False
    if isinstance(exc, MemoryError):
        return f"Import failed: the {what} needs more memory than the worker has", False
    if isinstance(exc, (OperationalError, InterfaceError)):
        return f"Import failed: the database was unavailable ({type(exc).__name__})", True
    if isinstance(exc, DatabaseError):
        return f"Import failed: the {what} has values that cannot be stored: {exc}"[:2000], False
    if type(exc).__name__ == "SoftTimeLimitExceeded":
        return f"Import failed: the {what} took longer than the task time limit", False
    # A parser tripping over unexpected structure (TypeError, KeyError, ...).
    return f"Import failed: unreadable {what}: {type(exc).__name__}: {exc}"[:2000], False


def _fail(scan: Scan, status: str, message: str) -> None:
    now = timezone.now()
    ScanToolResult.objects.filter(scan=scan).exclude(status__in=TOOL_RESULT_FINISHED).update(
        status=status, error_message=message, findings_count=0, finished_at=now, updated_at=now
    )


def report_import_crashed(*, scan_id: int, error: BaseException) -> None:
    """The task itself failed unexpectedly: end the import as an error, never leave it running."""
    from apps.scans.services.execution import scan_maybe_finish

    message = f"SecuLite internal error: {type(error).__name__}: {error}"[:2000]
    scan = Scan.objects.filter(pk=scan_id).first()
    if scan is None:
        return
    _fail(scan, ToolResultStatus.FAILED, message)
    Scan.objects.filter(pk=scan_id).update(platform_error=True, error_message=message[:500])
    scan_maybe_finish(scan_id=scan_id)
