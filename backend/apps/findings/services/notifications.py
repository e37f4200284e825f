"""Notifications: e-mails to users (per their profile's preferences) and signed outgoing
webhooks per project, with retries and a delivery log.

Other services only *queue* work here, after their transaction commits:
- `scan_notify_finished(scan_id=...)` when a scan ends (completed -> scan_completed; failed or
  error -> scan_failed; cancelled notifies nobody), which also reports its new findings;
- `notify_finding_assigned(finding, assignee, actor)` (or `notify_findings_assigned` for a
  bulk update) when findings get an assignee.
Celery tasks (apps/findings/jobs/notifications.py) then build the messages and send them; no
request ever waits for SMTP or a remote server.

Webhook requests carry `X-SecuLite-Event`, `X-SecuLite-Delivery` (the delivery id, for the
receiver to drop duplicates), `X-SecuLite-Timestamp` (Unix seconds) and
`X-SecuLite-Signature: sha256=<hex>`, the HMAC-SHA256 with the webhook's secret of
`<timestamp>.<raw body>`. A failed attempt is retried with exponential back-off
(SECULITE_WEBHOOK_RETRY_SECONDS x 2^(attempt-1)) up to SECULITE_WEBHOOK_MAX_ATTEMPTS attempts.
The URL must pass the targets' SSRF rules, checked again at each attempt against the very
address connected to (no DNS rebinding), and redirects are not followed.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import secrets
import socket
import ssl
import time
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core.queueing import queue_after_commit
from apps.projects.validators import check_host, resolve_host
from apps.scans.models import Scan, ScanStatus
from apps.users.models import User, default_notification_preferences

from ..models import (
    SEVERITY_RANK,
    AssignmentNotice,
    Finding,
    ProjectWebhook,
    WebhookDelivery,
    WebhookKind,
)
from .reports import SEVERITIES, effective_severity, severity_counts

logger = logging.getLogger("seculite.notifications")

SCAN_COMPLETED, SCAN_FAILED = "scan_completed", "scan_failed"
NEW_FINDINGS, FINDING_ASSIGNED, PING = "new_findings", "finding_assigned", "ping"
EVENTS = (SCAN_COMPLETED, SCAN_FAILED, NEW_FINDINGS, FINDING_ASSIGNED)
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
#: Findings listed in one e-mail or webhook body (the counts cover all of them).
LISTED = 20
RESPONSE_EXCERPT = 1000


def _setting(name: str, default):
    return getattr(settings, name, default)


def scan_event(status: str) -> str | None:
    if status == ScanStatus.COMPLETED:
        return SCAN_COMPLETED
    if status in (ScanStatus.FAILED, ScanStatus.ERROR):
        return SCAN_FAILED
    return None


def preferences_of(user) -> dict:
    """The user's notification preferences, defaults filled in."""
    prefs = default_notification_preferences()
    try:
        prefs.update(user.profile.notification_preferences or {})
    except User.profile.RelatedObjectDoesNotExist:
        pass
    return prefs


def _link(path: str) -> str:
    return f"{settings.SECULITE_PUBLIC_URL}{path}"


def _at_or_above(counts: dict[str, int], minimum: str) -> int:
    floor = SEVERITY_RANK.get(minimum, SEVERITY_RANK["high"])
    return sum(n for s, n in counts.items() if SEVERITY_RANK[s] >= floor)


def _finding_items(queryset, limit: int = LISTED) -> list[dict]:
    rows = (
        queryset.annotate(effective=effective_severity())
        .order_by("-severity_rank", "-id")
        .values(
            "id",
            "title",
            "effective",
            "status",
            "tool_id",
            "project_id",
            "target_id",
            "file_path",
            "line_start",
            "url",
            "package_name",
            "cve",
        )[:limit]
    )
    items = []
    for row in rows:
        row["severity"] = row.pop("effective")
        row["link"] = _link(f"/findings/{row['id']}")
        items.append(row)
    return items


def _location(item: dict) -> str:
    if item.get("file_path"):
        line = f":{item['line_start']}" if item.get("line_start") else ""
        return f"{item['file_path']}{line}"
    return item.get("url") or item.get("package_name") or ""


def _item_lines(items: list[dict]) -> list[str]:
    lines = []
    for item in items:
        where = _location(item)
        lines.append(
            f"- [{item['severity'].upper()}] {item['title']}" + (f" ({where})" if where else "")
        )
    return lines


