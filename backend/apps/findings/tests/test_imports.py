"""Report imports through the API: the upload, who may do it, bad requests (never a 500), real
reports of every format with their exact counts, and reimports that follow the lifecycle."""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from apps.findings.models import Finding, ReportImport
from apps.findings.services.imports import IMPORT_TARGET_NAME
from apps.scans.models import Scan
from apps.tools.plugins.base import assign_fingerprints
from apps.tools.plugins.registry import registry

from .import_helpers import CORPUS, client_for, fixture, import_report, upload

GOOD = CORPUS / "good"


def imports_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


def stored_files() -> set[Path]:
    return {p for p in imports_dir().rglob("*") if p.is_file()} if imports_dir().exists() else set()


@pytest.fixture(autouse=True)
def _own_media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def member(world):
    return client_for(world.users["member"])


# --- the endpoint -----------------------------------------------------------------------------
def test_an_upload_is_stored_and_answered_202_with_its_scan(world, member):
    content = fixture("bandit", "bandit-one.json").read_bytes()
    response = upload(member, world.project_a, content, name="ci/bandit.json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["trigger_type"] == "import"
    assert body["status"] == "queued"
    assert body["project_id"] == world.project_a.pk
    assert body["report_import"]["original_name"] == "bandit.json"
    assert body["report_import"]["size_bytes"] == len(content)
    report = ReportImport.objects.get(scan_id=body["id"])
    assert report.file_path.startswith("imports/")
    assert (Path(settings.MEDIA_ROOT) / report.file_path).read_bytes() == content
    assert report.target.name == IMPORT_TARGET_NAME
    assert report.target.asset_type == "file_upload"


def test_an_uploaded_file_name_loses_its_control_characters(world, member):
    """The name is shown in lists and logs: a terminal escape or a bell stays out of them."""
    content = fixture("bandit", "bandit-one.json").read_bytes()
    response = upload(member, world.project_a, content, name="a\x1b[31mb\x07.json")
    assert response.status_code == 202, response.content
    assert response.json()["report_import"]["original_name"] == "a[31mb.json"
    assert ReportImport.objects.get().original_name == "a[31mb.json"


def test_an_upload_while_the_broker_is_down_is_kept_for_the_reaper(
    world, member, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    """The upload is stored and answered 202 (the broker's error used to surface after the
    commit, as a 500); the reaper sends the queued import once the broker is back."""
    import kombu.exceptions

    from apps.findings.jobs.imports import report_import_process

    def broker_down(*args, **kwargs):
        raise kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:6379.")

    monkeypatch.setattr(report_import_process, "delay", broker_down)
    content = fixture("bandit", "bandit-one.json").read_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(member, world.project_a, content)
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"
    assert "report_import_process not queued, the broker is unavailable" in caplog.text
    assert ReportImport.objects.filter(scan_id=response.json()["id"]).exists()


def test_the_import_is_processed_by_the_worker(world, member, django_capture_on_commit_callbacks):
    content = fixture("bandit", "bandit-many.json").read_bytes()
    _, scan = import_report(member, world.project_a, content, django_capture_on_commit_callbacks)
    assert scan.status == "completed", scan.error_message
    assert scan.trigger_type == "import"
    (result,) = scan.tool_results.all()
    assert (result.tool_id, result.status, result.findings_count) == ("bandit", "completed", 11)
    assert result.raw_output_path == ReportImport.objects.get(scan=scan).file_path
    assert ReportImport.objects.get(scan=scan).detected_format == "bandit"
    assert Finding.objects.filter(sighting__scan=scan, tool_id="bandit").count() == 11
    listing = member.get(f"/api/v1/projects/{world.project_a.pk}/imports/").json()
    assert [row["scan_id"] for row in listing["results"]] == [scan.pk]
    assert listing["results"][0]["status"] == "completed"


def test_imports_without_a_target_share_one_target(
    world, member, django_capture_on_commit_callbacks
):
    for name in ("bandit-one.json", "bandit-many.json"):
        import_report(
            member,
            world.project_a,
            fixture("bandit", name).read_bytes(),
            django_capture_on_commit_callbacks,
        )
    targets = world.project_a.targets.filter(name=IMPORT_TARGET_NAME)
    assert targets.count() == 1
    # The second report does not have the first one's finding: resolved on that shared target.
    assert Finding.objects.filter(target=targets.get()).count() == 12
    assert Finding.objects.filter(target=targets.get(), status="auto_resolved").count() == 1


def test_a_target_of_the_project_can_be_named(world, member, django_capture_on_commit_callbacks):
    _, scan = import_report(
        member,
        world.project_a,
        fixture("bandit", "bandit-one.json").read_bytes(),
        django_capture_on_commit_callbacks,
        target_id=world.repo_a.pk,
    )
    assert Finding.objects.get(sighting__scan=scan).target_id == world.repo_a.pk
    assert not world.project_a.targets.filter(name=IMPORT_TARGET_NAME).exists()


@pytest.mark.parametrize(("caller", "status"), [("auditor", 403), ("outsider", 404)])
def test_auditors_and_other_organizations_cannot_import(world, caller, status):
    response = upload(client_for(world.users[caller]), world.project_a, b'{"results": []}')
    assert response.status_code == status
    assert set(response.json()) >= {"detail", "errors", "error_code"}
    assert not Scan.objects.filter(trigger_type="import").exists()
    assert not stored_files()


@pytest.mark.parametrize("role", ["admin", "owner"])
def test_admins_and_owners_can_import(world, role):
    response = upload(client_for(world.users[role]), world.project_a, b'{"version": "2.1.0"}')
    assert response.status_code == 202


def bad_requests(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    def report():
        return SimpleUploadedFile("r.json", b'{"results": []}')

    return {
        "no file": {"target_id": world.repo_a.pk},
        "file sent as text": {"file": "not a file"},
        "file under another name": {"report": report()},
        "target of another project": {"file": report(), "target_id": world.target_b.pk},
        "unknown target": {"file": report(), "target_id": 99999999},
        "target id not a number": {"file": report(), "target_id": "abc"},
        "negative target id": {"file": report(), "target_id": -3},
        "huge target id": {"file": report(), "target_id": 10**30},
        "unknown format": {"file": report(), "format": "nessus"},
    }


@pytest.mark.parametrize(
    "case",
    [
        "no file",
        "file sent as text",
        "file under another name",
        "target of another project",
        "unknown target",
        "target id not a number",
        "negative target id",
        "huge target id",
        "unknown format",
    ],
)
def test_bad_requests_are_answered_400(world, member, case):
    data = bad_requests(world)[case]
    response = member.post(
        f"/api/v1/projects/{world.project_a.pk}/imports/", data, format="multipart"
    )
    assert response.status_code == 400, response.content
    assert set(response.json()) >= {"detail", "errors", "error_code"}
    assert not Scan.objects.filter(trigger_type="import").exists()
    assert not stored_files()


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/json", b'{"file": "x"}', 415),
        ("multipart/form-data", b"garbage", 400),
        ("multipart/form-data; boundary=XYZ", b"--XYZ\r\nContent-Disposition: form-da", 400),
        ("multipart/form-data; boundary=XYZ", b"", 400),
        (
            "multipart/form-data; boundary=XYZ",
            b'--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.json"\r\n\r\n'
            b"{}",  # the closing boundary never comes
            400,
        ),
        ("text/plain", b"hello", 415),
    ],
)
def test_broken_multipart_bodies_are_never_a_500(world, member, content_type, body, status):
    response = member.generic(
        "POST",
        f"/api/v1/projects/{world.project_a.pk}/imports/",
        body,
        content_type=content_type,
    )
    assert response.status_code in (status, 202), response.content
    assert response.status_code < 500
    if response.status_code != 202:
        assert set(response.json()) >= {"detail", "errors", "error_code"}


@override_settings(SECULITE_MAX_UPLOAD_MB=1)
def test_a_report_over_the_limit_is_413_and_nothing_is_kept(world, member):
    response = upload(member, world.project_a, b"[" + b"0," * 600_000 + b"0]")
    assert response.status_code == 413
    body = response.json()
    assert body["error_code"] == "file_too_large"
    assert "1 MB" in body["detail"]
    assert not stored_files()
    assert not Scan.objects.filter(trigger_type="import").exists()


@override_settings(SECULITE_MAX_UPLOAD_MB=1)
def test_a_body_announced_over_the_limit_is_refused_before_it_is_read(world, member):
    response = member.generic(
        "POST",
        f"/api/v1/projects/{world.project_a.pk}/imports/",
        b"--XYZ\r\n",
        content_type="multipart/form-data; boundary=XYZ",
        HTTP_CONTENT_LENGTH=str(50 * 1024 * 1024),
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )
    assert response.status_code == 413


def test_a_session_upload_needs_the_csrf_token(world):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.users["member"])
    response = upload(client, world.project_a, b'{"results": []}')
    assert response.status_code == 403
    assert not stored_files()


