"""The number of SQL queries of the findings list (first and later cursor pages), the detail,
PATCH, the bulk update and the lifecycle pass does not grow with the number of findings: the
same count for 5 and for 50."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from apps.core.models import SystemSettings
from apps.findings.models import Finding, FindingComment, FindingHistory
from apps.findings.services.lifecycle import findings_lifecycle_close_scan

from .lifecycle_helpers import bandit, records, run_scan
from .test_triage_api import seed

pytestmark = pytest.mark.django_db
SIZES = [5, 50]

# The caller's memberships (once per request), the visible project ids (constants for the
# planner: see selectors.findings_list), then the page with its assignees.
LIST_QUERIES = 3
# Memberships, the finding with its project, target and users, its history, its comments.
DETAIL_QUERIES = 4
# Memberships, the new assignee's organizations, the rows (locked and checked); per changed
# field an INSERT ... SELECT of history rows and an UPDATE (4 fields here); the savepoint of
# the service's transaction and its release; the ids newly assigned and the assignee's
# notification notice (AssignmentNotice).
BULK_QUERIES = 15
# Memberships, the finding, savepoint, the row (locked), the SLA settings; severity: history
# and 2 UPDATEs; status: history and UPDATE; release; then the detail's 3 reads.
PATCH_QUERIES = 14
# SLA settings, the scanned (target, tool) pairs; per transition (resolve, reopen): lock,
# history, update; the severity bookkeeping: override ranks, severity history, due dates;
# the savepoint of its transaction and the release. On PostgreSQL each transition and the
# severity bookkeeping are one statement each (WITH ... UPDATE).
LIFECYCLE_QUERIES = 13
LIFECYCLE_QUERIES_POSTGRESQL = 7


@pytest.fixture(autouse=True)
def _settings_row(db):
    """The system settings row exists (its one-time creation is not part of a request)."""
    SystemSettings.load()


def fresh_client(world, name="member") -> APIClient:
    """A client whose user is a fresh object: nothing cached from an earlier request."""
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(pk=world.users[name].pk))
    return client


@pytest.mark.parametrize("n", SIZES)
def test_the_list_first_and_later_pages(world, n, django_assert_num_queries):
    seed(world, n, assignee=world.users["admin"], tags=["pci"])
    client = fresh_client(world)
    with django_assert_num_queries(LIST_QUERIES):
        first = client.get("/api/v1/findings/?page_size=2&status=new")
    assert len(first.json()["results"]) == 2
    client = fresh_client(world)
    with django_assert_num_queries(LIST_QUERIES):
        later = client.get(first.json()["next"])
    assert later.json()["results"][0]["assignee"]["username"] == "admin"
    client = fresh_client(world)
    # By due date, the rows without one are a second index range: one more query.
    with django_assert_num_queries(LIST_QUERIES + 1):
        full = client.get("/api/v1/findings/?page_size=500&ordering=-due_date")
    assert len(full.json()["results"]) == n


@pytest.mark.parametrize("n", SIZES)
def test_the_detail(world, n, django_assert_num_queries):
    seed(world, 1, assignee=world.users["admin"])
    finding = Finding.objects.get()
    FindingComment.objects.bulk_create(
        FindingComment(finding=finding, author=world.users[u], body=f"comment {i}")
        for i, u in zip(range(n), ["member", "admin", "owner"] * n, strict=False)
    )
    FindingHistory.objects.bulk_create(
        FindingHistory(
            finding=finding,
            created_at=finding.first_seen_at,
            actor=world.users["member"],
            field="tags",
            new_value=str(i),
        )
        for i in range(n)
    )
    client = fresh_client(world, "auditor")
    with django_assert_num_queries(DETAIL_QUERIES):
        body = client.get(f"/api/v1/findings/{finding.pk}/").json()
    assert len(body["comments"]) == len(body["history"]) == n


@pytest.mark.parametrize("n", SIZES)
def test_the_bulk_update(world, n, django_assert_num_queries):
    seed(world, n)
    ids = list(Finding.objects.values_list("pk", flat=True))
    changes = {
        "status": "in_progress",
        "assignee_id": world.users["member"].pk,
        "due_date": "2031-01-31",
        "tags": ["sprint-12"],
        "note": "planned",
    }
    client = fresh_client(world)
    with django_assert_num_queries(BULK_QUERIES):
        response = client.post(
            "/api/v1/findings/bulk_update/", {"ids": ids, "changes": changes}, format="json"
        )
    assert response.json() == {"updated": n, "failed": []}
    assert FindingHistory.objects.count() == 4 * n
    assert set(Finding.objects.values_list("status", flat=True)) == {"in_progress"}


@pytest.mark.parametrize("n", SIZES)
def test_a_patch(world, n, django_assert_num_queries):
    seed(world, 1)  # a critical one
    finding = Finding.objects.get()
    FindingHistory.objects.bulk_create(
        FindingHistory(finding=finding, created_at=finding.first_seen_at, field="x")
        for _ in range(n)
    )
    client = fresh_client(world)
    with django_assert_num_queries(PATCH_QUERIES):
        response = client.patch(
            f"/api/v1/findings/{finding.pk}/",
            {"status": "confirmed", "severity_override": "low", "note": "ok"},
        )
    assert response.json()["severity"] == "low"
    assert len(response.json()["history"]) == n + 2


@pytest.mark.parametrize("n", SIZES)
def test_the_lifecycle_pass(world, n, django_assert_num_queries):
    titles = [f"f{i}" for i in range(2 * n)]
    run_scan(world, bandit(world, records(*titles)))
    half = records(*titles[:n])
    for found in half:
        found.severity = "critical"  # the scanner changed its mind about these
    scan = run_scan(world, bandit(world, records(*titles[n:])))  # resolves the first half
    assert scan.summary["resolved"] == n
    # The next scan: the first half is back (reopened, new severity), the second is gone.
    from apps.findings.services import findings_ingest
    from apps.scans.models import Scan, ScanToolResult

    again = Scan.objects.create(
        project=world.project_a,
        configuration=world.config_a,
        trigger_type="manual",
        status="completed",
    )
    result = ScanToolResult.objects.create(
        scan=again, tool_id="bandit", target=world.repo_a, status="completed"
    )
    findings_ingest(tool_result=result, records=half)
    from django.db import connection

    expected = (
        LIFECYCLE_QUERIES_POSTGRESQL if connection.vendor == "postgresql" else LIFECYCLE_QUERIES
    )
    with django_assert_num_queries(expected):
        counts = findings_lifecycle_close_scan(scan=again)
    assert counts == {"resolved": n, "reopened": n}
    assert FindingHistory.objects.filter(field="severity").count() == n
