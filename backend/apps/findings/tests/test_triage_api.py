"""The triage API: the list's filters, ordering and cursor pages, the detail, PATCH, bulk
updates and comments, with the roles and organizations that may use them."""

import itertools
import uuid
from datetime import date, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from apps.findings.models import SEVERITY_RANK, Finding, FindingComment, FindingHistory

from .lifecycle_helpers import bandit, records, run_scan
from .sightings import bulk_create_findings, create_finding

pytestmark = pytest.mark.django_db

_seq = itertools.count()


def make(world, side="a", **fields) -> Finding:
    """A finding row with sensible defaults (the lifecycle tests ingest real records)."""
    now = timezone.now()
    severity = fields.pop("severity", "medium")
    override = fields.get("severity_override", "")
    effective = override or severity
    n = next(_seq)
    values = {
        "project": world.project_a if side == "a" else world.project_b,
        "target": world.repo_a if side == "a" else world.repo_b,
        "tool_id": "bandit",
        "first_seen_at": now,
        "last_seen_at": now,
        "title": f"finding {n}",
        "severity": severity,
        "effective_severity": effective,
        "severity_rank": SEVERITY_RANK[effective],
        "fingerprint": uuid.uuid4().hex,
        **fields,
    }
    return create_finding(**values)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def member(api_client, world):
    api_client.force_authenticate(world.users["member"])
    return api_client


def as_user(world, name):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(world.users[name])
    return client


# --- list and filters -------------------------------------------------------------------------
def test_the_list_is_scoped_to_the_callers_organizations(world, member):
    mine = make(world, "a")
    theirs = make(world, "b")
    assert ids(member.get("/api/v1/findings/")) == [mine.pk]
    assert ids(as_user(world, "outsider").get("/api/v1/findings/")) == [theirs.pk]
    assert ids(as_user(world, "auditor").get("/api/v1/findings/")) == [mine.pk]
    assert ids(as_user(world, "staff").get("/api/v1/findings/")) == []
    # Filtering on the other organization's project reveals nothing.
    assert ids(member.get(f"/api/v1/findings/?project_id={world.project_b.pk}")) == []
    # A deactivated project's findings leave the list.
    world.project_a.is_active = False
    world.project_a.save()
    assert ids(member.get("/api/v1/findings/")) == []


def test_a_row_of_the_list(world, member):
    f = make(
        world,
        severity="low",
        severity_override="high",
        cwe=79,
        file_path="app/views.py",
        line_start=12,
        tags=["pci"],
        due_date=date(2000, 1, 1),
        assignee=world.users["admin"],
    )
    row = member.get("/api/v1/findings/").json()["results"][0]
    assert row["id"] == f.pk
    assert (row["severity"], row["scanner_severity"], row["severity_override"]) == (
        "high",
        "low",
        "high",
    )
    assert row["assignee"] == {"id": world.users["admin"].pk, "username": "admin"}
    assert row["overdue"] is True and row["tags"] == ["pci"]
    assert (row["project_id"], row["target_id"], row["cwe"]) == (
        world.project_a.pk,
        world.repo_a.pk,
        79,
    )


def test_filter_by_project_target_and_tool(world, member):
    from apps.projects.models import Project, TargetAsset

    other_project = Project.objects.create(organization=world.org_a, name="Other")
    other_target = TargetAsset.objects.create(
        project=other_project, name="t", asset_type="docker_image", identifier="nginx:1"
    )
    a = make(world)
    b = make(world, project=other_project, target=other_target, tool_id="trivy")
    c = make(world, tool_id="semgrep")
    assert set(ids(member.get(f"/api/v1/findings/?project_id={world.project_a.pk}"))) == {
        a.pk,
        c.pk,
    }
    both = f"{world.project_a.pk},{other_project.pk}"
    assert len(ids(member.get(f"/api/v1/findings/?project_id={both}"))) == 3
    assert ids(member.get(f"/api/v1/findings/?target_id={other_target.pk}")) == [b.pk]
    assert set(ids(member.get("/api/v1/findings/?tool_id=trivy,semgrep"))) == {b.pk, c.pk}