# --- real reports, exact counts ---------------------------------------------------------------
NATIVE = [
    ("bandit", "bandit-many.json", 11),
    ("bandit", "bandit-one.json", 1),
    ("bandit", "bandit-zero.json", 0),
    ("checkov", "checkov-many.json", 39),
    ("checkov", "checkov-zero.json", 0),
    ("detect-secrets", "detect-secrets-many.json", 4),
    ("eslint", "eslint-many.json", 4),
    ("gitleaks", "gitleaks-many.json", 4),
    ("hadolint", "hadolint-many.json", 9),
    ("nmap", "nmap-many.xml", 3),
    ("pip-audit", "pip-audit-many.json", 4),
    ("semgrep", "semgrep-many.json", 27),
    ("shellcheck", "shellcheck-many.json", 9),
    ("sslyze", "sslyze-many.json", 7),
    ("trivy-config", "trivy-config-one.json", 1),
    ("trivy-fs", "trivy-fs-many.json", 5),
    ("trivy-image", "trivy-zero.json", 0),
    ("wapiti", "wapiti-many.json", 7),
    ("zap-baseline", "zap-many.json", 20),
]


@pytest.mark.parametrize(("slug", "name", "count"), NATIVE, ids=[n for _, n, _ in NATIVE])
def test_native_reports_import_with_exact_counts(
    world, member, django_capture_on_commit_callbacks, slug, name, count
):
    if slug not in registry:
        pytest.fail(f"the {slug} plugin is not installed")
    path = fixture(slug, name)
    _, scan = import_report(
        member, world.project_a, path.read_bytes(), django_capture_on_commit_callbacks, name=name
    )
    assert scan.status == "completed", scan.error_message
    (result,) = scan.tool_results.all()
    assert result.tool_id == slug
    assert result.status == ("completed" if count else "no_findings")
    assert result.findings_count == count
    imported = Finding.objects.filter(sighting__scan=scan)
    assert imported.count() == count
    # The same findings, fingerprints included, as the plugin gives a platform scan.
    plugin = registry.get(slug)
    expected = plugin.parse_file(path)
    assign_fingerprints(slug, expected, plugin.fingerprint_fields)
    assert set(imported.values_list("fingerprint", flat=True)) == {f.fingerprint for f in expected}


