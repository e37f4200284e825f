"""Celery tasks of the findings lifecycle (see apps/findings/services/lifecycle.py)."""

import logging

from celery import shared_task

from ..services.lifecycle import findings_reopen_expired_acceptances as reopen_expired

logger = logging.getLogger("seculite.findings")


@shared_task(name="apps.findings.jobs.lifecycle.findings_reopen_expired_acceptances")
def findings_reopen_expired_acceptances() -> int:
    """Daily (beat): accepted risks past their expiry become `reopened`."""
    count = reopen_expired()
    if count:
        logger.info("reopened %d findings whose risk acceptance expired", count)
    return count
