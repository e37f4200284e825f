"""Celery tasks: retention (see apps/findings/services/retention.py)."""

from celery import shared_task

from ..services import retention


@shared_task(name="apps.findings.jobs.retention.retention_purge", ignore_result=True)
def retention_purge() -> dict:
    """Nightly (beat): purge old raw scanner output and old closed findings."""
    return retention.retention_purge()