# --- entry points (queue work after commit) ---------------------------------------------------
def scan_notify_finished(*, scan_id: int) -> None:
    """Queue the notifications of a finished scan once the current transaction commits."""
    from ..jobs.notifications import notifications_scan_finished

    queue_after_commit(notifications_scan_finished, scan_id)


def scans_notify_missed(*, now=None) -> int:
    """Send again the notifications of scans that finished in the last day without them (the
    broker was down when they ended), SECULITE_REDISPATCH_SECONDS after their end. Dispatch
    claims a scan once (Scan.notified_at), so nothing is sent twice. Returns how many."""
    from ..jobs.notifications import notifications_scan_finished

    now = now or timezone.now()
    quiet = now - timedelta(seconds=settings.SECULITE_REDISPATCH_SECONDS)
    missed = list(
        Scan.objects.filter(
            notified_at__isnull=True,
            finished_at__isnull=False,
            finished_at__gte=now - timedelta(days=1),
            finished_at__lt=quiet,
        ).values_list("pk", flat=True)
    )
    for scan_id in missed:
        notifications_scan_finished.delay(scan_id)
    return len(missed)


def notify_finding_assigned(finding, assignee, actor=None) -> None:
    """Queue the notifications of one finding assigned to `assignee` by `actor` (after
    commit). Unassigning (assignee None) notifies nobody."""
    notify_findings_assigned(finding_ids=[finding.pk], assignee=assignee, actor=actor)


def notify_findings_assigned(*, finding_ids, assignee, actor=None) -> None:
    """The same for many findings (a bulk update): one e-mail and one delivery per webhook."""
    if assignee is None:
        return
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    findings_assigned_queue(finding_ids=finding_ids, assignee_id=assignee.pk, actor_id=actor_id)


def findings_assigned_queue(*, finding_ids, assignee_id: int | None, actor_id=None) -> None:
    """The same by ids (what triage knows): an AssignmentNotice written with the change, and one
    task queued after the commit (none on a rollback). With the broker down, the notice waits
    for the reaper (`assignments_notify_missed`)."""
    from ..jobs.notifications import notifications_findings_assigned

    ids = sorted({int(pk) for pk in finding_ids})
    if assignee_id is None or not ids:
        return
    notice = AssignmentNotice.objects.create(
        assignee_id=assignee_id, actor_id=actor_id, finding_ids=ids, created_at=timezone.now()
    )
    queue_after_commit(notifications_findings_assigned, notice.pk)


def assignment_notice_dispatch(*, notice_id: int) -> dict:
    """Claim the notice (a second dispatch, by the reaper or a redelivered message, sends
    nothing), then notify as `findings_assigned_dispatch`."""
    with transaction.atomic():
        claimed = AssignmentNotice.objects.filter(pk=notice_id, dispatched_at__isnull=True).update(
            dispatched_at=timezone.now()
        )
        notice = AssignmentNotice.objects.filter(pk=notice_id).first() if claimed else None
        if notice is None:
            return {"emails": 0, "deliveries": 0}
        return findings_assigned_dispatch(
            finding_ids=notice.finding_ids, assignee_id=notice.assignee_id, actor_id=notice.actor_id
        )


def assignments_notify_missed(*, now=None) -> int:
    """Queue again the notices of the last day that no task dispatched (the broker was down at
    the commit), SECULITE_REDISPATCH_SECONDS after they were written, and delete the notices
    older than a day (dispatched, or given up: a day-old assignment e-mail would mislead).
    Returns how many were queued."""
    from ..jobs.notifications import notifications_findings_assigned

    now = now or timezone.now()
    quiet = now - timedelta(seconds=settings.SECULITE_REDISPATCH_SECONDS)
    day = now - timedelta(days=1)
    missed = list(
        AssignmentNotice.objects.filter(
            dispatched_at__isnull=True, created_at__gte=day, created_at__lt=quiet
        ).values_list("pk", flat=True)
    )
    for notice_id in missed:
        notifications_findings_assigned.delay(notice_id)
    expired, _ = AssignmentNotice.objects.filter(created_at__lt=day).delete()
    if expired:
        logger.info("assignment notices older than a day deleted: %s", expired)
    return len(missed)


