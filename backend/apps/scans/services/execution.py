"""Running scans: launch (rows + a task), workspace preparation, one tool run per task, the
fan-in that finishes a scan, cancellation, and the reaper that keeps no scan stuck.

The database is the source of truth: every step reads and claims rows before acting, so a
redelivered or re-sent message is harmless (a finished tool result is never run again, and
findings are upserted by fingerprint)."""

import logging
import os
import shutil
import subprocess
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.queueing import queue_after_commit
from apps.projects.models import AssetType, TargetAsset
from apps.projects.validators import validate_target
from apps.tools.plugins.base import ScanContext, TargetType
from apps.tools.plugins.registry import registry

from ..models import (
    SCAN_FINISHED,
    TOOL_RESULT_FINISHED,
    Scan,
    ScanConfiguration,
    ScanStatus,
    ScanToolResult,
    ToolResultStatus,
    TriggerType,
)

logger = logging.getLogger("seculite.scans")


# --- launching ---------------------------------------------------------------------------------
def configuration_targets(configuration: ScanConfiguration) -> list[TargetAsset]:
    """Its targets and the members of its groups; none named means every active target."""
    explicit = set(configuration.target_assets.values_list("pk", flat=True))
    explicit |= set(configuration.target_groups.values_list("targets__pk", flat=True)) - {None}
    qs = TargetAsset.objects.filter(project=configuration.project, is_active=True)
    if explicit:
        qs = qs.filter(pk__in=explicit)
    return list(qs.order_by("pk"))


def scan_plan(configuration: ScanConfiguration) -> list[tuple[str, TargetAsset]]:
    """(tool, target) pairs: each tool on each target whose type it accepts."""
    pairs = []
    targets = configuration_targets(configuration)
    for entry in configuration.tools_and_configs:
        slug = entry["tool_id"]
        if slug not in registry:
            continue
        plugin = registry.get(slug)
        pairs += [(slug, t) for t in targets if plugin.supports(t.asset_type)]
    return pairs


@transaction.atomic
def scan_launch(
    *,
    configuration: ScanConfiguration,
    trigger_type: str,
    user=None,
    pairs: list[tuple[str, TargetAsset]] | None = None,
    rescan_of=None,
) -> Scan:
    """Create the scan and its pending tool results, then queue it (after commit)."""
    from ..tasks import scan_start

    if not configuration.is_active:
        raise ValidationError({"detail": ["This scan configuration is inactive."]})
    pairs = scan_plan(configuration) if pairs is None else pairs
    if not pairs:
        raise ValidationError(
            {
                "detail": [
                    "No target of this configuration can be scanned by its tools: add a target "
                    "of a type the tools accept."
                ]
            }
        )
    scan = Scan.objects.create(
        configuration=configuration,
        project=configuration.project,
        trigger_type=trigger_type,
        triggered_by=user if getattr(user, "is_authenticated", False) else None,
        status=ScanStatus.QUEUED,
        phase="queued",
        rescan_of=rescan_of,
    )
    ScanToolResult.objects.bulk_create(
        ScanToolResult(scan=scan, tool_id=slug, target=target) for slug, target in pairs
    )
    ScanConfiguration.objects.filter(pk=configuration.pk).update(last_triggered_at=timezone.now())

    # Saved as queued: with the broker down, the reaper sends it once the broker is back.
    queue_after_commit(scan_start, scan.pk)
    return scan


def scan_rescan(*, scan: Scan, user) -> Scan:
    if scan.configuration is None:
        raise ValidationError({"detail": ["Only scans of a configuration can be run again."]})
    pairs = [
        (r.tool_id, r.target)
        for r in scan.tool_results.select_related("target")
        if r.target is not None and r.target.is_active
    ]
    return scan_launch(
        configuration=scan.configuration,
        trigger_type=TriggerType.MANUAL,
        user=user,
        pairs=pairs,
        rescan_of=scan,
    )


