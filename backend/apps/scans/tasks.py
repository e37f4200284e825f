"""Celery tasks of the scan engine. Tasks take ids, load rows and call a service; routing puts
scanner work on `scans` and the light scheduling tasks on `default` (see CELERY_TASK_ROUTES)."""

import logging

from celery import shared_task
from django.utils import timezone

from apps.core.models import Heartbeat

from .services import execution

logger = logging.getLogger("seculite.scans")


@shared_task(bind=True, name="apps.scans.tasks.scans_queue_probe", ignore_result=True)
def scans_queue_probe(self, token: str) -> None:
    """Prove that a worker consumes the `scans` queue: record which queue delivered this and who
    ran it. Used by operators (`manage.py probe_workers`) and by the stack tests."""
    delivery = self.request.delivery_info or {}
    Heartbeat.objects.update_or_create(
        name=f"probe:{token}"[:100],
        defaults={
            "last_seen": timezone.now(),
            "detail": {
                "routing_key": delivery.get("routing_key"),
                "exchange": delivery.get("exchange"),
                "hostname": self.request.hostname,
            },
        },
    )


@shared_task(name="apps.scans.tasks.scan_start", ignore_result=True)
def scan_start(scan_id: int) -> None:
    """Prepare the workspaces, then fan out one tool_run per tool x target (in parallel)."""
    from .models import ScanToolResult

    for result_id in execution.scan_start(scan_id=scan_id):
        async_result = tool_run.delay(result_id)
        ScanToolResult.objects.filter(pk=result_id, status="pending").update(
            celery_task_id=async_result.id
        )


@shared_task(bind=True, name="apps.scans.tasks.tool_run", ignore_result=True)
def tool_run(self, result_id: int) -> None:
    try:
        execution.tool_run(
            result_id=result_id,
            task_id=self.request.id or "",
            worker=self.request.hostname or execution.worker_name(),
        )
    except Exception as exc:
        # A bug or an outage of ours must not leave the scan running: record it as an error.
        logger.exception("tool run %s crashed", result_id)
        try:
            execution.tool_run_crashed(result_id=result_id, error=exc)
        except Exception:
            logger.exception("could not record the crash of tool run %s", result_id)
        raise
    try:  # this host's copies of finished scans' workspaces (several worker hosts)
        execution.workspaces_sweep()
    except Exception:
        logger.warning("could not sweep the workspaces of finished scans", exc_info=True)


@shared_task(name="apps.scans.tasks.scan_scheduled_launch", ignore_result=True)
def scan_scheduled_launch(configuration_id: int) -> None:
    """Beat's entry point for scheduled configurations."""
    from django.core.exceptions import ValidationError

    from .models import ScanConfiguration, TriggerType

    configuration = ScanConfiguration.objects.filter(
        pk=configuration_id, is_active=True, project__is_active=True
    ).first()
    if configuration is None:
        return
    try:
        execution.scan_launch(configuration=configuration, trigger_type=TriggerType.SCHEDULED)
    except ValidationError as exc:
        logger.warning(
            "scheduled scan of configuration %s not started: %s",
            configuration_id,
            "; ".join(exc.messages),
        )


@shared_task(name="apps.scans.tasks.scans_reap_stale", ignore_result=True)
def scans_reap_stale() -> dict:
    report = execution.scans_reap()
    if any(report.values()):
        logger.info("reaper: %s", report)
    return report