def test_filter_by_scan_means_found_first_or_last_seen_by_it(world, member):
    first = run_scan(world, bandit(world, records("alpha", "bravo")))
    second = run_scan(world, bandit(world, records("alpha", "charlie")))
    by_title = {f.title: f.pk for f in Finding.objects.all()}
    assert set(ids(member.get(f"/api/v1/findings/?scan_id={first.pk}"))) == {
        by_title["alpha"],  # found first by it
        by_title["bravo"],  # last seen by it (auto-resolved by the second)
    }
    assert set(ids(member.get(f"/api/v1/findings/?scan_id={second.pk}"))) == {
        by_title["alpha"],
        by_title["charlie"],
    }


def test_filter_by_effective_severity_and_status(world, member):
    crit = make(world, severity="critical")
    raised = make(world, severity="low", severity_override="critical")
    lowered = make(world, severity="critical", severity_override="info")
    fp = make(world, severity="high", status="false_positive")
    assert set(ids(member.get("/api/v1/findings/?severity=critical"))) == {crit.pk, raised.pk}
    assert set(ids(member.get("/api/v1/findings/?severity=info,high"))) == {lowered.pk, fp.pk}
    assert ids(member.get("/api/v1/findings/?status=false_positive")) == [fp.pk]
    assert len(ids(member.get("/api/v1/findings/?status=new,false_positive"))) == 4
    bad = member.get("/api/v1/findings/?severity=urgent")
    assert bad.status_code == 400
    assert set(bad.json()) == {"detail", "errors", "error_code"}
    assert "severity" in bad.json()["errors"]
    assert member.get("/api/v1/findings/?status=open").status_code == 400


def test_filter_by_cwe_cve_path_and_search(world, member):
    a = make(world, cwe=79, cve="CVE-2024-1234", file_path="src/app/views.py", rule_id="B301")
    b = make(world, cwe=89, file_path="src/app2/db.py", title="SQL injection here")
    c = make(world, file_path="lib/src/app/x.py", rule_id="python.sqli")
    assert ids(member.get("/api/v1/findings/?cwe_id=79")) == [a.pk]
    assert set(ids(member.get("/api/v1/findings/?cwe_id=79,89"))) == {a.pk, b.pk}
    assert ids(member.get("/api/v1/findings/?cve_id=cve-2024-1234")) == [a.pk]
    assert set(ids(member.get("/api/v1/findings/?path=src/app"))) == {a.pk, b.pk}  # a prefix
    assert ids(member.get("/api/v1/findings/?path=src/app/")) == [a.pk]
    assert set(ids(member.get("/api/v1/findings/?search=sql"))) == {b.pk, c.pk}  # title, rule
    assert ids(member.get("/api/v1/findings/?search=VIEWS")) == [a.pk]  # path
    assert ids(member.get("/api/v1/findings/?search=b301")) == [a.pk]  # rule
    assert member.get("/api/v1/findings/?cwe_id=xss").status_code == 400


@pytest.mark.parametrize("name", ["project_id", "scan_id", "cwe_id", "assigned_to_user_id"])
def test_an_id_no_integer_column_holds_matches_nothing(world, member, name):
    """SQLite refused to bind 2**63 (a 500 on `make dev`); PostgreSQL matched nothing."""
    make(world)
    response = member.get(f"/api/v1/findings/?{name}={2**63}")
    assert response.status_code == 200 and ids(response) == []
    assert len(ids(member.get(f"/api/v1/findings/?{name}={2**63},{-(2**64)}"))) == 0


def test_filter_by_assignee_and_tag(world, member):
    a = make(world, assignee=world.users["admin"], tags=["pci", "backend"])
    b = make(world, assignee=world.users["member"], tags=["frontend"])
    make(world, tags=["pci-dss"])
    assert ids(member.get(f"/api/v1/findings/?assigned_to_user_id={world.users['admin'].pk}")) == [
        a.pk
    ]
    both = f"{world.users['admin'].pk},{world.users['member'].pk}"
    assert set(ids(member.get(f"/api/v1/findings/?assigned_to_user_id={both}"))) == {a.pk, b.pk}
    assert ids(member.get("/api/v1/findings/?tag=pci")) == [a.pk]  # not pci-dss
    assert ids(member.get("/api/v1/findings/?tag=PCI")) == [a.pk]
    assert set(ids(member.get("/api/v1/findings/?tag=backend,frontend"))) == {a.pk, b.pk}
    assert ids(member.get("/api/v1/findings/?tag=nothing")) == []


