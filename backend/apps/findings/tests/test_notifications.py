"""Notifications: e-mails (Django's outbox) when a scan ends, for new findings at or above each
user's chosen severity and for assignments; signed webhooks delivered to a real local receiver,
retried with back-off after a failure, logged, and held to the SSRF rules of targets."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from apps.findings.jobs.notifications import notifications_scan_finished, webhook_deliveries_retry
from apps.findings.models import ProjectWebhook, WebhookDelivery
from apps.findings.services import notifications
from apps.findings.tests.reporting import Receiver, make_finding
from apps.scans.models import ScanToolResult
from apps.scans.services import execution

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.SECULITE_ALLOWED_PRIVATE_TARGETS = ["127.0.0.0/8"]
    server = Receiver()
    yield server
    server.close()


def verify_signature(request: dict, secret: str) -> None:
    """What a receiver does: recompute the HMAC over `<timestamp>.<raw body>`."""
    timestamp = request["headers"]["x-seculite-timestamp"]
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + request["body"], hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(request["headers"]["x-seculite-signature"], f"sha256={expected}")
    assert abs(int(timestamp) - timezone.now().timestamp()) < 60


def set_prefs(user, **prefs):
    profile = user.profile
    profile.notification_preferences = {**profile.notification_preferences, **prefs}
    profile.save()


def finish_scan(world, capture, *, status="completed"):
    """End the world's running scan A the way the engine does, running what it queues."""
    ScanToolResult.objects.filter(pk=world.result_a.pk).update(
        status=status,
        finished_at=timezone.now(),
        error_message="exit 2" if status == "failed" else "",
    )
    with capture(execute=True):
        assert execution.scan_maybe_finish(scan_id=world.scan_a.pk)
    world.scan_a.refresh_from_db()
    return world.scan_a


def new_finding(world, severity):
    return make_finding(
        project=world.project_a,
        target=world.repo_a,
        first_scan=world.scan_a,
        last_scan=world.scan_a,
        severity=severity,
        tool_result=world.result_a,
    )


