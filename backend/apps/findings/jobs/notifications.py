"""Celery tasks: notifications (see apps/findings/services/notifications.py). Every e-mail and
every webhook attempt is its own task, retried on its own."""

import smtplib

from celery import shared_task

from ..services import notifications


@shared_task(
    name="apps.findings.jobs.notifications.notifications_scan_finished", ignore_result=True
)
def notifications_scan_finished(scan_id: int) -> dict:
    """E-mails and webhook deliveries for a scan that ended."""
    return notifications.scan_finished_dispatch(scan_id=scan_id)


@shared_task(
    name="apps.findings.jobs.notifications.notifications_findings_assigned", ignore_result=True
)
def notifications_findings_assigned(notice_id, *queued_before) -> dict:
    """E-mail and webhook deliveries of an AssignmentNotice. A task queued by an earlier version
    carries (finding_ids, assignee_id, actor_id) instead, and is dispatched as it is."""
    if queued_before or isinstance(notice_id, list):
        assignee_id, actor_id = [*queued_before, None, None][:2]
        return notifications.findings_assigned_dispatch(
            finding_ids=notice_id, assignee_id=assignee_id, actor_id=actor_id
        )
    return notifications.assignment_notice_dispatch(notice_id=notice_id)


@shared_task(
    name="apps.findings.jobs.notifications.notification_email_send",
    autoretry_for=(OSError, smtplib.SMTPException),
    retry_backoff=True,
    retry_backoff_max=3600,
    max_retries=6,
    ignore_result=True,
)
def notification_email_send(recipient: str, subject: str, body: str) -> None:
    notifications.email_send(recipient=recipient, subject=subject, body=body)


@shared_task(
    name="apps.findings.jobs.notifications.webhook_deliver",
    ignore_result=True,
    soft_time_limit=120,
    time_limit=150,
)
def webhook_deliver(delivery_id: int) -> None:
    """One attempt; a failure is logged on the delivery and retried by the beat task."""
    notifications.webhook_delivery_attempt(delivery_id=delivery_id)


@shared_task(name="apps.findings.jobs.notifications.webhook_deliveries_retry", ignore_result=True)
def webhook_deliveries_retry() -> int:
    """Every minute (beat): queue the attempts of deliveries whose back-off has passed."""
    ids = notifications.webhook_deliveries_due()
    for delivery_id in ids:
        webhook_deliver.delay(delivery_id)
    return len(ids)