def test_filter_by_first_and_last_seen(world, member):
    now = timezone.now()
    old = make(world, first_seen_at=now - timedelta(days=30), last_seen_at=now - timedelta(days=20))
    recent = make(world, first_seen_at=now - timedelta(days=2), last_seen_at=now)
    day = (now - timedelta(days=10)).isoformat().replace("+00:00", "Z")
    assert ids(member.get(f"/api/v1/findings/?first_seen_after={day}")) == [recent.pk]
    assert ids(member.get(f"/api/v1/findings/?first_seen_before={day}")) == [old.pk]
    assert ids(member.get(f"/api/v1/findings/?last_seen_after={day}")) == [recent.pk]
    assert ids(member.get(f"/api/v1/findings/?last_seen_before={day}")) == [old.pk]
    assert member.get("/api/v1/findings/?first_seen_after=yesterday").status_code == 400


def test_filter_overdue(world, member):
    today = timezone.localdate()
    late = make(world, due_date=today - timedelta(days=1))
    late_but_closed = make(world, due_date=today - timedelta(days=1), status="resolved")
    due_today = make(world, due_date=today)
    no_sla = make(world)
    assert ids(member.get("/api/v1/findings/?overdue=true")) == [late.pk]
    assert set(ids(member.get("/api/v1/findings/?overdue=false"))) == {
        late_but_closed.pk,
        due_today.pk,
        no_sla.pk,
    }
    assert ids(member.get("/api/v1/findings/?overdue=1")) == [late.pk]
    # A word that is neither was read as no filter at all (the whole list): now a 400.
    bad = member.get("/api/v1/findings/?overdue=maybe")
    assert bad.status_code == 400 and bad.json()["errors"] == {"overdue": ["Use true or false."]}


# --- ordering -----------------------------------------------------------------------------------
def test_severity_sorts_by_rank_of_the_effective_severity(world, member):
    made = {s: make(world, severity=s) for s in ("info", "low", "critical", "medium", "high")}
    pinned = make(world, severity="info", severity_override="critical")
    order = ids(member.get("/api/v1/findings/"))  # default: -severity
    assert order == [
        pinned.pk,  # critical by override; among equals the newest first
        made["critical"].pk,
        made["high"].pk,
        made["medium"].pk,
        made["low"].pk,
        made["info"].pk,
    ]
    assert ids(member.get("/api/v1/findings/?ordering=severity")) == order[::-1]


def test_other_orderings(world, member):
    now = timezone.now()
    a = make(world, first_seen_at=now - timedelta(days=3), due_date=date(2030, 1, 1))
    b = make(world, first_seen_at=now - timedelta(days=1))
    c = make(world, first_seen_at=now - timedelta(days=2), due_date=date(2029, 1, 1))
    assert ids(member.get("/api/v1/findings/?ordering=first_seen_at")) == [a.pk, c.pk, b.pk]
    assert ids(member.get("/api/v1/findings/?ordering=-first_seen_at")) == [b.pk, c.pk, a.pk]
    assert ids(member.get("/api/v1/findings/?ordering=due_date")) == [c.pk, a.pk, b.pk]
    assert ids(member.get("/api/v1/findings/?ordering=-due_date")) == [a.pk, c.pk, b.pk]
    assert ids(member.get("/api/v1/findings/?ordering=id")) == [a.pk, b.pk, c.pk]
    assert member.get("/api/v1/findings/?ordering=title").status_code == 400


# --- cursor pagination ----------------------------------------------------------------------
def seed(world, n, **fields):
    now = timezone.now()
    severities = list(SEVERITY_RANK)
    rows = []
    for i in range(n):
        s = severities[i % 5]
        rows.append(
            dict(
                project=world.project_a,
                target=world.repo_a,
                tool_id="bandit",
                first_seen_at=now - timedelta(minutes=i % 7),
                last_seen_at=now,
                title=f"seeded {i}",
                severity=s,
                effective_severity=s,
                severity_rank=SEVERITY_RANK[s],
                fingerprint=uuid.uuid4().hex,
                due_date=(date(2030, 1, 1) + timedelta(days=i % 3)) if i % 4 else None,
                **fields,
            )
        )
    bulk_create_findings(rows)