# --- scan finished ---------------------------------------------------------------------------
def _scan_data(scan: Scan) -> dict:
    summary = scan.summary or {}
    return {
        "id": scan.pk,
        "status": scan.status,
        "project_id": scan.project_id,
        "project": scan.project.name,
        "configuration": scan.configuration.name if scan.configuration else None,
        "trigger_type": scan.trigger_type,
        "started_at": scan.started_at.isoformat() if scan.started_at else None,
        "finished_at": scan.finished_at.isoformat() if scan.finished_at else None,
        "total": summary.get("total"),
        "by_severity": summary.get("by_severity"),
        "new": summary.get("new"),
        "error_message": scan.error_message,
        "link": _link(f"/scans/{scan.pk}"),
    }


def _scan_email(scan: Scan, *, status_part: bool, new: list[dict], new_count: int, minimum: str):
    data = _scan_data(scan)
    word = {
        ScanStatus.COMPLETED: "completed",
        ScanStatus.FAILED: "failed",
        ScanStatus.ERROR: "failed (internal error)",
    }.get(scan.status, scan.status)
    subject = f"[SecuLite] Scan #{scan.pk} of {data['project']} {word}"
    if new_count:
        subject += f": {new_count} new finding{'s' if new_count != 1 else ''} ({minimum} or above)"
    lines = [f"Scan #{scan.pk} of {data['project']} ({data['configuration'] or 'import'}) {word}."]
    if status_part:
        counts = data["by_severity"] or {}
        lines += [
            "",
            f"Findings seen: {data['total'] or 0}, new: {data['new'] or 0}",
            "By severity: " + ", ".join(f"{s} {counts.get(s, 0)}" for s in SEVERITIES),
        ]
        if scan.error_message:
            lines += ["", f"Errors: {scan.error_message[:1000]}"]
    if new_count:
        lines += ["", f"{new_count} new finding(s) at {minimum} or above:", *_item_lines(new)]
        if new_count > len(new):
            lines.append(f"... and {new_count - len(new)} more.")
    lines += ["", f"Open the scan: {data['link']}", "", _footer()]
    return subject, "\n".join(lines) + "\n"


def _footer() -> str:
    return (
        "You receive this because of your SecuLite notification preferences; change them "
        f"in your profile: {_link('/profile')}"
    )


def _members(organization_id: int):
    return (
        User.objects.filter(
            memberships__organization_id=organization_id,
            memberships__organization__is_active=True,
            is_active=True,
        )
        .exclude(email="")
        .select_related("profile")
        .order_by("pk")
        .distinct()
    )


def scan_finished_dispatch(*, scan_id: int) -> dict:
    """E-mails to the members of the scan's organization who asked for them, and deliveries
    to the project's webhooks. Returns what was queued.

    Claims the scan first (sets notified_at, in the same transaction as the deliveries and the
    e-mails' queueing): a second dispatch of the same scan, by the reaper or a redelivered
    message, sends nothing."""
    report = {"emails": 0, "deliveries": 0}
    with transaction.atomic():
        claimed = Scan.objects.filter(pk=scan_id, notified_at__isnull=True).update(
            notified_at=timezone.now()
        )
        if not claimed:
            return report
        return _scan_finished_dispatch(scan_id, report)


def _scan_finished_dispatch(scan_id: int, report: dict) -> dict:
    scan = Scan.objects.select_related("project", "configuration").filter(pk=scan_id).first()
    event = scan_event(scan.status) if scan is not None else None
    if event is None:
        return report
    new_qs = Finding.objects.filter(first_seen_scan=scan)
    new_counts = severity_counts(new_qs)
    listed = _finding_items(new_qs, limit=LISTED) if sum(new_counts.values()) else []

    def new_above(minimum: str) -> tuple[list[dict], int]:
        floor = SEVERITY_RANK.get(minimum, SEVERITY_RANK["high"])
        items = [i for i in listed if SEVERITY_RANK[i["severity"]] >= floor]
        return items, _at_or_above(new_counts, minimum)

    for user in _members(scan.project.organization_id):
        prefs = preferences_of(user)
        status_part = bool(
            prefs["email_scan_completed" if event == SCAN_COMPLETED else "email_scan_failed"]
        )
        minimum = prefs.get("email_new_findings_min_severity") or "high"
        items, count = new_above(minimum) if prefs.get("email_new_findings") else ([], 0)
        if not status_part and not count:
            continue
        subject, body = _scan_email(
            scan, status_part=status_part, new=items, new_count=count, minimum=minimum
        )
        email_queue(recipient=user.email, subject=subject, body=body)
        report["emails"] += 1

    data = _scan_data(scan)
    for webhook in _webhooks(scan.project_id):
        if subscribes(webhook, event) and not _delivered_for_scan(webhook, event, scan.pk):
            text = f"Scan #{scan.pk} of {data['project']} {scan.status}"
            if data["total"] is not None:
                text += f": {data['total']} findings, {data['new'] or 0} new"
            webhook_delivery_create(
                webhook=webhook, event=event, payload={"scan": data, "text": text + "."}
            )
            report["deliveries"] += 1
        items, count = new_above(webhook.min_severity)
        if (
            count
            and subscribes(webhook, NEW_FINDINGS)
            and not _delivered_for_scan(webhook, NEW_FINDINGS, scan.pk)
        ):
            text = (
                f"{count} new finding{'s' if count != 1 else ''} at {webhook.min_severity} or "
                f"above in scan #{scan.pk} of {data['project']}:\n" + "\n".join(_item_lines(items))
            )
            payload = {
                "scan": data,
                "min_severity": webhook.min_severity,
                "count": count,
                "by_severity": {
                    s: n
                    for s, n in new_counts.items()
                    if SEVERITY_RANK[s] >= SEVERITY_RANK[webhook.min_severity]
                },
                "findings": items,
                "text": text,
            }
            webhook_delivery_create(webhook=webhook, event=NEW_FINDINGS, payload=payload)
            report["deliveries"] += 1
    return report