# --- workspaces ----------------------------------------------------------------------------------
def workspace_root(scan_id: int) -> Path:
    return Path(settings.SECULITE_WORKSPACE_DIR) / f"scan-{scan_id}"


def _git_env(scratch: Path) -> dict[str, str]:
    scratch.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(scratch),
        "LANG": "C.UTF-8",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_ASKPASS": "/bin/true",
        "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new",
        "GIT_ALLOW_PROTOCOL": "https:ssh"
        + (":file" if settings.SECULITE_ALLOW_FILE_GIT_URLS else ""),
    }


def git_clone_command(url: str, dest: Path, branch: str = "") -> list[str]:
    """A shallow clone with hooks disabled, a protocol allow-list and `--` before the URL."""
    argv = [
        "git",
        "-c",
        "core.hooksPath=/dev/null",
        "-c",
        "protocol.allow=never",
        "-c",
        "protocol.https.allow=always",
        "-c",
        "protocol.ssh.allow=always",
        "-c",
        "core.fsmonitor=false",
        "-c",
        "core.symlinks=false",
    ]
    if settings.SECULITE_ALLOW_FILE_GIT_URLS:
        argv += ["-c", "protocol.file.allow=always"]
    argv += ["clone", "--depth", "1", "--single-branch", "--no-tags", "--quiet"]
    if branch:
        argv += ["--branch", branch]
    return [*argv, "--", url, str(dest)]