def test_every_installed_plugin_has_an_exact_count_case_above():
    missing = set(registry.slugs()) - {slug for slug, _, _ in NATIVE}
    assert not missing, f"add exact-count import cases for {sorted(missing)}"


@pytest.mark.parametrize(
    ("name", "fmt", "slug"),
    [
        ("hadolint-zero.json", "hadolint", "hadolint"),
        ("gitleaks-zero.json", "gitleaks", "gitleaks"),
    ],
)
def test_an_empty_list_report_imports_with_its_format_named(
    world, member, django_capture_on_commit_callbacks, name, fmt, slug
):
    _, scan = import_report(
        member,
        world.project_a,
        fixture(slug, name).read_bytes(),
        django_capture_on_commit_callbacks,
        format=fmt,
    )
    assert scan.status == "completed"
    assert list(scan.tool_results.values_list("tool_id", "status")) == [(slug, "no_findings")]


SARIF = [
    ("semgrep.sarif", {"sarif:semgrep-oss": 27}),
    ("hadolint.sarif", {"sarif:hadolint": 9}),
    ("checkov.sarif", {"sarif:checkov": 39}),
    ("eslint.sarif", {"sarif:eslint": 4}),
    ("seculite-cli.sarif", {"bandit": 11, "hadolint": 9, "shellcheck": 9}),
]