def subscribes(webhook: ProjectWebhook, event: str) -> bool:
    """No events listed means every event."""
    return not webhook.events or event in webhook.events


def _webhooks(project_id: int) -> list[ProjectWebhook]:
    return list(ProjectWebhook.objects.filter(project_id=project_id, is_active=True).order_by("pk"))


def _delivered_for_scan(webhook: ProjectWebhook, event: str, scan_id: int) -> bool:
    """A redelivered task must not notify twice."""
    return WebhookDelivery.objects.filter(
        webhook=webhook, event=event, payload__scan__id=scan_id
    ).exists()


# --- findings assigned ----------------------------------------------------------------------
def findings_assigned_dispatch(*, finding_ids: list[int], assignee_id: int, actor_id=None) -> dict:
    """One e-mail to the assignee (unless they assigned themselves or opted out) and one
    delivery per subscribed webhook of each project concerned."""
    report = {"emails": 0, "deliveries": 0}
    assignee = User.objects.filter(pk=assignee_id, is_active=True).first()
    if assignee is None:
        return report
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    # Only findings still assigned to that person (a later change wins).
    findings = Finding.objects.filter(pk__in=finding_ids, assignee_id=assignee_id)
    counts = severity_counts(findings)
    total = sum(counts.values())
    if not total:
        return report
    who = actor.username if actor else "SecuLite"
    if (
        assignee.email
        and (actor is None or actor.pk != assignee.pk)
        and preferences_of(assignee)["email_finding_assigned"]
    ):
        items = _finding_items(findings)
        plural = "s" if total != 1 else ""
        subject = (
            f"[SecuLite] {items[0]['title'][:120]} was assigned to you"
            if total == 1
            else f"[SecuLite] {total} findings were assigned to you"
        )
        lines = [f"{who} assigned you {total} finding{plural}:", "", *_item_lines(items)]
        if total > len(items):
            lines.append(f"... and {total - len(items)} more.")
        if total == 1:
            lines += ["", f"Open it: {items[0]['link']}"]
        lines += ["", _footer()]
        email_queue(recipient=assignee.email, subject=subject, body="\n".join(lines) + "\n")
        report["emails"] += 1
    project_ids = sorted(set(findings.order_by().values_list("project_id", flat=True).distinct()))
    for webhook in ProjectWebhook.objects.filter(
        project_id__in=project_ids, is_active=True
    ).select_related("project"):
        if not subscribes(webhook, FINDING_ASSIGNED):
            continue
        mine = findings.filter(
            project_id=webhook.project_id,
            severity_rank__gte=SEVERITY_RANK[webhook.min_severity],
        )
        count = mine.count()
        if not count:
            continue
        items = _finding_items(mine)
        text = (
            f"{who} assigned {count} finding{'s' if count != 1 else ''} of "
            f"{webhook.project.name} to {assignee.username}:\n" + "\n".join(_item_lines(items))
        )
        webhook_delivery_create(
            webhook=webhook,
            event=FINDING_ASSIGNED,
            payload={
                "project": {"id": webhook.project_id, "name": webhook.project.name},
                "assignee": {"id": assignee.pk, "username": assignee.username},
                "actor": {"id": actor.pk, "username": actor.username} if actor else None,
                "count": count,
                "findings": items,
                "text": text,
            },
        )
        report["deliveries"] += 1
    return report