def workspace_prepare(*, target: TargetAsset, scan_id: int) -> Path:
    """The directory tools scan for this target: a fresh shallow clone, or the local path
    (re-validated now: it must still resolve inside the scan roots). Idempotent per scan."""
    identifier, metadata = validate_target(
        asset_type=target.asset_type, identifier=target.identifier, metadata=target.metadata
    )
    if target.asset_type != AssetType.GIT_REPOSITORY:
        return workspace_root(scan_id) / f"target-{target.pk}" / "empty"
    if metadata.get("local"):
        return Path(identifier)
    dest = workspace_root(scan_id) / f"target-{target.pk}" / "src"
    if (dest / ".git").is_dir():
        return dest
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    argv = git_clone_command(identifier, dest, metadata.get("branch") or "")
    try:
        proc = subprocess.run(  # noqa: S603 - an argument list with `--` before the URL
            argv,
            env=_git_env(dest.parent / "home"),
            capture_output=True,
            text=True,
            timeout=settings.SECULITE_GIT_CLONE_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        shutil.rmtree(dest, ignore_errors=True)
        raise WorkspaceError(
            f"git clone did not finish within {settings.SECULITE_GIT_CLONE_TIMEOUT}s"
        ) from None
    if proc.returncode != 0:
        shutil.rmtree(dest, ignore_errors=True)
        raise WorkspaceError(f"git clone failed: {proc.stderr.strip()[-500:]}")
    return dest


class WorkspaceError(Exception):
    """A target's workspace could not be prepared (clone failed, path gone, ...)."""


def workspace_cleanup(scan_id: int) -> None:
    """Remove cloned trees; local paths are never touched (they are not under the root)."""
    shutil.rmtree(workspace_root(scan_id), ignore_errors=True)


def workspaces_sweep() -> int:
    """Remove this host's workspaces of finished (or deleted) scans; returns how many. The
    worker that finishes a scan removes its own copy, but every worker host clones into its own
    SECULITE_WORKSPACE_DIR: the other hosts' copies go here, after each tool run."""
    root = Path(settings.SECULITE_WORKSPACE_DIR)
    try:
        ids = {int(n[5:]) for n in os.listdir(root) if n.startswith("scan-") and n[5:].isdigit()}
    except FileNotFoundError:
        return 0
    if not ids:
        return 0
    active = Scan.objects.filter(pk__in=ids).exclude(status__in=SCAN_FINISHED)
    done = ids - set(active.values_list("pk", flat=True))
    for scan_id in done:
        workspace_cleanup(scan_id)
    return len(done)


# --- scan start ----------------------------------------------------------------------------------
def scan_start(*, scan_id: int) -> list[int]:
    """Mark the scan running, prepare each target once, and return the tool results to run."""
    with transaction.atomic():
        scan = Scan.objects.select_for_update().filter(pk=scan_id).first()
        if scan is None or scan.status in SCAN_FINISHED:
            return []
        if scan.status != ScanStatus.RUNNING:
            scan.status = ScanStatus.RUNNING
            scan.started_at = scan.started_at or timezone.now()
        scan.phase = "preparing"
        scan.save(update_fields=["status", "started_at", "phase", "updated_at"])
    pending = list(
        scan.tool_results.filter(status=ToolResultStatus.PENDING).select_related("target")
    )
    failed_targets: dict[int, str] = {}
    for target in {r.target for r in pending if r.target is not None}:
        try:
            workspace_prepare(target=target, scan_id=scan_id)
        except (WorkspaceError, ValidationError, OSError) as exc:
            message = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
            failed_targets[target.pk] = f"Workspace preparation failed: {message}"
    now = timezone.now()
    to_run = []
    for result in pending:
        if result.target_id in failed_targets:
            ScanToolResult.objects.filter(pk=result.pk, status=ToolResultStatus.PENDING).update(
                status=ToolResultStatus.FAILED,
                error_message=failed_targets[result.target_id],
                started_at=now,
                finished_at=now,
                updated_at=now,
            )
        else:
            to_run.append(result.pk)
    Scan.objects.filter(pk=scan_id).update(phase="running tools", updated_at=now)
    if not to_run:
        scan_maybe_finish(scan_id=scan_id)
    return to_run


# --- one tool run --------------------------------------------------------------------------------
def _claim(result_id: int, task_id: str, worker: str) -> ScanToolResult | None:
    """Take a tool result for this task, or None when it is finished or alive elsewhere."""
    stale_before = timezone.now() - timedelta(seconds=settings.SECULITE_HEARTBEAT_TIMEOUT)
    with transaction.atomic():
        result = (
            ScanToolResult.objects.select_for_update(of=("self",))
            .select_related("scan", "target")
            .filter(pk=result_id)
            .first()
        )
        if result is None or result.status in TOOL_RESULT_FINISHED:
            return None
        if result.scan.status in SCAN_FINISHED:
            return None
        if (
            result.status == ToolResultStatus.RUNNING
            and result.celery_task_id != task_id
            and result.heartbeat_at
            and result.heartbeat_at > stale_before
        ):
            return None  # another worker runs it and is alive
        now = timezone.now()
        result.status = ToolResultStatus.RUNNING
        result.started_at = now
        result.heartbeat_at = now
        result.celery_task_id = task_id or ""
        result.worker = worker[:200]
        result.attempts += 1
        result.save(
            update_fields=[
                "status",
                "started_at",
                "heartbeat_at",
                "celery_task_id",
                "worker",
                "attempts",
                "updated_at",
            ]
        )
        return result


def _finish_result(result: ScanToolResult, **fields) -> None:
    now = timezone.now()
    fields.setdefault("finished_at", now)
    ScanToolResult.objects.filter(pk=result.pk).update(updated_at=now, **fields)


class _Watch:
    """The runner's cancel check: also beats the heart, and reaps the runs of dead workers.
    Polled every 0.1 s, it touches the database only every couple of seconds."""

    def __init__(self, result: ScanToolResult):
        self.result = result
        self.next_check = 0.0
        self.next_reap = time.monotonic() + settings.SECULITE_REAPER_SECONDS
        self.cancelled = False

    def __call__(self) -> bool:
        now = time.monotonic()
        if now < self.next_check:
            return self.cancelled
        self.next_check = now + settings.SECULITE_CANCEL_POLL_SECONDS
        ScanToolResult.objects.filter(pk=self.result.pk).update(heartbeat_at=timezone.now())
        self.cancelled = Scan.objects.filter(pk=self.result.scan_id, cancel_requested=True).exists()
        if now >= self.next_reap:
            # The beat-scheduled reaper waits for a free worker slot: while every slot runs a
            # tool, the runs of a killed worker would wait as long as those tools run.
            self.next_reap = now + settings.SECULITE_REAPER_SECONDS
            try:
                tool_runs_reap_stale()
            except Exception:  # reaping others must never break this run
                logger.exception("reaping stale tool runs from a heartbeat failed")
        return self.cancelled


def tool_run(*, result_id: int, task_id: str = "", worker: str = "") -> None:
    """Run one tool on one target, store its output and findings, then try to finish."""
    from apps.findings.services import findings_ingest
    from apps.tools.runner import RunStatus, run_plugin

    result = _claim(result_id, task_id, worker)
    if result is None:
        return
    scan = result.scan
    _set_phase(scan.pk)
    try:
        plugin = registry.get(result.tool_id)
    except KeyError:
        _finish_result(
            result,
            status=ToolResultStatus.SKIPPED,
            error_message=f"No plugin '{result.tool_id}' is installed.",
        )
        scan_maybe_finish(scan_id=scan.pk)
        return
    overrides = next(
        (
            e.get("overrides") or {}
            for e in (scan.configuration.tools_and_configs if scan.configuration else [])
            if e.get("tool_id") == result.tool_id
        ),
        {},
    )
    target = result.target
    try:
        workspace = workspace_prepare(target=target, scan_id=scan.pk)
    except (WorkspaceError, ValidationError, OSError) as exc:
        message = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        _finish_result(
            result,
            status=ToolResultStatus.FAILED,
            error_message=f"Workspace preparation failed: {message}",
        )
        scan_maybe_finish(scan_id=scan.pk)
        return
    stamp = timezone.now()
    relative = (
        Path("scan_tool_outputs")
        / f"{stamp:%Y/%m/%d}"
        / f"scan-{scan.pk}"
        / f"{result.tool_id}-target-{target.pk}"
    )
    output_dir = Path(settings.MEDIA_ROOT) / relative
    workspace.mkdir(parents=True, exist_ok=True) if not workspace.exists() else None
    ctx = ScanContext(
        workspace=workspace,
        output_dir=output_dir,
        target_type=TargetType(target.asset_type),
        target=target.identifier,
        overrides=overrides,
        scratch_dir=workspace_root(scan.pk) / f"scratch-{result.pk}",
    )
    run = run_plugin(plugin, ctx, timeout=settings.SECULITE_TOOL_TIMEOUT, cancel=_Watch(result))
    raw = ""
    if run.output_path and Path(run.output_path).is_file():
        raw = str(Path(run.output_path).relative_to(settings.MEDIA_ROOT))
    shutil.rmtree(ctx.scratch, ignore_errors=True)
    common = dict(
        exit_code=run.exit_code,
        tool_version=run.tool_version[:100],
        started_at=run.started_at or stamp,
        finished_at=run.finished_at,
        duration_seconds=run.duration,
        scanner_started_at=run.process_started_at,
        scanner_seconds=run.process_seconds,
        raw_output_path=raw,
        output_excerpt=(run.excerpt or "")[:4000],
        error_message=run.error or "",
    )
    status = ToolResultStatus(str(run.status))
    with transaction.atomic():
        locked = ScanToolResult.objects.select_for_update().get(pk=result.pk)
        if (
            locked.status != ToolResultStatus.RUNNING
            or locked.celery_task_id != result.celery_task_id
        ):
            return  # the reaper gave it to another attempt meanwhile
        count = 0
        if run.status in (RunStatus.COMPLETED, RunStatus.NO_FINDINGS) and run.findings:
            count = findings_ingest(tool_result=locked, records=run.findings).seen
        _finish_result(locked, status=status, findings_count=count, **common)
    scan_maybe_finish(scan_id=scan.pk)


def tool_run_crashed(*, result_id: int, error: BaseException) -> None:
    """SecuLite itself failed while running a tool: record it, end the run, and let the scan
    finish as `error` (scanner failures are `failed`; this is ours)."""
    now = timezone.now()
    message = f"SecuLite internal error: {type(error).__name__}: {error}"[:2000]
    result = ScanToolResult.objects.filter(pk=result_id).first()
    if result is None:
        return
    ScanToolResult.objects.filter(pk=result_id).exclude(status__in=TOOL_RESULT_FINISHED).update(
        status=ToolResultStatus.FAILED, error_message=message, finished_at=now, updated_at=now
    )
    # A scan that finished before the crash (e.g. while queueing its notifications) keeps its
    # outcome.
    Scan.objects.filter(pk=result.scan_id).exclude(status__in=SCAN_FINISHED).update(
        platform_error=True, error_message=message[:500], updated_at=now
    )
    scan_maybe_finish(scan_id=result.scan_id)


def _set_phase(scan_id: int) -> None:
    running = list(
        ScanToolResult.objects.filter(scan_id=scan_id, status=ToolResultStatus.RUNNING)
        .values_list("tool_id", flat=True)
        .distinct()
    )
    phase = f"running {', '.join(sorted(running))}" if running else "running tools"
    Scan.objects.filter(pk=scan_id, status=ScanStatus.RUNNING).update(phase=phase[:100])


# --- finishing ----------------------------------------------------------------------------------
def scan_maybe_finish(*, scan_id: int) -> bool:
    """When every tool result is finished, aggregate and set the scan's final status."""
    from apps.findings.services import findings_summary

    with transaction.atomic():
        scan = Scan.objects.select_for_update().filter(pk=scan_id).first()
        if scan is None or scan.status in SCAN_FINISHED:
            return False
        statuses = list(scan.tool_results.values_list("status", flat=True))
        done = [s for s in statuses if s in TOOL_RESULT_FINISHED]
        scan.progress = int(100 * len(done) / len(statuses)) if statuses else 100
        if len(done) < len(statuses):
            scan.save(update_fields=["progress", "updated_at"])
            _set_phase(scan_id)
            return False
        scan.phase = "processing"
        summary = findings_summary(scan=scan)
        summary["tools"] = {s: statuses.count(s) for s in sorted(set(statuses))}
        failed = {ToolResultStatus.FAILED, ToolResultStatus.TIMED_OUT}
        if scan.cancel_requested:
            scan.status = ScanStatus.CANCELLED
        elif scan.platform_error:
            scan.status = ScanStatus.ERROR
        elif failed & set(statuses):
            scan.status = ScanStatus.FAILED
            scan.error_message = _failure_text(scan)
        else:
            scan.status = ScanStatus.COMPLETED
        from apps.findings.services.lifecycle import findings_lifecycle_close_scan

        summary.update(findings_lifecycle_close_scan(scan=scan))
        scan.summary = summary
        scan.phase = "finished"
        scan.progress = 100
        scan.finished_at = timezone.now()
        scan.save()
        from apps.findings.services.notifications import scan_notify_finished

        scan_notify_finished(scan_id=scan_id)  # e-mails and webhooks, queued after the commit
    workspace_cleanup(scan_id)
    logger.info("scan %s finished: %s", scan_id, scan.status)
    return True


def _failure_text(scan: Scan) -> str:
    rows = scan.tool_results.filter(
        status__in=[ToolResultStatus.FAILED, ToolResultStatus.TIMED_OUT]
    ).values_list("tool_id", "status", "error_message")
    return "; ".join(f"{tool} {status}: {error}"[:300] for tool, status, error in rows)[:2000]


# --- cancelling ---------------------------------------------------------------------------------
def scan_cancel(*, scan: Scan) -> Scan:
    """Stop a scan: queued tool runs are revoked, running scanners are killed by their workers
    within seconds; results that finished are kept."""
    from seculite_api.celery import app

    with transaction.atomic():
        scan = Scan.objects.select_for_update().get(pk=scan.pk)
        if scan.status in SCAN_FINISHED:
            raise ValidationError({"detail": [f"The scan is already {scan.status}."]})
        scan.cancel_requested = True
        scan.phase = "cancelling"
        scan.save(update_fields=["cancel_requested", "phase", "updated_at"])
        pending = list(scan.tool_results.filter(status=ToolResultStatus.PENDING))
        now = timezone.now()
        ScanToolResult.objects.filter(pk__in=[r.pk for r in pending]).update(
            status=ToolResultStatus.CANCELLED,
            error_message="cancelled before it started",
            finished_at=now,
            updated_at=now,
        )
    task_ids = [r.celery_task_id for r in pending if r.celery_task_id]
    if task_ids:
        try:
            app.control.revoke(task_ids)
        except Exception:  # the broker being down must not stop the cancel itself
            logger.warning("could not revoke %d queued tasks of scan %s", len(task_ids), scan.pk)
    scan_maybe_finish(scan_id=scan.pk)
    scan.refresh_from_db()
    return scan


# --- the reaper ---------------------------------------------------------------------------------
def tool_runs_reap_stale(*, now=None, finish: bool = True) -> dict:
    """Tool runs whose worker stopped beating are run again, or failed after the last attempt.
    Run by the reaper and, every SECULITE_REAPER_SECONDS, by the heartbeat of every running tool
    (see _Watch). `finish`: close the scans whose last open run this failed."""
    from ..tasks import tool_run as tool_task

    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.SECULITE_HEARTBEAT_TIMEOUT)
    report = {"retried": 0, "failed": 0}
    failed_scans = set()
    for result in (
        ScanToolResult.objects.filter(
            scan__in=Scan.objects.exclude(status__in=SCAN_FINISHED),
            status=ToolResultStatus.RUNNING,
        )
        .exclude(scan__trigger_type=TriggerType.IMPORT)  # imports_reap: no scanner to run again
        .filter(Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True))
    ):
        with transaction.atomic():
            row = ScanToolResult.objects.select_for_update().get(pk=result.pk)
            if row.status != ToolResultStatus.RUNNING or (
                row.heartbeat_at and row.heartbeat_at >= stale
            ):
                continue
            since = row.heartbeat_at.isoformat() if row.heartbeat_at else "its start"
            if row.attempts >= settings.SECULITE_TOOL_MAX_ATTEMPTS:
                ScanToolResult.objects.filter(pk=row.pk).update(
                    status=ToolResultStatus.FAILED,
                    finished_at=now,
                    updated_at=now,
                    error_message=f"The worker {row.worker or '?'} stopped responding "
                    f"(no heartbeat since {since}) after {row.attempts} attempts.",
                )
                report["failed"] += 1
                failed_scans.add(row.scan_id)
            else:
                ScanToolResult.objects.filter(pk=row.pk).update(
                    status=ToolResultStatus.PENDING,
                    celery_task_id="",
                    updated_at=now,
                    error_message=f"Retrying: the worker {row.worker or '?'} stopped "
                    f"responding (no heartbeat since {since}).",
                )
                queue_after_commit(tool_task, row.pk)
                report["retried"] += 1
    for scan_id in sorted(failed_scans) if finish else []:
        scan_maybe_finish(scan_id=scan_id)
    return report


