"""Reports: a scan's summary, the comparison of two scans, a project's posture."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.findings.models import Finding
from apps.findings.tests.reporting import make_finding, make_scan
from apps.scans.models import ScanConfiguration

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(world):
    """Three scans of one configuration, bandit on repo_a (and semgrep, failed, in scan 2):
    scan 1 finds A (high) and B (medium); scan 2 finds A again and C (critical), B is fixed;
    scan 3 finds C only (A fixed) and D (low)."""
    p, t = world.project_a, world.repo_a
    config = world.config_a
    s1 = make_scan(p, configuration=config, tools=[("bandit", t)], tool_version="1.7.9")
    s2 = make_scan(p, configuration=config, tools=[("bandit", t)], tool_version="1.7.10")
    from apps.scans.models import ScanToolResult

    ScanToolResult.objects.create(
        scan=s2, tool_id="semgrep", target=t, status="failed", error_message="boom"
    )
    s3 = make_scan(p, configuration=config, tools=[("bandit", t)], tool_version="1.7.10")
    a = make_finding(
        project=p,
        target=t,
        first_scan=s1,
        last_scan=s2,
        severity="high",
        status="auto_resolved",
        resolved_at_scan=s3,
    )
    b = make_finding(
        project=p,
        target=t,
        first_scan=s1,
        last_scan=s1,
        severity="medium",
        status="auto_resolved",
        resolved_at_scan=s2,
    )
    c = make_finding(project=p, target=t, first_scan=s2, last_scan=s3, severity="critical")
    d = make_finding(project=p, target=t, first_scan=s3, severity="low")
    return {"s1": s1, "s2": s2, "s3": s3, "a": a, "b": b, "c": c, "d": d, "config": config}


def test_scan_report_has_configuration_targets_tools_and_counts(api_client, world, history):
    api_client.force_authenticate(world.users["auditor"])
    response = api_client.get(f"/api/v1/scans/{history['s2'].pk}/report/")
    assert response.status_code == 200, response.json()
    report = response.json()
    assert report["scan"]["id"] == history["s2"].pk
    assert report["scan"]["status"] == "completed"
    assert report["scan"]["duration_seconds"] == pytest.approx(120, abs=1)
    assert report["configuration"]["name"] == "config-a"
    assert report["configuration"]["tools_and_configs"] == [{"tool_id": "bandit", "overrides": {}}]
    assert [t["id"] for t in report["targets"]] == [world.repo_a.pk]
    tools = {t["tool_id"]: t for t in report["tools"]}
    assert tools["bandit"]["tool_version"] == "1.7.10"
    assert tools["bandit"]["status"] == "completed"
    assert tools["semgrep"]["status"] == "failed" and tools["semgrep"]["error_message"] == "boom"
    counts = report["counts"]
    assert counts["by_severity"] == {"critical": 1, "high": 1, "medium": 0, "low": 0, "info": 0}
    assert counts["total"] == 2
    assert counts["new"] == 1 and counts["new_by_severity"]["critical"] == 1
    assert counts["recurring"] == 1
    assert counts["resolved"] == 1 and counts["resolved_by_severity"]["medium"] == 1


def test_scan_report_of_the_first_and_last_scans(api_client, world, history):
    api_client.force_authenticate(world.users["member"])
    first = api_client.get(f"/api/v1/scans/{history['s1'].pk}/report/").json()["counts"]
    assert (first["total"], first["new"], first["recurring"], first["resolved"]) == (2, 2, 0, 0)
    last = api_client.get(f"/api/v1/scans/{history['s3'].pk}/report/").json()["counts"]
    assert (last["total"], last["new"], last["recurring"], last["resolved"]) == (2, 1, 1, 1)
    assert last["resolved_by_severity"]["high"] == 1


def test_compare_two_scans_by_fingerprint(api_client, world, history):
    api_client.force_authenticate(world.users["member"])
    url = f"/api/v1/scans/{history['s3'].pk}/compare/?base={history['s1'].pk}"
    data = api_client.get(url).json()
    assert data["base"]["id"] == history["s1"].pk and data["head"]["id"] == history["s3"].pk
    assert [i["id"] for i in data["new"]["items"]] == [history["c"].pk, history["d"].pk]
    assert data["new"]["by_severity"]["critical"] == 1 and data["new"]["count"] == 2
    assert {i["id"] for i in data["fixed"]["items"]} == {history["a"].pk, history["b"].pk}
    assert data["unchanged"]["count"] == 0
    first = data["new"]["items"][0]
    assert first["severity"] == "critical" and first["fingerprint"] == history["c"].fingerprint


def test_compare_defaults_to_the_previous_scan_of_the_configuration(api_client, world, history):
    api_client.force_authenticate(world.users["member"])
    data = api_client.get(f"/api/v1/scans/{history['s3'].pk}/compare/").json()
    assert data["base"]["id"] == history["s2"].pk
    assert [i["id"] for i in data["new"]["items"]] == [history["d"].pk]
    assert [i["id"] for i in data["fixed"]["items"]] == [history["a"].pk]
    assert [i["id"] for i in data["unchanged"]["items"]] == [history["c"].pk]


def test_compare_refuses_a_base_of_another_project_or_organization(api_client, world, history):
    api_client.force_authenticate(world.users["member"])
    other_project_scan = make_scan(
        world.project_a.__class__.objects.create(organization=world.org_a, name="Other")
    )
    url = f"/api/v1/scans/{history['s3'].pk}/compare/"
    response = api_client.get(f"{url}?base={other_project_scan.pk}")
    assert response.status_code == 400
    assert "same project" in response.json()["errors"]["base"][0]
    response = api_client.get(f"{url}?base={world.scan_b.pk}")  # exists, in org B
    assert response.status_code == 400
    assert response.json()["errors"] == {"base": ["No such scan."]}
    response = api_client.get(f"/api/v1/scans/{history['s1'].pk}/compare/")
    assert response.status_code == 400  # nothing earlier to compare with


def test_reports_of_another_organization_answer_404(api_client, world, history):
    api_client.force_authenticate(world.users["outsider"])
    assert api_client.get(f"/api/v1/scans/{history['s2'].pk}/report/").status_code == 404
    assert api_client.get(f"/api/v1/scans/{history['s2'].pk}/compare/").status_code == 404
    assert api_client.get(f"/api/v1/projects/{world.project_a.pk}/posture/").status_code == 404


def test_project_posture(api_client, world, history):
    now = timezone.now()
    p, t = world.project_a, world.repo_a
    # Closed 10 days after the first sighting; another one 4 days after.
    Finding.objects.filter(pk=history["a"].pk).update(
        first_seen_at=now - timedelta(days=12), resolved_at=now - timedelta(days=2)
    )
    Finding.objects.filter(pk=history["b"].pk).update(
        first_seen_at=now - timedelta(days=6),
        resolved_at=now - timedelta(days=2),
        severity="high",
        severity_rank=3,
    )
    Finding.objects.filter(pk=history["c"].pk).update(
        due_date=timezone.localdate() - timedelta(days=1), status="confirmed"
    )
    make_finding(project=p, target=t, severity="medium", status="false_positive")
    make_finding(project=p, target=world.target_a, tool_id="trivy", severity="high")
    api_client.force_authenticate(world.users["auditor"])
    data = api_client.get(f"/api/v1/projects/{p.pk}/posture/").json()
    assert data["project"] == {"id": p.pk, "name": "Project A"}
    assert data["open"] == 3
    assert data["open_by_severity"] == {"critical": 1, "high": 1, "medium": 0, "low": 1, "info": 0}
    assert data["by_status"]["confirmed"] == 1 and data["by_status"]["new"] == 2
    assert data["by_status"]["auto_resolved"] == 2 and data["by_status"]["false_positive"] == 1
    assert data["sla_breaches"] == {
        "total": 1,
        "by_severity": {"critical": 1, "high": 0, "medium": 0, "low": 0, "info": 0},
    }
    assert data["risk_score"] == 10 + 5 + 1
    assert data["mttr"]["by_severity"]["high"] == {"mean_days": 7.0, "count": 2}
    assert data["mttr"]["by_severity"]["critical"] == {"mean_days": None, "count": 0}
    assert {r["tool_id"]: r["count"] for r in data["open_by_tool"]} == {"bandit": 2, "trivy": 1}
    assert data["open_by_target"][0] == {"target_id": t.pk, "target": t.name, "count": 2}
    assert [s["id"] for s in data["last_scans"]][:3] == [
        history["s3"].pk,
        history["s2"].pk,
        history["s1"].pk,
    ]


def test_scan_report_of_an_import_has_no_configuration(api_client, world):
    scan = make_scan(world.project_a, tools=[("bandit", world.target_a)])
    scan.trigger_type = "import"
    scan.save()
    assert ScanConfiguration.objects.filter(scans=scan).count() == 0
    api_client.force_authenticate(world.users["member"])
    report = api_client.get(f"/api/v1/scans/{scan.pk}/report/").json()
    assert report["configuration"] is None
    assert report["scan"]["trigger_type"] == "import"
