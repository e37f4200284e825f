"""The findings lifecycle through the real services: ingestion of scanner records, the engine's
scan finish, triage through the API and the daily expiry task."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.models import SystemSettings
from apps.findings.jobs.lifecycle import findings_reopen_expired_acceptances
from apps.findings.models import Finding, FindingHistory
from apps.findings.services.lifecycle import findings_lifecycle_close_scan, sla_due_date

from .lifecycle_helpers import bandit, records, run_scan

pytestmark = pytest.mark.django_db

ABC = ("alpha", "bravo", "charlie")


def by_title():
    return {f.title: f for f in Finding.objects.all()}


def status_history(finding):
    return list(
        FindingHistory.objects.filter(finding=finding, field="status")
        .order_by("created_at", "id")
        .values_list("old_value", "new_value", "scan_id", "actor_id")
    )


@pytest.fixture
def member(api_client, world):
    api_client.force_authenticate(world.users["member"])
    return api_client


def patch(client, finding, **body):
    response = client.patch(f"/api/v1/findings/{finding.pk}/", body, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def test_a_rescan_with_one_finding_fixed_auto_resolves_it(world):
    first = run_scan(world, bandit(world, records(*ABC)))
    assert first.status == "completed"
    assert {f.status for f in by_title().values()} == {"new"}
    assert first.summary["resolved"] == 0 and first.summary["new"] == 3

    second = run_scan(world, bandit(world, records("alpha", "bravo")))
    found = by_title()
    fixed = found["charlie"]
    assert fixed.status == "auto_resolved"
    assert fixed.resolved_at_scan_id == second.pk
    assert fixed.resolved_at is not None
    assert fixed.last_seen_scan_id == first.pk
    assert found["alpha"].status == found["bravo"].status == "new"
    assert found["alpha"].last_seen_scan_id == second.pk
    assert second.summary["resolved"] == 1 and second.summary["reopened"] == 0
    assert status_history(fixed) == [("new", "auto_resolved", second.pk, None)]
    assert status_history(found["alpha"]) == []


def test_a_fixed_finding_that_comes_back_is_reopened(world):
    run_scan(world, bandit(world, records(*ABC)))
    second = run_scan(world, bandit(world, records("alpha", "bravo")))
    third = run_scan(world, bandit(world, records(*ABC)))
    back = by_title()["charlie"]
    assert back.status == "reopened"
    assert back.resolved_at is None and back.resolved_at_scan_id is None
    assert back.last_seen_scan_id == third.pk
    assert third.summary["reopened"] == 1 and third.summary["resolved"] == 0
    assert status_history(back) == [
        ("new", "auto_resolved", second.pk, None),
        ("auto_resolved", "reopened", third.pk, None),
    ]
    # A reopened finding is open: missing again, it is resolved again.
    fourth = run_scan(world, bandit(world, records("alpha", "bravo")))
    assert by_title()["charlie"].status == "auto_resolved"
    assert by_title()["charlie"].resolved_at_scan_id == fourth.pk


def test_a_manually_resolved_finding_seen_again_is_reopened(world, member):
    run_scan(world, bandit(world, records(*ABC)))
    patch(member, by_title()["alpha"], status="resolved", note="fixed in #12")
    resolved = by_title()["alpha"]
    assert resolved.status == "resolved" and resolved.resolved_at is not None
    again = run_scan(world, bandit(world, records(*ABC)))
    assert by_title()["alpha"].status == "reopened"
    assert status_history(resolved)[-1] == ("resolved", "reopened", again.pk, None)


def test_a_false_positive_stays_false_positive_after_three_rescans(world, member):
    run_scan(world, bandit(world, records(*ABC)))
    patch(member, by_title()["alpha"], status="false_positive", note="test code")
    accepted_until = (timezone.now() + timedelta(days=30)).isoformat()
    patch(
        member,
        by_title()["bravo"],
        status="risk_accepted",
        risk_acceptance_justification="behind the VPN",
        risk_acceptance_expires_at=accepted_until,
    )
    # Seen, not seen, seen: neither is resolved nor reopened by any of them.
    for found in (records(*ABC), records("charlie"), records(*ABC)):
        run_scan(world, bandit(world, found))
        assert by_title()["alpha"].status == "false_positive"
        assert by_title()["bravo"].status == "risk_accepted"
    alpha, bravo = by_title()["alpha"], by_title()["bravo"]
    assert status_history(alpha) == [("new", "false_positive", None, world.users["member"].pk)]
    assert status_history(bravo) == [("new", "risk_accepted", None, world.users["member"].pk)]
    assert Finding.objects.count() == 3  # matched by fingerprint, never duplicated


@pytest.mark.parametrize("status", ["failed", "timed_out", "skipped", "cancelled"])
def test_a_tool_that_did_not_complete_resolves_nothing(world, status):
    run_scan(world, bandit(world, records(*ABC)))
    scan = run_scan(world, bandit(world, None, status=status))
    assert {f.status for f in by_title().values()} == {"new"}
    assert scan.summary.get("resolved", 0) == 0


def test_a_tool_with_no_findings_resolves_all_of_its_findings(world):
    run_scan(world, bandit(world, records(*ABC)))
    scan = run_scan(world, bandit(world, None, status="no_findings"))
    assert {f.status for f in by_title().values()} == {"auto_resolved"}
    assert scan.summary["resolved"] == 3


def test_a_failed_scan_still_resolves_for_the_tools_that_completed(world):
    from apps.projects.models import TargetAsset

    other = TargetAsset.objects.create(
        project=world.project_a, name="other", asset_type="docker_image", identifier="nginx:1"
    )
    run_scan(
        world,
        [
            ("bandit", world.repo_a, records("alpha", "bravo"), "completed"),
            ("trivy", other, records("tango", tool="trivy"), "completed"),
        ],
    )
    scan = run_scan(
        world,
        [
            ("bandit", world.repo_a, records("alpha"), "completed"),
            ("trivy", other, None, "failed"),
        ],
    )
    assert scan.status == "failed"
    found = by_title()
    assert found["bravo"].status == "auto_resolved"
    assert found["tango"].status == "new"  # its tool failed: not resolved


def test_a_cancelled_scan_changes_no_status(world):
    run_scan(world, bandit(world, records(*ABC)))
    scan = run_scan(world, bandit(world, records("alpha", ("delta", "high"))), cancel=True)
    assert scan.status == "cancelled"
    assert {f.status for f in by_title().values()} == {"new"}
    assert FindingHistory.objects.count() == 0
    # What it saw still gets its SLA due date.
    delta = by_title()["delta"]
    assert delta.effective_severity == "high"
    assert delta.due_date == (delta.first_seen_at + timedelta(days=30)).date()


def test_only_the_scanned_target_and_tool_are_resolved(world):
    from apps.projects.models import TargetAsset

    other = TargetAsset.objects.create(
        project=world.project_a, name="repo-2", asset_type="docker_image", identifier="nginx:1"
    )
    run_scan(
        world,
        [
            ("bandit", world.repo_a, records("alpha"), "completed"),
            ("semgrep", world.repo_a, records("sierra", tool="semgrep"), "completed"),
            ("bandit", other, records("oscar"), "completed"),
        ],
    )
    run_scan(world, bandit(world, None, status="no_findings"))
    found = by_title()
    assert found["alpha"].status == "auto_resolved"
    assert found["sierra"].status == "new"  # another tool on the same target
    assert found["oscar"].status == "new"  # the same tool on another target
    # Organization B's findings are never touched by organization A's scans.
    run_scan(world, bandit(world, records("bravo"), target=world.repo_b), project=world.project_b)
    run_scan(world, bandit(world, None, status="no_findings"))
    assert by_title()["bravo"].status == "new"


def test_an_older_scan_does_not_resolve_what_a_newer_one_saw(world):
    """Two scans of the same target run at once: the one that started first finishes last."""
    from apps.findings.services import findings_ingest
    from apps.scans.models import Scan, ScanToolResult

    run_scan(world, bandit(world, records(*ABC)))
    older = Scan.objects.create(
        project=world.project_a,
        configuration=world.config_a,
        trigger_type="manual",
        status="completed",  # as scan_maybe_finish sets it before the pass
    )
    older_result = ScanToolResult.objects.create(
        scan=older,
        tool_id="bandit",
        target=world.repo_a,
        status="running",
        started_at=timezone.now() - timedelta(minutes=5),
    )
    newer = run_scan(world, bandit(world, records(*ABC)))  # sees charlie after older started
    findings_ingest(tool_result=older_result, records=records("alpha", "bravo"))
    ScanToolResult.objects.filter(pk=older_result.pk).update(status="completed")
    assert findings_lifecycle_close_scan(scan=older) == {"resolved": 0, "reopened": 0}
    assert by_title()["charlie"].status == "new"
    assert by_title()["charlie"].last_seen_scan_id == newer.pk


def test_an_expired_risk_acceptance_reopens(world, member):
    run_scan(world, bandit(world, records(*ABC)))
    for title in ("alpha", "bravo"):
        patch(
            member,
            by_title()[title],
            status="risk_accepted",
            risk_acceptance_justification="compensating control",
            risk_acceptance_expires_at=(timezone.now() + timedelta(days=10)).isoformat(),
        )
    assert findings_reopen_expired_acceptances.delay().get() == 0
    # Time passes for alpha's acceptance only.
    Finding.objects.filter(title="alpha").update(
        risk_acceptance_expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert findings_reopen_expired_acceptances.delay().get() == 1
    alpha, bravo = by_title()["alpha"], by_title()["bravo"]
    assert alpha.status == "reopened" and bravo.status == "risk_accepted"
    last = FindingHistory.objects.filter(finding=alpha, field="status").first()
    assert (last.old_value, last.new_value, last.actor_id) == ("risk_accepted", "reopened", None)
    assert "expired" in last.note
    # Open again, it follows the lifecycle: the next scan that misses it resolves it.
    run_scan(world, bandit(world, records("bravo", "charlie")))
    assert by_title()["alpha"].status == "auto_resolved"
    assert by_title()["bravo"].status == "risk_accepted"


def test_the_expiry_task_has_the_name_beat_uses(settings):
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert findings_reopen_expired_acceptances.name in names


def test_sla_due_dates_follow_the_settings_and_the_effective_severity(world, member):
    row = SystemSettings.load()
    row.sla_days_high = 14
    row.save()
    days = {"critical": 7, "high": 14, "medium": 90, "low": 120, "info": 0}
    run_scan(
        world,
        bandit(
            world,
            records(("crit", "critical"), ("hi", "high"), ("med", "medium"), ("inf", "info")),
        ),
    )
    found = by_title()
    for title, severity in (("crit", "critical"), ("hi", "high"), ("med", "medium")):
        f = found[title]
        assert f.due_date == sla_due_date(f.first_seen_at, severity, days)
        assert f.due_date == (f.first_seen_at + timedelta(days=days[severity])).date()
        assert f.effective_severity == severity
    assert found["inf"].due_date is None  # 0 days: no SLA

    # An analyst override moves the due date (still counted from the first sighting).
    body = patch(member, found["med"], severity_override="critical", note="reachable")
    med = by_title()["med"]
    assert body["severity"] == "critical" and body["scanner_severity"] == "medium"
    assert med.due_date == (med.first_seen_at + timedelta(days=7)).date()
    assert med.severity_rank == 4
    # The scanner changing its mind: history (scan, no actor) and a new due date...
    rescan = run_scan(
        world,
        bandit(
            world,
            records(("crit", "critical"), ("hi", "low"), ("med", "low"), ("inf", "info")),
        ),
    )
    hi, med = by_title()["hi"], by_title()["med"]
    assert hi.effective_severity == "low" and hi.severity_rank == 1
    assert hi.due_date == (hi.first_seen_at + timedelta(days=120)).date()
    change = FindingHistory.objects.get(finding=hi, field="severity")
    assert (change.old_value, change.new_value, change.scan_id, change.actor_id) == (
        "high",
        "low",
        rescan.pk,
        None,
    )
    # ... but an override pins the finding's severity, rank and due date.
    assert med.severity == "low" and med.effective_severity == "critical"
    assert med.severity_rank == 4
    assert med.due_date == (med.first_seen_at + timedelta(days=7)).date()
    # Clearing the override returns to the scanner's severity.
    patch(member, med, severity_override="")
    med = by_title()["med"]
    assert med.severity_rank == 1 and med.effective_severity == "low"
    assert med.due_date == (med.first_seen_at + timedelta(days=120)).date()


def test_every_triage_change_is_in_the_history(world, member):
    run_scan(world, bandit(world, records("alpha")))
    alpha = by_title()["alpha"]
    body = patch(
        member,
        alpha,
        status="confirmed",
        severity_override="high",
        assignee_id=world.users["admin"].pk,
        due_date="2031-01-31",
        tags=["PCI", "backend"],
        note="triaged in the weekly review",
    )
    rows = {
        h.field: h for h in FindingHistory.objects.filter(finding=alpha).select_related("actor")
    }
    assert set(rows) == {"status", "severity", "assignee", "due_date", "tags"}
    assert (rows["status"].old_value, rows["status"].new_value) == ("new", "confirmed")
    assert (rows["severity"].old_value, rows["severity"].new_value) == ("medium", "high")
    assert (rows["assignee"].old_value, rows["assignee"].new_value) == ("", "admin")
    assert rows["due_date"].new_value == "2031-01-31"
    assert rows["tags"].new_value == '["pci", "backend"]'
    for row in rows.values():
        assert row.actor == world.users["member"]
        assert row.note == "triaged in the weekly review"
        assert row.scan_id is None
    assert [h["field"] for h in body["history"]].count("status") == 1
    # Unassigning is a change too; repeating a value is not.
    patch(member, alpha, assignee_id=None, status="confirmed")
    unassign = FindingHistory.objects.filter(finding=alpha, field="assignee").first()
    assert (unassign.old_value, unassign.new_value) == ("admin", "")
    assert FindingHistory.objects.filter(finding=alpha, field="status").count() == 1


# --- the real path: a real scanner, launched and rescanned through the API -------------------
@pytest.fixture
def sample_repo(tmp_path, settings):
    import shutil

    from apps.tools.tests.helpers import SAMPLE_APP

    root = tmp_path / "roots"
    shutil.copytree(SAMPLE_APP, root / "app")
    settings.SECULITE_SCAN_ROOTS = [root]
    settings.SECULITE_WORKSPACE_DIR = tmp_path / "workspaces"
    return root / "app"


def test_real_bandit_rescans_resolve_and_reopen(
    world, member, sample_repo, django_capture_on_commit_callbacks
):
    from apps.scans.models import Scan
    from apps.tools.tests.helpers import require_tool

    require_tool("bandit")
    project = world.project_a.pk
    target = member.post(
        f"/api/v1/projects/{project}/targets/",
        {"name": "sample", "asset_type": "git_repository", "identifier": str(sample_repo)},
    ).json()
    config = member.post(
        f"/api/v1/projects/{project}/scanconfigurations/",
        {
            "name": "bandit",
            "target_assets": [target["id"]],
            "tools_and_configs": [{"tool_id": "bandit"}],
        },
        format="json",
    ).json()

    def scan(url):
        with django_capture_on_commit_callbacks(execute=True):
            started = member.post(url)
        assert started.status_code == 202, started.json()
        done = Scan.objects.get(pk=started.json()["id"])
        assert done.status == "completed", done.error_message
        return done

    first = scan(f"/api/v1/projects/{project}/scanconfigurations/{config['id']}/launch/")
    in_views = Finding.objects.filter(file_path__endswith="app/views.py", tool_id="bandit")
    assert in_views.count() > 0
    others = Finding.objects.exclude(pk__in=in_views.values("pk"))
    views = sample_repo / "app" / "views.py"
    original = views.read_text()
    views.write_text("def ok():\n    return 1\n")  # the vulnerable code is fixed

    second = scan(f"/api/v1/scans/{first.pk}/rescan/")
    assert set(in_views.values_list("status", flat=True)) == {"auto_resolved"}
    assert set(in_views.values_list("resolved_at_scan", flat=True)) == {second.pk}
    assert set(others.values_list("status", flat=True)) == {"new"}
    assert second.summary["resolved"] == in_views.count()

    views.write_text(original)  # the fix is reverted
    third = scan(f"/api/v1/scans/{second.pk}/rescan/")
    assert set(in_views.values_list("status", flat=True)) == {"reopened"}
    assert third.summary["reopened"] == in_views.count()
    listed = member.get(f"/api/v1/findings/?scan_id={third.pk}&status=reopened").json()
    assert {row["id"] for row in listed["results"]} == set(in_views.values_list("pk", flat=True))