def scans_reap(*, now=None) -> dict:
    """Keep no scan stuck: tool runs whose worker stopped beating are run again (or failed after
    the last attempt), lost messages are re-sent, and finished scans are closed."""
    from ..tasks import scan_start as start_task
    from ..tasks import tool_run as tool_task

    now = now or timezone.now()
    lost = now - timedelta(seconds=settings.SECULITE_REDISPATCH_SECONDS)
    report = tool_runs_reap_stale(now=now, finish=False)  # the last loop below finishes scans
    report.update(redispatched=0, restarted=0, finished=0)
    active = Scan.objects.exclude(status__in=SCAN_FINISHED)
    # Pending tool results of running scans that nobody picked up while their queue (`scans`,
    # or the tool's own: SECULITE_TOOL_QUEUES) is empty: their messages were lost (a broker
    # restart); send them again.
    from apps.core.selectors import queue_length

    from ..routing import tool_queue

    orphans = ScanToolResult.objects.filter(
        scan__status=ScanStatus.RUNNING,
        scan__cancel_requested=False,
        status=ToolResultStatus.PENDING,
        updated_at__lt=lost,
    ).exclude(scan__trigger_type=TriggerType.IMPORT)
    idle: dict[str, bool] = {}  # queue -> empty, read once per queue

    def queue_idle(name: str) -> bool:
        if name not in idle:
            idle[name] = queue_length(name) == 0
        return idle[name]

    orphans = [r for r in orphans if queue_idle(tool_queue(r.tool_id))] if orphans.exists() else []
    for result in orphans:
        ScanToolResult.objects.filter(pk=result.pk).update(updated_at=now)
        tool_task.delay(result.pk)
        report["redispatched"] += 1
    queued = Scan.objects.filter(status=ScanStatus.QUEUED, updated_at__lt=lost).exclude(
        trigger_type=TriggerType.IMPORT
    )
    for scan in queued if queued.exists() and queue_length("scans") == 0 else []:
        Scan.objects.filter(pk=scan.pk).update(updated_at=now)
        start_task.delay(scan.pk)
        report["restarted"] += 1
    report["imports"] = imports_reap(now=now)
    from apps.findings.services.notifications import (
        assignments_notify_missed,
        scans_notify_missed,
    )

    report["notified"] = scans_notify_missed(now=now)
    report["assignments_notified"] = assignments_notify_missed(now=now)
    for scan_id in active.filter(status=ScanStatus.RUNNING).values_list("pk", flat=True):
        if scan_maybe_finish(scan_id=scan_id):
            report["finished"] += 1
    return report