def walk(client, url, direction="next"):
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.json()
        pages.append(response.json())
        url = response.json()[direction]
    return pages


@pytest.mark.parametrize(
    "ordering", ["-severity", "severity", "-first_seen_at", "due_date", "-due_date", "-id"]
)
def test_cursor_pages_walk_the_whole_list_in_order(world, member, ordering):
    seed(world, 23)
    full = ids(member.get(f"/api/v1/findings/?ordering={ordering}&page_size=500"))
    assert len(full) == 23
    pages = walk(member, f"/api/v1/findings/?ordering={ordering}&page_size=5")
    assert [len(p["results"]) for p in pages] == [5, 5, 5, 5, 3]
    assert [r["id"] for p in pages for r in p["results"]] == full
    assert pages[0]["previous"] is None and pages[-1]["next"] is None
    # Backwards from the last page gives the same pages in reverse.
    back = walk(member, pages[-1]["previous"], direction="previous")
    assert [[r["id"] for r in p["results"]] for p in back] == [
        [r["id"] for r in p["results"]] for p in pages[-2::-1]
    ]
    assert back[-1]["previous"] is None


def test_cursor_links_keep_the_filters_and_pages_stay_stable(world, member):
    seed(world, 30)
    make(world, severity="critical", status="false_positive")
    first = member.get("/api/v1/findings/?status=new&page_size=10").json()
    query = parse_qs(urlparse(first["next"]).query)
    assert query["status"] == ["new"] and query["page_size"] == ["10"] and "cursor" in query
    # Findings arriving meanwhile (at the top) neither repeat nor skip rows on later pages.
    make(world, severity="critical")
    rest = walk(member, first["next"])
    seen = [r["id"] for r in first["results"]] + [r["id"] for p in rest for r in p["results"]]
    assert len(seen) == len(set(seen)) == 30
    # The previous link of the second page leads back to the first page.
    second = member.get(first["next"]).json()
    previous = member.get(second["previous"]).json()
    assert [r["id"] for r in previous["results"]] == [r["id"] for r in first["results"]]


def test_deep_pages(world, member):
    seed(world, 1200)
    url, pages = "/api/v1/findings/?page_size=10", 0
    seen = []
    while url:
        body = member.get(url).json()
        seen += [r["id"] for r in body["results"]]
        url, pages = body["next"], pages + 1
    assert pages == 120 and len(set(seen)) == 1200
    expected = list(Finding.objects.order_by("-severity_rank", "-id").values_list("pk", flat=True))
    assert seen == expected


def test_page_size_is_capped_at_500_and_bad_cursors_are_refused(world, member):
    seed(world, 520)
    body = member.get("/api/v1/findings/?page_size=1000").json()
    assert len(body["results"]) == 500 and body["next"]
    assert len(member.get("/api/v1/findings/").json()["results"]) == 50  # the default
    assert member.get("/api/v1/findings/?page_size=0").status_code == 404
    assert member.get("/api/v1/findings/?page_size=ten").status_code == 404
    assert member.get("/api/v1/findings/?cursor=garbage").status_code == 404
    # A cursor of one ordering does not walk another.
    cursor = parse_qs(urlparse(body["next"]).query)["cursor"][0]
    assert member.get(f"/api/v1/findings/?cursor={cursor}&ordering=id").status_code == 404
    response = member.get(f"/api/v1/findings/?cursor={cursor}&page_size=1000")
    assert len(response.json()["results"]) == 20


# --- detail -------------------------------------------------------------------------------------
def test_the_detail_has_history_and_comments(world, member):
    run_scan(world, bandit(world, records("alpha")))
    finding = Finding.objects.get()
    member.patch(f"/api/v1/findings/{finding.pk}/", {"status": "confirmed", "note": "real"})
    member.post(f"/api/v1/findings/{finding.pk}/comments/", {"body": "Fix in sprint 12."})
    body = member.get(f"/api/v1/findings/{finding.pk}/").json()
    assert body["fingerprint"] == finding.fingerprint
    assert body["project_name"] == "Project A" and body["target_name"] == world.repo_a.name
    assert body["history"][0]["field"] == "status"
    assert body["history"][0]["actor"]["username"] == "member"
    assert body["history"][0]["note"] == "real"
    assert body["comments"][0]["body"] == "Fix in sprint 12."
    assert body["comments"][0]["author"]["username"] == "member"
    assert as_user(world, "auditor").get(f"/api/v1/findings/{finding.pk}/").status_code == 200
    assert as_user(world, "outsider").get(f"/api/v1/findings/{finding.pk}/").status_code == 404
    assert member.get("/api/v1/findings/999999/").status_code == 404