def create_webhook(api_client, world, url, **fields):
    api_client.force_authenticate(world.users["admin"])
    response = api_client.post(
        f"/api/v1/projects/{world.project_a.pk}/webhooks/",
        {"name": "security-channel", "url": url, **fields},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


# --- e-mail ------------------------------------------------------------------------------------
def test_scan_completed_emails_the_members_who_asked(world, django_capture_on_commit_callbacks):
    set_prefs(world.users["auditor"], email_scan_completed=False, email_new_findings=False)
    scan = finish_scan(world, django_capture_on_commit_callbacks)
    assert scan.status == "completed"
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == [f"{r}@example.org" for r in ("admin", "member", "owner")]
    message = mail.outbox[0]
    assert message.subject == f"[SecuLite] Scan #{scan.pk} of Project A completed"
    assert f"/scans/{scan.pk}" in message.body
    assert "By severity: critical 0, high 0" in message.body


def test_a_scan_is_notified_once(world, django_capture_on_commit_callbacks):
    """A redelivered message or the reaper dispatching a scan again sends nothing more."""
    scan = finish_scan(world, django_capture_on_commit_callbacks)
    sent = len(mail.outbox)
    assert sent == 4 and scan.notified_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_scan_finished(scan.pk) == {"emails": 0, "deliveries": 0}
    assert len(mail.outbox) == sent


def test_a_scan_that_ends_while_the_broker_is_down_is_notified_by_the_reaper(
    world, django_capture_on_commit_callbacks, monkeypatch, settings, caplog
):
    import kombu.exceptions

    def broker_down(*args, **kwargs):
        raise kombu.exceptions.OperationalError("Error 111 connecting to redis:6379.")

    monkeypatch.setattr(notifications_scan_finished, "delay", broker_down)
    scan = finish_scan(world, django_capture_on_commit_callbacks)  # no error raised
    assert scan.status == "completed" and scan.notified_at is None
    assert mail.outbox == []
    assert "not queued, the broker is unavailable" in caplog.text
    monkeypatch.undo()

    # Too early (the message may still be on its way), then sent once, then never again.
    assert notifications.scans_notify_missed(now=scan.finished_at) == 0
    later = scan.finished_at + timedelta(seconds=settings.SECULITE_REDISPATCH_SECONDS + 1)

    def ours() -> int:  # (the reaper also closes the world's other running scan)
        return sum(f"Scan #{scan.pk} " in m.subject for m in mail.outbox)

    with django_capture_on_commit_callbacks(execute=True):
        assert execution.scans_reap(now=later)["notified"] == 1
    assert ours() == 4
    scan.refresh_from_db()
    assert scan.notified_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        assert execution.scans_reap(now=later)["notified"] == 0
    assert ours() == 4
    # A scan that ended more than a day ago is left alone.
    type(scan).objects.filter(pk=scan.pk).update(notified_at=None)
    assert notifications.scans_notify_missed(now=later + timedelta(days=2)) == 0


def test_an_assignment_while_the_broker_is_down_is_notified_by_the_reaper(
    api_client, world, monkeypatch, django_capture_on_commit_callbacks, caplog, settings
):
    """The change is committed with its notice and the request answers (no 500); the e-mail
    waits, and the reaper sends it once the broker is back, once."""
    import kombu.exceptions

    from apps.findings.jobs.notifications import notifications_findings_assigned
    from apps.findings.models import AssignmentNotice

    def broker_down(*args, **kwargs):
        raise kombu.exceptions.OperationalError("Error 111 connecting to redis:6379.")

    monkeypatch.setattr(notifications_findings_assigned, "delay", broker_down)
    finding = new_finding(world, "high")
    api_client.force_authenticate(world.users["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.patch(
            f"/api/v1/findings/{finding.pk}/",
            {"assignee_id": world.users["member"].pk},
            format="json",
        )
    assert response.status_code == 200, response.json()
    finding.refresh_from_db()
    assert finding.assignee == world.users["member"]
    assert mail.outbox == []
    assert "findings_assigned not queued" in caplog.text
    monkeypatch.undo()

    notice = AssignmentNotice.objects.get()
    assert (notice.finding_ids, notice.assignee, notice.actor) == (
        [finding.pk],
        world.users["member"],
        world.users["admin"],
    )
    # Too early (the message may still be on its way), then sent once, then never again.
    assert notifications.assignments_notify_missed(now=notice.created_at) == 0
    later = notice.created_at + timedelta(seconds=settings.SECULITE_REDISPATCH_SECONDS + 1)

    def assigned() -> list:  # (the reaper also closes the world's running scan, which e-mails)
        return [m for m in mail.outbox if m.subject.endswith("was assigned to you")]

    with django_capture_on_commit_callbacks(execute=True):
        assert execution.scans_reap(now=later)["assignments_notified"] == 1
    [message] = assigned()
    assert message.to == ["member@example.org"] and "admin assigned you 1 finding" in message.body
    with django_capture_on_commit_callbacks(execute=True):
        assert execution.scans_reap(now=later)["assignments_notified"] == 0
        assert notifications_findings_assigned(notice.pk) == {"emails": 0, "deliveries": 0}
    assert len(assigned()) == 1
    # A day later the notice is gone.
    assert notifications.assignments_notify_missed(now=later + timedelta(days=1)) == 0
    assert not AssignmentNotice.objects.exists()


def test_an_undispatched_notice_older_than_a_day_is_dropped(world):
    from apps.findings.models import AssignmentNotice

    finding = new_finding(world, "high")
    old = timezone.now() - timedelta(days=2)
    AssignmentNotice.objects.create(
        assignee=world.users["member"], finding_ids=[finding.pk], created_at=old
    )
    assert notifications.assignments_notify_missed() == 0
    assert not AssignmentNotice.objects.exists() and mail.outbox == []


def test_an_assignment_task_queued_by_the_previous_version_still_sends(
    world, django_capture_on_commit_callbacks
):
    """Before notices, the task carried (finding_ids, assignee_id, actor_id)."""
    from apps.findings.jobs.notifications import notifications_findings_assigned

    finding = new_finding(world, "high")
    member, admin = world.users["member"], world.users["admin"]
    type(finding).objects.filter(pk=finding.pk).update(assignee=member)
    with django_capture_on_commit_callbacks(execute=True):
        report = notifications_findings_assigned([finding.pk], member.pk, admin.pk)
    assert report["emails"] == 1
    [message] = mail.outbox
    assert "admin assigned you 1 finding" in message.body


def test_new_findings_at_or_above_each_users_threshold(world, django_capture_on_commit_callbacks):
    new_finding(world, "critical")
    new_finding(world, "medium")
    new_finding(world, "low")
    set_prefs(
        world.users["member"],
        email_scan_completed=False,
        email_new_findings_min_severity="critical",
    )
    set_prefs(
        world.users["admin"], email_scan_completed=False, email_new_findings_min_severity="medium"
    )
    set_prefs(world.users["owner"], email_scan_completed=False, email_new_findings=False)
    set_prefs(world.users["auditor"], email_new_findings_min_severity="info")
    finish_scan(world, django_capture_on_commit_callbacks)
    by_user = {m.to[0].split("@")[0]: m for m in mail.outbox}
    assert set(by_user) == {"member", "admin", "auditor"}
    assert by_user["member"].subject.endswith(": 1 new finding (critical or above)")
    assert "[CRITICAL]" in by_user["member"].body and "[MEDIUM]" not in by_user["member"].body
    assert by_user["admin"].subject.endswith(": 2 new findings (medium or above)")
    assert "[LOW]" not in by_user["admin"].body
    # The auditor wants both: one e-mail with the scan's status and its new findings.
    assert by_user["auditor"].subject.endswith(": 3 new findings (info or above)")
    assert "By severity:" in by_user["auditor"].body


def test_no_new_findings_above_the_threshold_means_no_email(
    world, django_capture_on_commit_callbacks
):
    new_finding(world, "low")
    for user in ("owner", "admin", "member", "auditor"):
        set_prefs(world.users[user], email_scan_completed=False)
    finish_scan(world, django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_scan_failed_emails_and_cancelled_scans_notify_nobody(
    world, django_capture_on_commit_callbacks
):
    set_prefs(world.users["member"], email_scan_failed=False)
    scan = finish_scan(world, django_capture_on_commit_callbacks, status="failed")
    assert scan.status == "failed"
    assert sorted(m.to[0] for m in mail.outbox) == [
        f"{r}@example.org" for r in ("admin", "auditor", "owner")
    ]
    assert mail.outbox[0].subject == f"[SecuLite] Scan #{scan.pk} of Project A failed"
    assert "exit 2" in mail.outbox[0].body
    mail.outbox.clear()
    scan.status = "cancelled"
    scan.save()
    notifications_scan_finished.delay(scan.pk)
    assert mail.outbox == []


def test_email_goes_through_the_configured_backend(world, settings):
    """The service uses Django's mail API: whatever EMAIL_BACKEND is (the system settings' SMTP
    backend in production) sends it."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    notifications.email_send(recipient="x@example.org", subject="s", body="b")
    assert [m.to for m in mail.outbox] == [["x@example.org"]]


def test_assignment_emails_the_assignee(world, django_capture_on_commit_callbacks):
    finding = new_finding(world, "high")
    member, admin = world.users["member"], world.users["admin"]
    finding.assignee = member
    finding.save()
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify_finding_assigned(finding, member, admin)
    [message] = mail.outbox
    assert message.to == ["member@example.org"]
    assert message.subject == f"[SecuLite] {finding.title} was assigned to you"
    assert "admin assigned you 1 finding" in message.body
    assert f"/findings/{finding.pk}" in message.body
    mail.outbox.clear()
    # Assigning oneself, or opting out, sends nothing.
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify_finding_assigned(finding=finding, assignee=member, actor=member)
    set_prefs(member, email_finding_assigned=False)
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify_finding_assigned(finding, member, admin)
    assert mail.outbox == []


def test_a_title_with_line_breaks_makes_a_one_line_subject(
    world, django_capture_on_commit_callbacks
):
    finding = new_finding(world, "high")
    finding.title = "Injected\r\nBcc: victim@example.org"
    finding.assignee = world.users["member"]
    finding.save()
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify_finding_assigned(finding, world.users["member"], None)
    [message] = mail.outbox
    assert message.subject == "[SecuLite] Injected Bcc: victim@example.org was assigned to you"
    assert message.recipients() == ["member@example.org"]


def test_a_bulk_assignment_sends_one_email(world, django_capture_on_commit_callbacks):
    findings = [new_finding(world, s) for s in ("critical", "low", "medium")]
    owner = world.users["owner"]
    for f in findings:
        f.assignee = owner
        f.save()
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify_findings_assigned(
            finding_ids=[f.pk for f in findings], assignee=owner, actor=world.users["member"]
        )
    [message] = mail.outbox
    assert message.subject == "[SecuLite] 3 findings were assigned to you"
    lines = [line for line in message.body.splitlines() if line.startswith("- [")]
    assert [line.split("]")[0] for line in lines] == ["- [CRITICAL", "- [MEDIUM", "- [LOW"]


def test_nothing_is_queued_before_the_commit(world, django_capture_on_commit_callbacks):
    finding = new_finding(world, "high")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notifications.notify_finding_assigned(finding, world.users["member"], None)
    assert len(callbacks) == 1 and mail.outbox == []


# --- webhooks ----------------------------------------------------------------------------------
def test_webhook_is_signed_delivered_and_retried_after_a_failure(
    api_client, world, receiver, settings, django_capture_on_commit_callbacks
):
    settings.SECULITE_WEBHOOK_RETRY_SECONDS = 30
    receiver.codes = [500, 200]
    created = create_webhook(api_client, world, receiver.url, events=["scan_completed"])
    secret = created["secret"]
    assert len(secret) >= 40

    before = timezone.now()
    scan = finish_scan(world, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "scan_completed"
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 500)
    assert delivery.error == "HTTP 500: receiver exploded"
    # Back-off: the next attempt is due RETRY_SECONDS later, not before.
    wait = delivery.next_attempt_at - before
    assert timedelta(seconds=29) < wait < timedelta(seconds=40)
    assert webhook_deliveries_retry.delay().get() == 0
    assert len(receiver.requests) == 1

    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert webhook_deliveries_retry.delay().get() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 2, 200)
    assert delivery.error == "" and delivery.delivered_at is not None
    assert delivery.next_attempt_at is None

    assert len(receiver.requests) == 2
    for request in receiver.requests:
        verify_signature(request, secret)
        assert request["path"] == "/hooks/seculite?team=sec"
        assert request["headers"]["x-seculite-event"] == "scan_completed"
        assert request["headers"]["x-seculite-delivery"] == str(delivery.pk)
        assert request["headers"]["content-type"] == "application/json"
        body = json.loads(request["body"])
        assert body["event"] == "scan_completed" and body["id"] == delivery.pk
        assert body["data"]["scan"]["id"] == scan.pk
        assert body["data"]["scan"]["status"] == "completed"
    # A tampered body does not verify.
    forged = {**receiver.requests[0], "body": receiver.requests[0]["body"] + b" "}
    with pytest.raises(AssertionError):
        verify_signature(forged, secret)

    log = api_client.get(
        f"/api/v1/projects/{world.project_a.pk}/webhooks/{created['id']}/deliveries/"
    ).json()
    [entry] = log["results"]
    assert entry["status"] == "delivered" and entry["attempts"] == 2


def test_a_delivery_fails_for_good_after_the_last_attempt(
    api_client, world, receiver, settings, django_capture_on_commit_callbacks
):
    settings.SECULITE_WEBHOOK_MAX_ATTEMPTS = 2
    receiver.codes = [503, 503, 200]
    created = create_webhook(api_client, world, receiver.url)
    webhook = ProjectWebhook.objects.get(pk=created["id"])
    with django_capture_on_commit_callbacks(execute=True):
        notifications.webhook_ping(webhook=webhook)
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    webhook_deliveries_retry.delay()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", 2, 503)
    assert delivery.next_attempt_at is None
    assert webhook_deliveries_retry.delay().get() == 0
    assert len(receiver.requests) == 2


def test_new_findings_webhook_respects_its_minimum_severity_and_events(
    api_client, world, receiver, django_capture_on_commit_callbacks
):
    new_finding(world, "critical")
    new_finding(world, "medium")
    create_webhook(
        api_client, world, receiver.url, events=["new_findings"], min_severity="critical"
    )
    create_webhook(api_client, world, receiver.url, events=["scan_failed"])
    finish_scan(world, django_capture_on_commit_callbacks)
    [delivery] = WebhookDelivery.objects.all()
    assert delivery.event == "new_findings" and delivery.status == "delivered"
    assert delivery.payload["count"] == 1
    assert [f["severity"] for f in delivery.payload["findings"]] == ["critical"]
    assert [json.loads(r["body"])["event"] for r in receiver.requests] == ["new_findings"]
    # A redelivered task notifies nobody twice.
    with django_capture_on_commit_callbacks(execute=True):
        notifications_scan_finished.delay(world.scan_a.pk)
    assert WebhookDelivery.objects.count() == 1


def test_slack_and_teams_bodies(api_client, world, receiver, django_capture_on_commit_callbacks):
    slack = create_webhook(api_client, world, receiver.url, kind="slack")
    teams = create_webhook(api_client, world, receiver.url, kind="teams")
    new_finding(world, "critical")
    finish_scan(world, django_capture_on_commit_callbacks)
    bodies = {}
    for request in receiver.requests:
        delivery = WebhookDelivery.objects.get(pk=request["headers"]["x-seculite-delivery"])
        secret = {slack["id"]: slack["secret"], teams["id"]: teams["secret"]}[delivery.webhook_id]
        verify_signature(request, secret)
        bodies[(delivery.webhook_id, delivery.event)] = json.loads(request["body"])
    slack_body = bodies[(slack["id"], "scan_completed")]
    assert set(slack_body) == {"text"} and "Project A completed" in slack_body["text"]
    assert "[CRITICAL]" in bodies[(slack["id"], "new_findings")]["text"]
    card = bodies[(teams["id"], "new_findings")]
    assert card["@type"] == "MessageCard" and card["title"] == "SecuLite: new findings"
    assert "1 new finding at high or above" in card["summary"]


def test_finding_assigned_webhook(api_client, world, receiver, django_capture_on_commit_callbacks):
    create_webhook(api_client, world, receiver.url, events=["finding_assigned"], min_severity="low")
    finding = new_finding(world, "medium")
    finding.assignee = world.users["member"]
    finding.save()
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify_finding_assigned(finding, world.users["member"], world.users["owner"])
    [request] = receiver.requests
    data = json.loads(request["body"])["data"]
    assert data["assignee"]["username"] == "member" and data["actor"]["username"] == "owner"
    assert [f["id"] for f in data["findings"]] == [finding.pk]


def test_webhook_urls_follow_the_ssrf_rules_of_targets(api_client, world, settings):
    settings.SECULITE_ALLOWED_PRIVATE_TARGETS = []
    api_client.force_authenticate(world.users["owner"])
    url = f"/api/v1/projects/{world.project_a.pk}/webhooks/"
    for bad in (
        "http://127.0.0.1:8000/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/hook",
        "http://[::1]/hook",
        "http://0x7f000001/hook",
        "ftp://93.184.216.34/hook",
        "https://user:pw@93.184.216.34/hook",
        "http://[::1/hook",  # urllib's ValueError: a field error, not a 500
    ):
        response = api_client.post(url, {"name": "x", "url": bad}, format="json")
        assert response.status_code == 400, bad
        assert "url" in response.json()["errors"], bad
    response = api_client.post(
        url, {"name": "x", "url": "https://93.184.216.34/hook"}, format="json"
    )
    assert response.status_code == 201


def test_the_address_is_checked_again_when_sending(
    api_client, world, receiver, settings, django_capture_on_commit_callbacks
):
    created = create_webhook(api_client, world, receiver.url)
    settings.SECULITE_ALLOWED_PRIVATE_TARGETS = []
    webhook = ProjectWebhook.objects.get(pk=created["id"])
    with django_capture_on_commit_callbacks(execute=True):
        notifications.webhook_ping(webhook=webhook)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.response_code is None
    assert "SECULITE_ALLOWED_PRIVATE_TARGETS" in delivery.error
    assert receiver.requests == []


def test_webhook_api_secret_is_shown_once_and_urls_are_redacted_below_admin(
    api_client, world, receiver, django_capture_on_commit_callbacks
):
    created = create_webhook(api_client, world, receiver.url, events=["scan_completed"])
    base = f"/api/v1/projects/{world.project_a.pk}/webhooks/"
    detail = f"{base}{created['id']}/"
    assert "secret" not in api_client.get(detail).json()
    assert api_client.get(detail).json()["url"] == receiver.url
    assert all("secret" not in w for w in api_client.get(base).json()["results"])

    api_client.force_authenticate(world.users["member"])
    seen = api_client.get(detail).json()
    assert seen["url"] == "http://127.0.0.1/…" and "secret" not in seen
    assert api_client.patch(detail, {"name": "x"}, format="json").status_code == 403
    assert api_client.post(f"{detail}ping/").status_code == 403

    api_client.force_authenticate(world.users["owner"])
    rotated = api_client.post(f"{detail}rotate-secret/").json()
    assert rotated["secret"] != created["secret"]
    # The ping is queued: nothing is sent while the request runs.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_client.post(f"{detail}ping/")
    assert response.status_code == 202 and response.json()["status"] == "pending"
    assert receiver.requests == []
    for callback in callbacks:
        callback()
    [request] = receiver.requests
    verify_signature(request, rotated["secret"])
    assert request["headers"]["x-seculite-event"] == "ping"

    delivery_id = response.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        again = api_client.post(f"{detail}deliveries/{delivery_id}/redeliver/")
    assert again.status_code == 202 and again.json()["id"] != delivery_id
    assert len(receiver.requests) == 2
    log = api_client.get(f"{detail}deliveries/?event=ping").json()["results"]
    assert [d["status"] for d in log] == ["delivered", "delivered"]

    response = api_client.patch(detail, {"events": ["nope"]}, format="json")
    assert response.status_code == 400
    response = api_client.patch(detail, {"is_active": False, "kind": "slack"}, format="json")
    assert response.status_code == 200 and response.json()["kind"] == "slack"
    assert api_client.get(detail).json()["last_delivery_status"] == "delivered"
    assert api_client.delete(detail).status_code == 204
    assert not ProjectWebhook.objects.filter(pk=created["id"]).exists()


def test_assigning_through_the_api_emails_the_assignee_once(
    api_client, world, django_capture_on_commit_callbacks
):
    """PATCH and bulk_update queue the assignment e-mail after commit; re-assigning the same
    person, or unassigning, sends nothing more."""
    findings = [new_finding(world, s) for s in ("high", "low", "medium")]
    admin, member = world.users["admin"], world.users["member"]
    api_client.force_authenticate(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.patch(
            f"/api/v1/findings/{findings[0].pk}/", {"assignee_id": member.pk}, format="json"
        )
    assert response.status_code == 200
    [message] = mail.outbox
    assert message.to == ["member@example.org"]
    assert message.subject == f"[SecuLite] {findings[0].title} was assigned to you"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/api/v1/findings/bulk_update/",
            {"ids": [f.pk for f in findings], "changes": {"assignee_id": member.pk}},
            format="json",
        )
    assert response.status_code == 200, response.content
    [message] = mail.outbox  # one e-mail, for the two findings newly assigned
    assert message.subject == "[SecuLite] 2 findings were assigned to you"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        api_client.patch(
            f"/api/v1/findings/{findings[1].pk}/", {"assignee_id": None}, format="json"
        )
    assert mail.outbox == []


def test_the_delivery_log_filters_are_validated(api_client, world, receiver):
    """Found by schemathesis (verify/test_fuzz.py): `?status=%00` reached PostgreSQL as it was,
    a DataError answered 503; the filters are validated now."""
    created = create_webhook(api_client, world, receiver.url)
    webhook = ProjectWebhook.objects.get(pk=created["id"])
    WebhookDelivery.objects.create(webhook=webhook, event="ping", payload={}, status="failed")
    url = f"/api/v1/projects/{world.project_a.pk}/webhooks/{webhook.pk}/deliveries/"
    for query in ("status=%00", "event=a%00b", "status=bogus", "event=" + "x" * 41):
        answer = api_client.get(f"{url}?{query}")
        assert answer.status_code == 400, (query, answer.json())
        assert set(answer.json()) == {"detail", "errors", "error_code"}
    assert len(api_client.get(f"{url}?status=failed&event=ping").json()["results"]) == 1
    assert api_client.get(f"{url}?status=delivered").json()["results"] == []
    assert len(api_client.get(f"{url}?status=").json()["results"]) == 1
