"""Celery tasks: reports (see apps/findings/services/reports.py)."""

from celery import shared_task

from .. import counts
from ..services import reports


@shared_task(name="apps.findings.jobs.reports.findings_snapshot", ignore_result=True)
def findings_snapshot() -> int:
    """Hourly (beat): today's open findings per project and severity, for fast trends."""
    return reports.findings_snapshot_take()


@shared_task(name="apps.findings.jobs.reports.finding_counts_compact", ignore_result=True)
def finding_counts_compact() -> int:
    """Every few minutes (beat): fold the finding count rows the triggers appended."""
    return counts.compact()
