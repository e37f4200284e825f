"""`seculite scan ... --upload URL --project ID`: the CLI scans the sample with a real scanner and
sends its SARIF to a real HTTP server (Django's live server), where it becomes an import."""

import pytest

from apps.findings.models import Finding
from apps.scans.models import Scan
from apps.tools.tests.helpers import SAMPLE_APP, require_tool
from seculite import cli


@pytest.fixture
def api_key(world):
    from apps.users.services import api_key_rotate

    return api_key_rotate(user=world.users["member"])


@pytest.mark.django_db(transaction=True)
def test_a_cli_scan_is_uploaded_as_an_import(
    world, live_server, api_key, monkeypatch, capsys, tmp_path
):
    require_tool("hadolint")
    monkeypatch.setenv(cli.API_KEY_ENV, api_key)
    code = cli.main(
        [
            "scan",
            str(SAMPLE_APP),
            "--tools",
            "hadolint",
            "--format",
            "json",
            "--output",
            str(tmp_path / "report.json"),
            "--upload",
            f"{live_server.url}/api/v1/",
            "--project",
            str(world.project_a.pk),
        ]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    scan = Scan.objects.get(trigger_type="import", project=world.project_a)
    assert f"import scan {scan.pk}" in err
    assert scan.status == "completed", scan.error_message
    assert scan.triggered_by == world.users["member"]
    (result,) = scan.tool_results.all()
    assert (result.tool_id, result.findings_count) == ("hadolint", 9)
    assert Finding.objects.filter(sighting__scan=scan, tool_id="hadolint").count() == 9


def test_upload_options_are_checked_before_scanning(world, monkeypatch, capsys, tmp_path):
    monkeypatch.delenv(cli.API_KEY_ENV, raising=False)
    base = ["scan", str(tmp_path), "--tools", "hadolint"]
    assert cli.main([*base, "--upload", "https://seculite.example.org"]) == cli.EXIT_USAGE
    assert "--upload and --project go together" in capsys.readouterr().err
    assert cli.main([*base, "--upload", "https://x.example.org", "--project", "3"]) == 2
    assert "SECULITE_API_KEY" in capsys.readouterr().err
    monkeypatch.setenv(cli.API_KEY_ENV, "slk_x")
    assert cli.main([*base, "--upload", "ftp://x.example.org", "--project", "3"]) == 2
    assert "not an http(s) URL" in capsys.readouterr().err


def test_import_url():
    assert cli.import_url("https://s.example.org", 4) == (
        "https://s.example.org/api/v1/projects/4/imports/"
    )
    assert cli.import_url("https://s.example.org/sec/api/v1/", 4) == (
        "https://s.example.org/sec/api/v1/projects/4/imports/"
    )


@pytest.mark.django_db(transaction=True)
def test_a_refused_upload_exits_3(world, live_server, monkeypatch, capsys, tmp_path):
    require_tool("hadolint")
    monkeypatch.setenv(cli.API_KEY_ENV, "slk_not-a-valid-key")
    code = cli.main(
        [
            "scan",
            str(SAMPLE_APP),
            "--tools",
            "hadolint",
            "--output",
            str(tmp_path / "report.json"),
            "--upload",
            live_server.url,
            "--project",
            str(world.project_a.pk),
        ]
    )
    assert code == cli.EXIT_TOOL_ERROR
    assert "upload failed: HTTP 401" in capsys.readouterr().err
    assert not Scan.objects.filter(trigger_type="import").exists()