@pytest.mark.parametrize(("name", "counts"), SARIF, ids=[n for n, _ in SARIF])
def test_real_sarif_logs_import_with_exact_counts(
    world, member, django_capture_on_commit_callbacks, name, counts
):
    _, scan = import_report(
        member, world.project_a, (GOOD / name).read_bytes(), django_capture_on_commit_callbacks
    )
    assert scan.status == "completed", scan.error_message
    got = dict(scan.tool_results.values_list("tool_id", "findings_count"))
    assert got == counts
    for tool_id, count in counts.items():
        assert Finding.objects.filter(sighting__scan=scan, tool_id=tool_id).count() == count
    assert ReportImport.objects.get(scan=scan).detected_format == "sarif"


def test_semgrep_sarif_fields(world, member, django_capture_on_commit_callbacks):
    _, scan = import_report(
        member,
        world.project_a,
        (GOOD / "semgrep.sarif").read_bytes(),
        django_capture_on_commit_callbacks,
    )
    latest = Finding.objects.get(
        sighting__scan=scan, rule_id__endswith="dockerfile.latest-tag", file_path="Dockerfile"
    )
    assert latest.line_start == 2
    assert latest.code_snippet == "FROM python:latest"
    assert latest.severity == "low"  # SARIF level "note"
    assert latest.cwe == 1104
    assert latest.title.startswith('The base image uses the mutable "latest" tag')
    assert latest.extra["sarif_tool"] == "Semgrep OSS"


def test_seculite_sarif_keeps_the_platform_fingerprints(
    world, member, django_capture_on_commit_callbacks
):
    """The CLI's SARIF and the native report of the same bandit run give the same findings."""
    import_report(
        member,
        world.project_a,
        fixture("bandit", "bandit-many.json").read_bytes(),
        django_capture_on_commit_callbacks,
    )
    _, cli = import_report(
        member,
        world.project_a,
        (GOOD / "seculite-cli.sarif").read_bytes(),
        django_capture_on_commit_callbacks,
    )
    assert cli.summary["new"] == 18  # hadolint 9 + shellcheck 9; bandit's 11 are recurring
    assert Finding.objects.filter(tool_id="bandit").count() == 11
    assert Finding.objects.filter(tool_id="bandit", sighting__scan=cli).count() == 11