# --- PATCH ----------------------------------------------------------------------------------------
def test_status_transitions_are_validated(world, member):
    f = make(world, status="resolved")
    url = f"/api/v1/findings/{f.pk}/"
    refused = member.patch(url, {"status": "in_progress"})
    assert refused.status_code == 400
    assert "reopen it first" in refused.json()["errors"]["status"][0]
    assert member.patch(url, {"status": "new"}).status_code == 400
    assert member.patch(url, {"status": "auto_resolved"}).status_code == 400
    assert member.patch(url, {"status": "reopened"}).json()["status"] == "reopened"
    assert member.patch(url, {"status": "in_progress"}).json()["status"] == "in_progress"
    assert member.patch(url, {"status": "reopened"}).status_code == 400  # it is open
    resolved = member.patch(url, {"status": "resolved"}).json()
    assert resolved["status"] == "resolved" and resolved["resolved_at"]


def test_risk_acceptance_needs_a_justification_and_a_bounded_expiry(world, member, settings):
    settings.SECULITE_RISK_ACCEPTANCE_MAX_DAYS = 90
    f = make(world)
    url = f"/api/v1/findings/{f.pk}/"
    missing = member.patch(url, {"status": "risk_accepted"})
    assert missing.status_code == 400
    assert "risk_acceptance_justification" in missing.json()["errors"]
    past = (timezone.now() - timedelta(days=1)).isoformat()
    too_far = (timezone.now() + timedelta(days=91)).isoformat()
    for expiry in (past, too_far):
        response = member.patch(
            url,
            {
                "status": "risk_accepted",
                "risk_acceptance_justification": "WAF rule",
                "risk_acceptance_expires_at": expiry,
            },
        )
        assert response.status_code == 400
        assert "risk_acceptance_expires_at" in response.json()["errors"]
    orphan = member.patch(url, {"risk_acceptance_justification": "x"})
    assert orphan.status_code == 400
    body = member.patch(
        url, {"status": "risk_accepted", "risk_acceptance_justification": " WAF rule "}
    ).json()
    assert body["status"] == "risk_accepted"
    assert body["risk_accepted_by"]["username"] == "member"
    assert body["risk_acceptance_justification"] == "WAF rule"
    expires = f.__class__.objects.get(pk=f.pk).risk_acceptance_expires_at
    assert abs(expires - (timezone.now() + timedelta(days=90))) < timedelta(minutes=1)
    record = FindingHistory.objects.get(finding=f, field="risk_acceptance")
    assert record.note == "WAF rule" and record.new_value.startswith("until ")


def test_the_assignee_must_be_a_member_of_the_findings_organization(world, member):
    f = make(world)
    url = f"/api/v1/findings/{f.pk}/"
    refused = member.patch(url, {"assignee_id": world.users["outsider"].pk})
    assert refused.status_code == 400 and "assignee_id" in refused.json()["errors"]
    assert member.patch(url, {"assignee_id": 999999}).status_code == 400
    body = member.patch(url, {"assignee_id": world.users["admin"].pk}).json()
    assert body["assignee"]["username"] == "admin"
    assert member.patch(url, {"assignee_id": None}).json()["assignee"] is None


def test_due_date_tags_and_note(world, member):
    f = make(world)
    url = f"/api/v1/findings/{f.pk}/"
    body = member.patch(url, {"due_date": "2030-06-30", "tags": ["PCI", " web ", "pci"]}).json()
    assert body["due_date"] == "2030-06-30" and body["tags"] == ["pci", "web"]
    assert member.patch(url, {"tags": ["no spaces"]}).status_code == 400
    assert member.patch(url, {"tags": [f"t{i}" for i in range(21)]}).status_code == 400
    note_only = member.patch(url, {"note": "just a remark"})
    assert note_only.status_code == 400  # a note goes with a change; remarks are comments
    assert member.patch(url, {"due_date": None}).json()["due_date"] is None