def imports_reap(*, now=None) -> int:
    """Report imports are their own task (the report is read; no scanner runs), so a lost one is
    sent again to that task: a queued import whose message was lost (the `scans` queue is empty),
    or a running one whose worker stopped beating (the task's claim takes the run over, and
    fails the import after SECULITE_TOOL_MAX_ATTEMPTS). One is sent again at most every
    SECULITE_REDISPATCH_SECONDS; returns how many were sent."""
    from apps.core.selectors import queue_length
    from apps.findings.jobs.imports import report_import_process

    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.SECULITE_HEARTBEAT_TIMEOUT)
    quiet = now - timedelta(seconds=settings.SECULITE_REDISPATCH_SECONDS)
    # Running: every run of the import stopped beating (the heartbeat touches heartbeat_at only,
    # so updated_at says when the run was last claimed or sent again).
    running = ScanToolResult.objects.filter(
        scan__trigger_type=TriggerType.IMPORT,
        scan__status=ScanStatus.RUNNING,
        status=ToolResultStatus.RUNNING,
    )
    stalled = set(
        running.filter(Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True))
        .filter(updated_at__lt=quiet)
        .values_list("scan_id", flat=True)
    )
    stalled -= set(
        running.filter(scan_id__in=stalled, heartbeat_at__gte=stale).values_list(
            "scan_id", flat=True
        )
    )
    for scan_id in sorted(stalled):
        running.filter(scan_id=scan_id).update(updated_at=now)
        report_import_process.delay(scan_id)
    queued = Scan.objects.filter(
        trigger_type=TriggerType.IMPORT, status=ScanStatus.QUEUED, updated_at__lt=quiet
    )
    lost = []
    if queued.exists() and queue_length("scans") == 0:
        lost = list(queued.values_list("pk", flat=True))
    for scan_id in lost:
        Scan.objects.filter(pk=scan_id).update(updated_at=now)
        report_import_process.delay(scan_id)
    return len(stalled) + len(lost)


def worker_name() -> str:
    return f"{os.uname().nodename}:{os.getpid()}"