# --- reimports and the lifecycle ----------------------------------------------------------------
def test_a_sarif_reimport_creates_nothing_and_a_removed_result_auto_resolves(
    world, member, django_capture_on_commit_callbacks
):
    log = json.loads((GOOD / "semgrep.sarif").read_text())
    content = json.dumps(log).encode()
    _, first = import_report(member, world.project_a, content, django_capture_on_commit_callbacks)
    assert first.summary["new"] == 27
    ids = set(Finding.objects.values_list("pk", flat=True))

    _, again = import_report(member, world.project_a, content, django_capture_on_commit_callbacks)
    assert again.status == "completed"
    assert again.summary["new"] == 0
    assert again.summary["recurring"] == 27
    assert set(Finding.objects.values_list("pk", flat=True)) == ids
    assert not Finding.objects.exclude(status="new").exists()

    removed = log["runs"][0]["results"].pop(0)
    _, third = import_report(
        member, world.project_a, json.dumps(log).encode(), django_capture_on_commit_callbacks
    )
    (gone,) = Finding.objects.exclude(sighting__scan=third)
    assert gone.status == "auto_resolved"
    assert gone.resolved_at_scan_id == third.pk
    region = removed["locations"][0]["physicalLocation"]["region"]
    assert gone.code_snippet == region["snippet"]["text"]
    assert Finding.objects.filter(status="new").count() == 26

    log["runs"][0]["results"].insert(0, removed)
    _, fourth = import_report(
        member, world.project_a, json.dumps(log).encode(), django_capture_on_commit_callbacks
    )
    assert Finding.objects.get(pk=gone.pk).status == "reopened"
    assert fourth.summary["new"] == 0


def test_a_failed_import_resolves_nothing(world, member, django_capture_on_commit_callbacks):
    good = (GOOD / "hadolint.sarif").read_bytes()
    import_report(member, world.project_a, good, django_capture_on_commit_callbacks)
    _, failed = import_report(
        member, world.project_a, good[:-300], django_capture_on_commit_callbacks
    )
    assert failed.status == "failed"
    assert Finding.objects.filter(status="new").count() == 9


@pytest.mark.parametrize("results", ["null", "absent"])
def test_a_sarif_run_without_results_fails_and_resolves_nothing(
    world, member, django_capture_on_commit_callbacks, results
):
    """`"results": null` (or none at all) means the tool produced nothing: the import fails
    for that tool instead of passing for a clean run that auto-resolves all its findings."""
    log = json.loads((GOOD / "hadolint.sarif").read_text())
    import_report(
        member, world.project_a, json.dumps(log).encode(), django_capture_on_commit_callbacks
    )
    open_before = Finding.objects.filter(status="new").count()
    assert open_before == 9
    if results == "null":
        log["runs"][0]["results"] = None
    else:
        del log["runs"][0]["results"]
    _, scan = import_report(
        member, world.project_a, json.dumps(log).encode(), django_capture_on_commit_callbacks
    )
    assert scan.status == "failed"
    result = scan.tool_results.get()
    assert result.status == "failed" and "no results (null or absent)" in result.error_message
    assert Finding.objects.filter(status="new").count() == open_before


def test_text_postgresql_would_refuse_is_cleaned_not_fatal(
    world, member, django_capture_on_commit_callbacks
):
    result = {
        "ruleId": "R1",
        "message": {"text": "nul \u0000 and lone \ud800 surrogate"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "a\u0000.py"},
                    "region": {"startLine": 10**12, "snippet": {"text": "x\u0000 = 1"}},
                }
            }
        ],
        "properties": {"weird": ["\u0000", {"k": "\udfff"}]},
    }
    log = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "T"}}, "results": [result]}]}
    content = json.dumps(log).encode()  # ASCII escapes: valid JSON, hostile text
    _, scan = import_report(member, world.project_a, content, django_capture_on_commit_callbacks)
    assert scan.status == "completed", scan.error_message
    finding = Finding.objects.get(sighting__scan=scan)
    assert "\x00" not in finding.title and finding.file_path == "a.py"
    assert finding.line_start is None
    assert finding.code_snippet == "x = 1"