def test_auditors_read_only_and_other_organizations_do_not_exist(world):
    f = make(world)
    url = f"/api/v1/findings/{f.pk}/"
    assert as_user(world, "auditor").patch(url, {"status": "confirmed"}).status_code == 403
    assert as_user(world, "outsider").patch(url, {"status": "confirmed"}).status_code == 404
    assert as_user(world, "admin").patch(url, {"status": "confirmed"}).status_code == 200
    assert FindingHistory.objects.filter(finding=f).count() == 1


# --- bulk update --------------------------------------------------------------------------------
def bulk(client, body):
    return client.post("/api/v1/findings/bulk_update/", body, format="json")


def test_bulk_update_by_ids_reports_failures(world, member):
    ok = [make(world) for _ in range(3)]
    closed = make(world, status="false_positive")
    theirs = make(world, "b")
    response = bulk(
        member,
        {
            "ids": [*[f.pk for f in ok], closed.pk, theirs.pk, 999999],
            "changes": {
                "status": "in_progress",
                "assignee_id": world.users["member"].pk,
                "note": "sprint 12",
            },
        },
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["updated"] == 3
    failed = {row["id"]: row["errors"] for row in body["failed"]}
    assert set(failed) == {closed.pk, theirs.pk, 999999}
    assert "status" in failed[closed.pk]
    assert failed[theirs.pk] == {"id": ["Not found."]}  # other organizations: not found
    assert set(
        Finding.objects.filter(pk__in=[f.pk for f in ok]).values_list("status", flat=True)
    ) == {"in_progress"}
    assert Finding.objects.get(pk=closed.pk).status == "false_positive"
    assert Finding.objects.get(pk=theirs.pk).status == "new"
    notes = FindingHistory.objects.filter(field="status").values_list("note", flat=True)
    assert list(notes) == ["sprint 12"] * 3
    assert FindingHistory.objects.filter(field="assignee").count() == 3


def test_bulk_update_by_filter(world, member):
    crit = [make(world, severity="critical") for _ in range(4)]
    make(world, severity="low")
    make(world, "b", severity="critical")  # not the caller's
    response = bulk(
        member,
        {
            "filter": {"severity": "critical", "project_id": [world.project_a.pk]},
            "changes": {
                "status": "risk_accepted",
                "risk_acceptance_justification": "legacy system, isolated",
                "risk_acceptance_expires_at": (timezone.now() + timedelta(days=30)).isoformat(),
            },
        },
    )
    assert response.json() == {"updated": 4, "failed": []}
    assert {f.status for f in Finding.objects.filter(pk__in=[f.pk for f in crit])} == {
        "risk_accepted"
    }
    assert Finding.objects.filter(status="risk_accepted").count() == 4
    bad = bulk(member, {"filter": {"severity": "urgent"}, "changes": {"status": "confirmed"}})
    assert bad.status_code == 400 and "filter.severity" in bad.json()["errors"]


def test_bulk_update_filter_values_as_json_types(world, member):
    """A filter may be a number or true/false, as JSON has them (they answered 500)."""
    mine = make(world, severity="high")
    make(world, "b", severity="high")  # not the caller's
    for tag, value in zip(
        "abc", (world.project_a.pk, [world.project_a.pk], str(world.project_a.pk)), strict=True
    ):
        response = bulk(member, {"filter": {"project_id": value}, "changes": {"tags": [tag]}})
        assert response.json() == {"updated": 1, "failed": []}, value
    assert Finding.objects.get(pk=mine.pk).tags == ["c"]
    # A number no id reaches selects nothing (it answered 500).
    response = bulk(member, {"filter": {"cwe_id": 2**63}, "changes": {"status": "confirmed"}})
    assert response.json() == {"updated": 0, "failed": []}
    response = bulk(
        member,
        {"filter": {"overdue": False, "search": None}, "changes": {"status": "confirmed"}},
    )
    assert response.json() == {"updated": 1, "failed": []}
    assert Finding.objects.get(pk=mine.pk).status == "confirmed"


@pytest.mark.parametrize(
    "selection",
    [
        {"project_id": {"a": 1}},
        {"status": [["new"]]},
        {"tag": [None]},
        {"first_seen_after": {"x": "y"}},
        {"project_id": 1e300},
        {"first_seen_after": 1234},
        {"overdue": "maybe"},
        {"overdue": {"a": 1}},
        # Filters that narrow nothing would reach every finding the caller may write.
        {"search": None},
        {"path": None, "severity": None},
        {"tag": ","},
        {"severity": ", ,"},
        {"search": "   "},
    ],
)
def test_bulk_update_refuses_a_filter_that_is_wrong_or_narrows_nothing(world, member, selection):
    f = make(world)
    response = bulk(member, {"filter": selection, "changes": {"status": "confirmed"}})
    assert response.status_code == 400, (selection, response.content)
    assert set(response.json()) == {"detail", "errors", "error_code"}
    assert Finding.objects.get(pk=f.pk).status == "new"


def test_bulk_update_validates_its_request(world, member):
    f = make(world)
    for body in (
        {"changes": {"status": "confirmed"}},  # neither ids nor filter
        {"ids": [f.pk], "filter": {"status": "new"}, "changes": {"status": "confirmed"}},
        {"filter": {}, "changes": {"status": "confirmed"}},  # the whole world: no
        {"filter": {"ordering": "-id"}, "changes": {"status": "confirmed"}},
        {"filter": {"colour": "red"}, "changes": {"status": "confirmed"}},
        {"ids": [f.pk], "changes": {}},
        {"ids": [f.pk], "changes": {"status": "risk_accepted"}},  # no justification
        {"ids": [], "changes": {"status": "confirmed"}},
    ):
        response = bulk(member, body)
        assert response.status_code == 400, body
        assert set(response.json()) == {"detail", "errors", "error_code"}
    assert Finding.objects.get(pk=f.pk).status == "new"


def test_bulk_update_roles(world):
    f = make(world)
    body = {"ids": [f.pk], "changes": {"status": "confirmed"}}
    assert bulk(as_user(world, "auditor"), body).status_code == 403
    assert bulk(as_user(world, "outsider"), body).status_code == 404
    assert bulk(as_user(world, "staff"), body).status_code == 404
    by_filter = {"filter": {"status": "new"}, "changes": {"status": "confirmed"}}
    assert bulk(as_user(world, "auditor"), by_filter).status_code == 403
    assert bulk(as_user(world, "outsider"), by_filter).json() == {"updated": 0, "failed": []}
    assert Finding.objects.get(pk=f.pk).status == "new"
    assert bulk(as_user(world, "member"), by_filter).json() == {"updated": 1, "failed": []}


def test_bulk_update_of_a_mixed_selection_skips_read_only_organizations(world):
    """A user who triages in one organization and audits another."""
    from apps.users.tests.factories import MembershipFactory

    MembershipFactory(organization=world.org_b, user=world.users["member"], role="auditor")
    mine, audited = make(world, "a"), make(world, "b")
    client = as_user(world, "member")
    response = bulk(client, {"ids": [mine.pk, audited.pk], "changes": {"status": "confirmed"}})
    assert response.json()["updated"] == 1
    assert response.json()["failed"][0]["id"] == audited.pk
    by_filter = bulk(client, {"filter": {"status": "new"}, "changes": {"tags": ["x"]}})
    assert by_filter.json() == {"updated": 0, "failed": []}  # mine is confirmed by now
    assert Finding.objects.get(pk=audited.pk).status == "new"


# --- comments -------------------------------------------------------------------------------------
def test_comments(world, member):
    f = make(world)
    url = f"/api/v1/findings/{f.pk}/comments/"
    created = member.post(url, {"body": "  First look: exploitable.  "})
    assert created.status_code == 201
    assert created.json()["body"] == "First look: exploitable."
    assert member.post(url, {"body": "   "}).status_code == 400
    member.post(url, {"body": "Second"})
    listed = member.get(url).json()
    assert [c["body"] for c in listed["results"]] == ["First look: exploitable.", "Second"]
    assert listed["next"] is None
    auditor = as_user(world, "auditor")
    assert auditor.get(url).status_code == 200
    assert auditor.post(url, {"body": "no"}).status_code == 403
    outsider = as_user(world, "outsider")
    assert outsider.get(url).status_code == 404
    assert outsider.post(url, {"body": "no"}).status_code == 404
    assert FindingComment.objects.count() == 2
