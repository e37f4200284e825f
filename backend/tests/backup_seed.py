"""A realistic data set for the backup and restore tests: two organizations with one user per
role (conftest's World), a completed Bandit scan of the vulnerable sample with its raw output in
MEDIA_ROOT, findings with triage history and comments, a cron and a once schedule in
django-celery-beat, API keys, and a scan interrupted mid-run (one tool running on a worker that
will never come back, one still pending).

Used in-process by the restore drill (Celery eager) and by a subprocess on the embedded SQLite
database (`python -c "...; seed(...)"`), so it takes no pytest fixtures."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path


def seed(*, sample: Path, once_in: timedelta = timedelta(seconds=20)) -> dict:
    """Create the data set (Celery must run eagerly); return the ids and API keys the tests use."""
    from django.utils import timezone

    from apps.findings.models import Finding
    from apps.findings.services.triage import finding_comment_create, finding_triage
    from apps.scans.models import Scan, ScanToolResult
    from apps.scans.services.configurations import configuration_create
    from apps.scans.services.execution import scan_launch
    from apps.users.services import api_key_rotate
    from apps.users.tests.factories import TargetFactory
    from conftest import World

    now = timezone.now()
    world = World()
    users = world.users
    # World's scans stand for work finished long ago (their targets are remote Git URLs).
    for scan, result in ((world.scan_a, world.result_a), (world.scan_b, world.result_b)):
        ScanToolResult.objects.filter(pk=result.pk).update(
            status="no_findings", started_at=now - timedelta(days=2), finished_at=now
        )
        Scan.objects.filter(pk=scan.pk).update(
            status="completed", phase="finished", progress=100, finished_at=now
        )

    target = TargetFactory(
        project=world.project_a,
        name="sample-app",
        asset_type="git_repository",
        identifier=str(sample),
        metadata={"branch": "main", "owner": "Équipe Sécurité"},
    )
    nightly, _ = configuration_create(
        project=world.project_a,
        user=users["admin"],
        name="nightly",
        description="Bandit every Monday at 03:17 Europe/Berlin",
        target_assets=[target.pk],
        tools_and_configs=[{"tool_id": "bandit", "overrides": {}}],
        schedule_type="cron",
        schedule="17 3 * * 1",
        timezone="Europe/Berlin",
    )
    completed = scan_launch(configuration=nightly, trigger_type="manual", user=users["member"])
    completed.refresh_from_db()
    if completed.status != "completed":
        raise RuntimeError(f"the seed scan ended {completed.status}: {completed.error_message}")
    findings = list(Finding.objects.filter(first_seen_scan=completed).order_by("pk"))
    if len(findings) < 5:
        raise RuntimeError(f"the seed scan found {len(findings)} findings, expected 5 or more")

    f0, f1, f2, f3, f4 = findings[:5]
    finding_triage(
        finding=f0, user=users["member"], changes={"status": "confirmed"}, note="Reproduced."
    )
    finding_triage(
        finding=f0,
        user=users["admin"],
        changes={"status": "in_progress", "assignee_id": users["member"].pk, "tags": ["backend"]},
        note="Fix planned for the next sprint.",
    )
    finding_triage(
        finding=f1, user=users["admin"], changes={"status": "false_positive"}, note="Test code."
    )
    finding_triage(
        finding=f2,
        user=users["owner"],
        changes={"severity_override": "low", "tags": ["legacy", "internal"]},
        note="Only reachable from the admin network.",
    )
    finding_triage(
        finding=f3,
        user=users["owner"],
        changes={
            "status": "risk_accepted",
            "risk_acceptance_justification": "Mitigated by the WAF rule 942100.",
        },
    )
    finding_triage(finding=f4, user=users["admin"], changes={"status": "resolved"})
    finding_triage(
        finding=f4, user=users["admin"], changes={"status": "reopened"}, note="Still there."
    )
    finding_comment_create(finding=f0, author=users["member"], body="Seen in production logs.")
    finding_comment_create(finding=f0, author=users["admin"], body="Überprüft ✓ — see PR #42.")
    finding_comment_create(finding=f3, author=users["owner"], body="Review again next quarter.")

    once, _ = configuration_create(
        project=world.project_a,
        user=users["admin"],
        name="once soon",
        target_assets=[target.pk],
        tools_and_configs=[{"tool_id": "bandit", "overrides": {}}],
        schedule_type="once",
        schedule=(now + once_in).isoformat(),
    )

    # A scan caught mid-run: Bandit claimed by a worker that will not come back, detect-secrets
    # still queued (its Celery message lives in the broker, which a backup does not hold).
    inflight = Scan.objects.create(
        project=world.project_a,
        configuration=nightly,
        trigger_type="api",
        triggered_by=users["owner"],
        status="running",
        phase="running bandit",
        started_at=now - timedelta(seconds=30),
    )
    ScanToolResult.objects.create(
        scan=inflight,
        tool_id="bandit",
        target=target,
        status="running",
        started_at=now - timedelta(seconds=25),
        heartbeat_at=now,
        attempts=1,
        worker="worker@decommissioned-host",
        celery_task_id="a-task-that-no-broker-holds",
    )
    ScanToolResult.objects.create(
        scan=inflight, tool_id="detect-secrets", target=target, status="pending"
    )

    keys = {role: api_key_rotate(user=users[role]) for role in ("owner", "outsider", "staff")}
    return {
        "keys": keys,
        "project_a": world.project_a.pk,
        "project_b": world.project_b.pk,
        "target": target.pk,
        "nightly": nightly.pk,
        "once": once.pk,
        "completed_scan": completed.pk,
        "inflight_scan": inflight.pk,
        "triaged": [f.pk for f in (f0, f1, f2, f3, f4)],
        "findings": len(findings),
    }