def test_a_tool_that_says_it_failed_resolves_nothing_and_fails_the_import(
    world, member, django_capture_on_commit_callbacks
):
    cli = json.loads((GOOD / "seculite-cli.sarif").read_text())
    import_report(
        member, world.project_a, json.dumps(cli).encode(), django_capture_on_commit_callbacks
    )
    shellcheck = next(r for r in cli["runs"] if r["tool"]["driver"]["name"] == "ShellCheck")
    shellcheck["results"] = []
    shellcheck["invocations"] = [
        {
            "executionSuccessful": False,
            "toolExecutionNotifications": [{"level": "error", "message": {"text": "crashed"}}],
        }
    ]
    _, scan = import_report(
        member, world.project_a, json.dumps(cli).encode(), django_capture_on_commit_callbacks
    )
    assert scan.status == "failed"
    failed = scan.tool_results.get(tool_id="shellcheck")
    assert failed.status == "failed"
    assert failed.error_message == ("The report says shellcheck did not run successfully: crashed")
    # Nothing of shellcheck was resolved; the other tools were imported as usual.
    assert Finding.objects.filter(tool_id="shellcheck", status="new").count() == 9
    assert Finding.objects.filter(sighting__scan=scan).count() == 20


def test_heartbeats_while_importing(world, member, django_capture_on_commit_callbacks, monkeypatch):
    from apps.findings.services import imports

    monkeypatch.setattr(imports, "BEAT_SECONDS", 0)
    monkeypatch.setattr("apps.findings.services.ingestion.BATCH_ROWS", 5)
    monkeypatch.setattr("apps.findings.services.ingestion.BATCH_SIZE", 5)
    _, scan = import_report(
        member,
        world.project_a,
        (GOOD / "checkov.sarif").read_bytes(),
        django_capture_on_commit_callbacks,
    )
    assert scan.status == "completed"
    assert Finding.objects.filter(sighting__scan=scan).count() == 39


def test_ingestion_queries_are_fixed_per_batch(world, monkeypatch):
    """Batches of 5 rows. On PostgreSQL each batch is a COPY into the stage, one merge and a
    TRUNCATE on the raw connection (counted by the stage, not seen by Django), plus a fixed few
    per stage (constraints mode twice, the stage table, its TRUNCATE, the findings' id sequence,
    the target's lock), and Django runs the same statements for 10 or 40 findings; elsewhere
    each batch adds exactly one bulk upsert."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from apps.findings.services.ingestion import FindingStage
    from apps.findings.tests.lifecycle_helpers import records

    monkeypatch.setattr("apps.findings.services.ingestion.BATCH_ROWS", 5)
    monkeypatch.setattr("apps.findings.services.ingestion.BATCH_SIZE", 5)

    def ingest(n, prefix):
        scan = Scan.objects.create(project=world.project_a, trigger_type="manual")
        result = scan.tool_results.create(tool_id="bandit", target=world.repo_a)
        found = records(*[f"{prefix}{i}" for i in range(n)])
        with CaptureQueriesContext(connection) as queries, transaction.atomic():
            with FindingStage(scan=scan) as stage:
                stage.add_all(result, found)
                counts = stage.write()
        assert (counts.seen, counts.new) == (n, n)
        assert stage.batches == n // 5
        return len(queries), stage.statements

    ingest(5, "warm-up")  # one-time lookups (the SLA settings row) out of the way
    (small, small_raw), (large, large_raw) = ingest(10, "a"), ingest(40, "b")
    if connection.vendor == "postgresql":
        assert large - small == 0
        # COPY, the merge (findings and sightings), TRUNCATE: three per batch.
        assert small_raw == 6 + 3 * 2 and large_raw == 6 + 3 * 8
    else:
        # The findings' upsert, their ids, the sightings' upsert: three per batch.
        assert large - small == 3 * 6
        assert small_raw == large_raw == 0


def test_a_fingerprint_repeated_in_a_later_batch_is_one_finding_counted_once(world, monkeypatch):
    """The later record wins, and the counts (seen, new) count the finding once."""
    from django.db import transaction

    from apps.findings.services.ingestion import FindingStage
    from apps.findings.tests.lifecycle_helpers import records

    monkeypatch.setattr("apps.findings.services.ingestion.BATCH_ROWS", 3)
    monkeypatch.setattr("apps.findings.services.ingestion.BATCH_SIZE", 3)
    scan = Scan.objects.create(project=world.project_a, trigger_type="manual")
    result = scan.tool_results.create(tool_id="bandit", target=world.repo_a)
    found = records(*[f"r{i}" for i in range(7)])
    again = records("r1")[0]
    again.description = "seen again, later"
    with transaction.atomic(), FindingStage(scan=scan) as stage:
        stage.add_all(result, [*found, again])  # r1 was in the first batch
        counts = stage.write()
    assert (counts.seen, counts.new, counts.seen_by_result) == (7, 7, {result.pk: 7})
    assert Finding.objects.filter(sighting__scan=scan).count() == 7
    assert Finding.objects.get(fingerprint=again.fingerprint).description == "seen again, later"
    rescan = Scan.objects.create(project=world.project_a, trigger_type="manual")
    result = rescan.tool_results.create(tool_id="bandit", target=world.repo_a)
    with transaction.atomic(), FindingStage(scan=rescan) as stage:
        stage.add_all(result, [*found, again])  # all known now: nothing new
        counts = stage.write()
    assert (counts.seen, counts.new) == (7, 0)


def _ingest(world, found):
    """Stage `found` as a new manual scan's bandit result on repo A: (scan, result, counts)."""
    from django.db import transaction

    from apps.findings.services.ingestion import FindingStage

    scan = Scan.objects.create(project=world.project_a, trigger_type="manual")
    result = scan.tool_results.create(tool_id="bandit", target=world.repo_a)
    with transaction.atomic(), FindingStage(scan=scan) as stage:
        stage.add_all(result, found)
        return scan, result, stage.write()


