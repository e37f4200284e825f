"""The dashboard: summary counts by database aggregation (a fixed number of queries whatever the
number of findings), the daily trend from snapshots plus today's live counts, and scoping."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.findings.jobs.reports import findings_snapshot
from apps.findings.models import Finding, FindingSnapshot
from apps.findings.services.reports import RISK_WEIGHTS, findings_snapshot_take
from apps.findings.tests.reporting import make_finding, make_scan
from apps.users.tests.factories import ProjectFactory, TargetFactory

pytestmark = pytest.mark.django_db

ZERO = {"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0}


def counts(**values) -> dict:
    return {**ZERO, **values}


@pytest.fixture
def data(world):
    now = timezone.now()
    today = timezone.localdate()
    p, t = world.project_a, world.target_a
    second = ProjectFactory(organization=world.org_a, name="Second")
    second_target = TargetFactory(project=second)
    me = world.users["member"]
    rows = {
        "crit_overdue": make_finding(
            project=p, target=t, severity="critical", due_date=today - timedelta(days=1)
        ),
        "high_mine": make_finding(project=p, target=t, severity="high", assignee=me),
        "high_confirmed": make_finding(project=p, target=t, severity="high", status="confirmed"),
        # An analyst lowered this one: it counts as low.
        "overridden": make_finding(
            project=p, target=t, severity="critical", severity_override="low", status="reopened"
        ),
        "medium_second": make_finding(
            project=second, target=second_target, severity="medium", status="in_progress"
        ),
        "fp": make_finding(project=p, target=t, severity="critical", status="false_positive"),
        "resolved": make_finding(
            project=p,
            target=t,
            severity="high",
            status="resolved",
            first_seen_at=now - timedelta(days=5),
            resolved_at=now - timedelta(days=1),
            assignee=me,
        ),
        "other_org": make_finding(
            project=world.project_b, target=world.target_b, severity="critical"
        ),
    }
    rows["second"] = second
    return rows


def test_summary_counts(api_client, world, data):
    api_client.force_authenticate(world.users["member"])
    response = api_client.get("/api/v1/dashboard/summary/")
    assert response.status_code == 200
    s = response.json()
    assert s["open"] == 5
    assert s["open_by_severity"] == counts(critical=1, high=2, medium=1, low=1)
    assert s["open_by_status"] == {"new": 2, "confirmed": 1, "in_progress": 1, "reopened": 1}
    assert s["sla_breaches"] == {"total": 1, "by_severity": counts(critical=1)}
    assert s["mttr"]["by_severity"]["high"] == {"mean_days": 4.0, "count": 1}
    assert s["risk_weights"] == RISK_WEIGHTS
    top = s["top_projects"]
    assert [(p["name"], p["risk_score"]) for p in top] == [
        ("Project A", 10 + 5 + 5 + 1),
        ("Second", 2),
    ]
    assert top[0]["open_by_severity"] == counts(critical=1, high=2, low=1)
    assert s["assigned_to_me"]["open"] == 1
    assert [i["id"] for i in s["assigned_to_me"]["items"]] == [data["high_mine"].pk]
    assert s["recent_scans"][0]["id"] == world.scan_a.pk
    assert {r["project_id"] for r in s["recent_scans"]} == {world.project_a.pk}


def test_summary_of_one_project_and_scoping(api_client, world, data):
    api_client.force_authenticate(world.users["auditor"])
    s = api_client.get(f"/api/v1/dashboard/summary/?project_id={data['second'].pk}").json()
    assert s["open"] == 1 and s["open_by_severity"] == counts(medium=1)
    assert s["recent_scans"] == []
    assert s["assigned_to_me"]["open"] == 0
    # Another organization's project is not found.
    response = api_client.get(f"/api/v1/dashboard/summary/?project_id={world.project_b.pk}")
    assert response.status_code == 404
    api_client.force_authenticate(world.users["outsider"])
    s = api_client.get("/api/v1/dashboard/summary/").json()
    assert s["open"] == 1 and s["open_by_severity"] == counts(critical=1)
    assert [p["name"] for p in s["top_projects"]] == ["Project B"]


def test_summary_needs_a_fixed_number_of_queries(api_client, world, data):
    api_client.force_authenticate(world.users["member"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api_client.get("/api/v1/dashboard/summary/").status_code == 200
        return len(ctx.captured_queries)

    queries()  # warm the per-user role cache
    before = queries()
    for i in range(60):
        make_finding(
            project=data["second"],
            target=world.target_a,
            severity=["critical", "high", "low"][i % 3],
            assignee=world.users["member"],
            due_date=timezone.localdate() - timedelta(days=1),
        )
    make_scan(world.project_a)
    assert queries() == before
    assert before <= 12


def test_snapshot_task_keeps_one_row_per_project_and_severity(world, data):
    findings_snapshot.delay()
    today = timezone.localdate()
    rows = {
        (r.project_id, r.severity): r.open_count for r in FindingSnapshot.objects.filter(date=today)
    }
    assert rows == {
        (world.project_a.pk, "critical"): 1,
        (world.project_a.pk, "high"): 2,
        (world.project_a.pk, "low"): 1,
        (data["second"].pk, "medium"): 1,
        (world.project_b.pk, "critical"): 1,
    }
    # An hour later the counts are replaced, not added; a count that fell to zero goes.
    Finding.objects.filter(pk=data["medium_second"].pk).update(status="resolved")
    findings_snapshot_take()
    rows = {
        (r.project_id, r.severity): r.open_count for r in FindingSnapshot.objects.filter(date=today)
    }
    assert (data["second"].pk, "medium") not in rows
    assert rows[(world.project_a.pk, "high")] == 2


def test_trend_from_snapshots_plus_todays_live_counts(api_client, world, data):
    today = timezone.localdate()
    for days_ago, high in ((3, 7), (1, 4)):
        FindingSnapshot.objects.create(
            date=today - timedelta(days=days_ago),
            project=world.project_a,
            severity="high",
            open_count=high,
        )
        FindingSnapshot.objects.create(
            date=today - timedelta(days=days_ago),
            project=data["second"],
            severity="high",
            open_count=1,
        )
        FindingSnapshot.objects.create(  # another organization: never counted
            date=today - timedelta(days=days_ago),
            project=world.project_b,
            severity="high",
            open_count=100,
        )
    # A stale snapshot of today is ignored: today comes from live counts.
    FindingSnapshot.objects.create(
        date=today, project=world.project_a, severity="info", open_count=9
    )
    api_client.force_authenticate(world.users["member"])
    trend = api_client.get("/api/v1/dashboard/trend/?days=5").json()
    assert trend["date_from"] == (today - timedelta(days=4)).isoformat()
    assert trend["date_to"] == today.isoformat()
    assert trend["snapshots_since"] == (today - timedelta(days=3)).isoformat()
    points = {p["date"]: p for p in trend["points"]}
    assert len(points) == 5
    assert points[(today - timedelta(days=4)).isoformat()]["total"] == 0
    assert points[(today - timedelta(days=3)).isoformat()]["high"] == 8
    assert points[(today - timedelta(days=2)).isoformat()]["high"] == 0
    assert points[(today - timedelta(days=1)).isoformat()]["high"] == 5
    live = points[today.isoformat()]
    assert {k: live[k] for k in ZERO} == counts(critical=1, high=2, medium=1, low=1)
    assert live["total"] == 5
    one = api_client.get(
        f"/api/v1/dashboard/trend/?project_id={data['second'].pk}"
        f"&date_from={(today - timedelta(days=3)).isoformat()}"
        f"&date_to={(today - timedelta(days=1)).isoformat()}"
    ).json()
    assert [p["high"] for p in one["points"]] == [1, 0, 1]


def test_trend_validates_its_range(api_client, world):
    api_client.force_authenticate(world.users["member"])
    today = timezone.localdate()
    response = api_client.get(
        f"/api/v1/dashboard/trend/?date_from={today.isoformat()}"
        f"&date_to={(today - timedelta(days=1)).isoformat()}"
    )
    assert response.status_code == 400
    assert "date_from" in response.json()["errors"]
    assert api_client.get("/api/v1/dashboard/trend/?days=400").status_code == 400
    response = api_client.get(f"/api/v1/dashboard/trend/?date_from={today - timedelta(days=400)}")
    assert response.status_code == 400
    # The ends of the calendar overflowed Python's dates (500).
    for query in (
        "date_to=9999-12-31",
        "date_to=9999-12-31&days=1",
        "date_from=9999-12-31",
        "date_to=0001-01-01",
        "date_to=0001-01-31&days=366",
    ):
        response = api_client.get(f"/api/v1/dashboard/trend/?{query}")
        assert response.status_code == 400, query
        assert set(response.json()["errors"]) <= {"date_from", "date_to"}, query
    response = api_client.get("/api/v1/dashboard/trend/?date_to=9999-12-30&days=2")
    assert response.status_code == 200
    assert [p["date"] for p in response.json()["points"]] == ["9999-12-29", "9999-12-30"]