# --- e-mail -----------------------------------------------------------------------------------
def email_queue(*, recipient: str, subject: str, body: str) -> None:
    """One message per recipient, each sent (and retried) by its own task."""
    from ..jobs.notifications import notification_email_send

    # A subject is one line (titles come from scanner output and may hold line breaks).
    subject = " ".join(subject.split())[:250]
    queue_after_commit(notification_email_send, recipient, subject, body)


def email_send(*, recipient: str, subject: str, body: str) -> None:
    """Through Django's mail API, so the system settings' SMTP backend applies."""
    from django.core.mail import send_mail

    send_mail(subject=subject, message=body, from_email=None, recipient_list=[recipient])


# --- webhooks: configuration ------------------------------------------------------------------
def webhook_url_check(url: str) -> str:
    """http(s), a host that passes the SSRF rules of targets, no credentials."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[::1": an IPv6 host never closed
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"url": ["Use an http:// or https:// URL with a host."]})
    if parts.username or parts.password:
        raise ValidationError(
            {"url": ["Do not put credentials in the URL: receivers check the signature."]}
        )
    try:
        _ = parts.port
    except ValueError:
        raise ValidationError({"url": ["The URL's port is not valid."]}) from None
    check_host(parts.hostname, field="url")
    return url


def _events_check(events) -> list[str]:
    events = list(dict.fromkeys(events or []))
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise ValidationError(
            {
                "events": [
                    f"Unknown events: {', '.join(map(str, unknown))}; use {', '.join(EVENTS)}."
                ]
            }
        )
    return events


def new_secret() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic
def webhook_create(
    *,
    project,
    name: str,
    url: str,
    kind: str = WebhookKind.GENERIC,
    events: list[str] | None = None,
    min_severity: str = "high",
    is_active: bool = True,
) -> tuple[ProjectWebhook, str]:
    """Create a webhook; returns it and its signing secret (shown this once)."""
    secret = new_secret()
    webhook = ProjectWebhook.objects.create(
        project=project,
        name=name,
        url=webhook_url_check(url),
        kind=kind,
        events=_events_check(events),
        min_severity=min_severity,
        is_active=is_active,
        secret=secret,
    )
    return webhook, secret


@transaction.atomic
def webhook_update(*, webhook: ProjectWebhook, **fields) -> ProjectWebhook:
    allowed = {"name", "url", "kind", "events", "min_severity", "is_active"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({f: ["This field cannot be changed."] for f in unknown})
    if "url" in fields:
        fields["url"] = webhook_url_check(fields["url"])
    if "events" in fields:
        fields["events"] = _events_check(fields["events"])
    for name, value in fields.items():
        setattr(webhook, name, value)
    webhook.save()
    return webhook


def webhook_rotate_secret(*, webhook: ProjectWebhook) -> str:
    secret = new_secret()
    ProjectWebhook.objects.filter(pk=webhook.pk).update(secret=secret, updated_at=timezone.now())
    webhook.secret = secret
    return secret


def webhook_delete(*, webhook: ProjectWebhook) -> None:
    webhook.delete()


def webhook_ping(*, webhook: ProjectWebhook, user=None) -> WebhookDelivery:
    """A test delivery (event `ping`), whatever the webhook subscribes to."""
    who = getattr(user, "username", "") or "SecuLite"
    return webhook_delivery_create(
        webhook=webhook,
        event=PING,
        payload={
            "project": {"id": webhook.project_id, "name": webhook.project.name},
            "webhook": {"id": webhook.pk, "name": webhook.name},
            "text": f"Test delivery of the SecuLite webhook '{webhook.name}', sent by {who}.",
        },
    )


# --- webhooks: deliveries ---------------------------------------------------------------------
def _lease() -> timedelta:
    """While an attempt is in flight its delivery is not due again."""
    return timedelta(seconds=_setting("SECULITE_WEBHOOK_TIMEOUT", 10) * 2 + 60)


def retry_delay(attempts: int) -> timedelta:
    base = _setting("SECULITE_WEBHOOK_RETRY_SECONDS", 60)
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 24 * 3600))


def webhook_delivery_create(*, webhook: ProjectWebhook, event: str, payload: dict):
    """Log a pending delivery and queue its first attempt after commit."""
    from ..jobs.notifications import webhook_deliver

    delivery = WebhookDelivery.objects.create(
        webhook=webhook,
        event=event,
        payload=payload,
        status=PENDING,
        next_attempt_at=timezone.now() + _lease(),
    )
    queue_after_commit(webhook_deliver, delivery.pk)  # or the sweep of due deliveries
    return delivery


def webhook_body(delivery: WebhookDelivery) -> bytes:
    """The request body for the webhook's kind: generic JSON, or a Slack / Teams message."""
    payload = delivery.payload or {}
    text = payload.get("text") or delivery.event
    kind = delivery.webhook.kind
    if kind == WebhookKind.SLACK:
        body: dict = {"text": text}
    elif kind == WebhookKind.TEAMS:
        body = {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": text.splitlines()[0][:200],
            "title": f"SecuLite: {delivery.event.replace('_', ' ')}",
            "text": text.replace("\n", "  \n"),
        }
    else:
        body = {
            "id": delivery.pk,
            "event": delivery.event,
            "created_at": delivery.created_at.isoformat(),
            "data": payload,
        }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>`: HMAC-SHA256 of `<timestamp>.<body>` with the webhook's secret."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address checked beforehand, whatever DNS says now."""

    def __init__(self, host, port, *, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, *, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST once; returns (status, response excerpt). Raises ValidationError (address not
    allowed) or OSError / HTTPException (network)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses = resolve_host(host)
    except (OSError, UnicodeError):
        raise ValidationError({"url": [f"The host '{host}' does not resolve."]}) from None
    check_host(host, field="url", resolver=lambda _h: addresses)
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    cls = _PinnedHTTPSConnection if secure else _PinnedHTTPConnection
    connection = cls(
        host, port, address=addresses[0], timeout=_setting("SECULITE_WEBHOOK_TIMEOUT", 10)
    )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        excerpt = response.read(RESPONSE_EXCERPT).decode("utf-8", "replace")
        return response.status, excerpt
    finally:
        connection.close()


def webhook_delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """One attempt of a pending delivery: sign, POST, log the answer; a failure is retried
    later with back-off until the last attempt, then the delivery is `failed`."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("webhook", "webhook__project")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != PENDING:
            return delivery
        delivery.attempts += 1
        delivery.next_attempt_at = timezone.now() + _lease()
        delivery.save(update_fields=["attempts", "next_attempt_at", "updated_at"])
    webhook = delivery.webhook
    code, error = None, ""
    if not webhook.is_active:
        error = "The webhook is disabled."
    else:
        body = webhook_body(delivery)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "SecuLite-Webhook/1",
            "X-SecuLite-Event": delivery.event,
            "X-SecuLite-Delivery": str(delivery.pk),
            "X-SecuLite-Timestamp": timestamp,
            "X-SecuLite-Signature": webhook_signature(webhook.secret, timestamp, body),
        }
        try:
            code, excerpt = _post(webhook.url, body, headers)
            if not 200 <= code < 300:
                error = f"HTTP {code}: {excerpt}".strip()
        except ValidationError as exc:
            error = "; ".join(exc.messages)
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
    now = timezone.now()
    delivery.response_code = code
    if not error:
        delivery.status, delivery.error = DELIVERED, ""
        delivery.delivered_at, delivery.next_attempt_at = now, None
    else:
        delivery.error = error[:2000]
        last = delivery.attempts >= _setting("SECULITE_WEBHOOK_MAX_ATTEMPTS", 6)
        if last or not webhook.is_active:
            delivery.status, delivery.next_attempt_at = FAILED, None
        else:
            delivery.next_attempt_at = now + retry_delay(delivery.attempts)
        logger.info(
            "webhook %s delivery %s attempt %s failed: %s",
            webhook.pk,
            delivery.pk,
            delivery.attempts,
            delivery.error[:200],
        )
    delivery.save(
        update_fields=[
            "status",
            "response_code",
            "error",
            "delivered_at",
            "next_attempt_at",
            "updated_at",
        ]
    )
    return delivery


def webhook_deliveries_due(*, now=None, limit: int = 200) -> list[int]:
    """Claim the pending deliveries whose next attempt is due (leased, so that the next beat
    does not queue them again) and return their ids."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        WebhookDelivery.objects.filter(pk__in=ids).update(
            next_attempt_at=now + _lease(), updated_at=now
        )
    return ids