def test_a_reimport_refreshes_the_content_and_keeps_triage(world):
    """A finding seen again takes the report's content and last-seen scan; its status,
    override (and the override's rank), first sighting and id stay."""
    from django.db import connection
    from django.utils import timezone

    from apps.findings.services.lifecycle import findings_reconcile_severity
    from apps.findings.tests.lifecycle_helpers import records

    first, _, _ = _ingest(world, records(("kept", "low"), ("moved", "low")))
    Finding.objects.filter(title="kept").update(
        status="confirmed", severity_override="critical", severity_rank=4
    )
    before = {f.title: f for f in Finding.objects.with_sighting()}
    changed = records(("kept", "high"), ("moved", "high"))
    changed[1].line_start = 99
    changed[1].extra = {"note": "moved down"}
    scan, result, counts = _ingest(world, changed)
    assert (counts.seen, counts.new) == (2, 0)
    kept, moved = Finding.objects.get(title="kept"), Finding.objects.get(title="moved")
    assert (kept.pk, moved.pk) == (before["kept"].pk, before["moved"].pk)
    assert (kept.status, kept.severity, kept.severity_override) == ("confirmed", "high", "critical")
    if connection.vendor == "postgresql":  # the merge keeps it; elsewhere the lifecycle
        assert kept.severity_rank == 4  # the override's, not the scanner's 3
    findings_reconcile_severity(queryset=Finding.objects.all(), now=timezone.now())
    assert Finding.objects.get(title="kept").severity_rank == 4
    assert (moved.severity, moved.severity_rank, moved.line_start) == ("high", 3, 99)
    assert moved.extra == {"note": "moved down"}
    for finding in (kept, moved):
        assert finding.first_seen_scan_id == first.pk
        assert (finding.last_seen_scan_id, finding.tool_result_id) == (scan.pk, result.pk)
        assert finding.last_seen_at > before[finding.title].last_seen_at


