"""Authorization rows of exports, reports, dashboards and project webhooks.

Exports, reports and dashboards are reads: every role, auditors included. Webhooks are read by
every role (URL redacted below admin) and managed by admins and owners."""

from tests.test_authorization_matrix import USER, Spec, k_project, k_project_nested, project


def k_scan_after_another(w, side):
    """A scan with an earlier finished scan of the same configuration (the default base)."""
    from apps.scans.models import Scan

    earlier = w.scan_a if side == "a" else w.scan_b
    earlier.status = "completed"
    earlier.save()
    later = Scan.objects.create(
        project=earlier.project,
        configuration=earlier.configuration,
        trigger_type="manual",
        status="completed",
    )
    return {"pk": later.pk}


def k_scan(w, side):
    return {"pk": (w.scan_a if side == "a" else w.scan_b).pk}


def webhook(w, side):
    from apps.findings.models import ProjectWebhook

    return ProjectWebhook.objects.create(
        project=project(w, side),
        name=f"hook-{side}",
        url="https://93.184.216.34/hook",
        secret="not-a-real-secret",
    )


def k_webhook(w, side):
    return {"project_pk": project(w, side).pk, "pk": webhook(w, side).pk}


def k_delivery(w, side):
    from apps.findings.models import WebhookDelivery

    hook = webhook(w, side)
    delivery = WebhookDelivery.objects.create(
        webhook=hook, event="ping", payload={"text": "hi"}, status="failed"
    )
    return {"project_pk": project(w, side).pk, "pk": hook.pk, "delivery_pk": delivery.pk}


def b_webhook(w, side):
    # A public address literal: valid without DNS.
    return {"name": "chat", "url": "https://93.184.216.34/hook", "kind": "slack"}


MATRIX = {
    # Exports, reports and dashboards (reads)
    ("finding-export", "GET"): Spec(USER, 200),
    ("scan-export", "GET"): Spec("auditor", 200, setup=k_scan),
    ("scan-report", "GET"): Spec("auditor", 200, setup=k_scan),
    ("scan-compare", "GET"): Spec("auditor", 200, setup=k_scan_after_another),
    ("project-export", "GET"): Spec("auditor", 200, setup=k_project),
    ("project-posture", "GET"): Spec("auditor", 200, setup=k_project),
    ("dashboard-summary", "GET"): Spec(USER, 200),
    ("dashboard-trend", "GET"): Spec(USER, 200),
    # Project webhooks
    ("project-webhook-list", "GET"): Spec("auditor", 200, setup=k_project_nested),
    ("project-webhook-list", "POST"): Spec("admin", 201, setup=k_project_nested, body=b_webhook),
    ("project-webhook-detail", "GET"): Spec("auditor", 200, setup=k_webhook),
    ("project-webhook-detail", "PUT"): Spec("admin", 200, setup=k_webhook, body=b_webhook),
    ("project-webhook-detail", "PATCH"): Spec(
        "admin", 200, setup=k_webhook, body=lambda w, s: {"is_active": False}
    ),
    ("project-webhook-detail", "DELETE"): Spec("admin", 204, setup=k_webhook),
    ("project-webhook-rotate-secret", "POST"): Spec("admin", 200, setup=k_webhook),
    ("project-webhook-ping", "POST"): Spec("admin", 202, setup=k_webhook),
    ("project-webhook-deliveries", "GET"): Spec("auditor", 200, setup=k_webhook),
    ("project-webhook-redeliver", "POST"): Spec("admin", 202, setup=k_delivery),
}