def test_a_reimport_rewrites_only_the_findings_whose_content_changed(world):
    """An unchanged finding seen again gets a new sighting (scan, time, tool result) and keeps
    its row as it was: rewriting the row would write every index of the findings table. A
    finding whose content changed is rewritten."""
    from django.db import connection

    from apps.findings.models import FindingSighting
    from apps.findings.tests.lifecycle_helpers import records

    def versions() -> dict[str, tuple]:
        """Each row's version: PostgreSQL's xmin (the transaction that last wrote it), else
        the update time."""
        column = "xmin::text" if connection.vendor == "postgresql" else "updated_at"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT title, {column} FROM findings_finding")  # noqa: S608
            return dict(cursor.fetchall())

    _ingest(world, records(*[f"same {i}" for i in range(6)], ("edited", "low")))
    before = versions()
    changed = records(*[f"same {i}" for i in range(6)], ("edited", "low"))
    changed[-1].line_start = 42
    scan, result, counts = _ingest(world, changed)
    after = versions()
    assert (counts.seen, counts.new) == (7, 0)
    if connection.vendor == "postgresql":
        assert [t for t in before if after[t] != before[t]] == ["edited"]
    assert Finding.objects.get(title="edited").line_start == 42
    sightings = FindingSighting.objects.filter(finding__project=world.project_a)
    assert sorted(sightings.values_list("scan_id", "tool_result_id").distinct()) == [
        (scan.pk, result.pk)
    ]
    assert sightings.count() == 7


def test_a_deleted_scan_leaves_no_finding_or_sighting_pointing_at_it(world):
    """A finding's scans (first seen, resolved at) and its sighting's scan and tool result carry
    no database constraint (an import would look them up for every finding), nor does the
    sighting's finding: Django's collector clears the references when a scan goes, and a
    finding's deletion takes its sighting with it."""
    from apps.findings.models import FindingSighting
    from apps.findings.tests.lifecycle_helpers import records

    first, _, _ = _ingest(world, records("alpha", "beta"))
    second, result, _ = _ingest(world, records("alpha"))
    Finding.objects.filter(title="beta").update(resolved_at_scan=second)
    second.delete()
    rows = dict(FindingSighting.objects.values_list("finding__title", "scan_id"))
    assert rows == {"alpha": None, "beta": first.pk}
    assert not FindingSighting.objects.filter(tool_result_id=result.pk).exists()
    assert Finding.objects.get(title="beta").resolved_at_scan_id is None
    first.delete()
    assert list(Finding.objects.values_list("first_seen_scan_id", flat=True)) == [None, None]
    Finding.objects.filter(title="beta").delete()
    assert list(FindingSighting.objects.values_list("finding__title", flat=True)) == ["alpha"]
    assert FindingSighting.objects.count() == 1


def test_a_cancelled_import_writes_nothing(world, member, django_capture_on_commit_callbacks):
    from apps.findings.services.imports import report_import_process

    response = upload(member, world.project_a, fixture("bandit", "bandit-many.json").read_bytes())
    scan_id = response.json()["id"]
    cancel = member.post(f"/api/v1/scans/{scan_id}/cancel/")
    assert cancel.status_code == 200, cancel.content
    report_import_process(scan_id=scan_id)  # the queued task runs after all
    scan = Scan.objects.get(pk=scan_id)
    assert scan.status == "cancelled"
    assert not Finding.objects.exists()


def test_an_import_that_kept_killing_its_worker_fails(world, member, settings):
    from apps.findings.services.imports import report_import_process

    response = upload(member, world.project_a, fixture("bandit", "bandit-many.json").read_bytes())
    scan = Scan.objects.get(pk=response.json()["id"])
    scan.tool_results.update(status="running", attempts=settings.SECULITE_TOOL_MAX_ATTEMPTS)
    report_import_process(scan_id=scan.pk, task_id="redelivered")
    scan.refresh_from_db()
    assert scan.status == "failed"
    attempts = settings.SECULITE_TOOL_MAX_ATTEMPTS
    assert f"stopped {attempts} times" in scan.tool_results.get().error_message
    assert not Finding.objects.exists()
