"""The bad-report corpus: every file in corpus/bad/ (named for what is wrong with it), and a few
big ones generated here, goes through the API; each must end as a failed import with a message,
no finding written and never a 500.

A file named `<anything>.format-<slug>.<ext>` is uploaded with `format=<slug>`."""

import json
from pathlib import Path

import pytest

from apps.findings.models import Finding
from apps.scans.models import ScanToolResult

from .import_helpers import CORPUS, client_for, fixture, upload

BAD = CORPUS / "bad"


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _json_nested_100k() -> bytes:
    return (
        b'{"errors": [], "generated_at": "x", "metrics": {}, "results": ['
        + _nested(100_000)
        + b"]}"
    )


def _sarif_nested_100k() -> bytes:
    log = (CORPUS / "good" / "hadolint.sarif").read_bytes()
    return log.replace(
        b'"ruleId":"DL3007"', b'"properties":' + _nested(100_000) + b',"ruleId":"x"', 1
    )


def _semgrep_over_the_unstreamed_limit() -> bytes:
    report = json.loads(fixture("semgrep", "semgrep-many.json").read_text())
    report["results"] = report["results"] * 200  # ~1.6 MB; the limit is set to 1 MB below
    return json.dumps(report).encode()


def _bandit_finding_then_truncated_megabytes() -> bytes:
    report = json.loads(fixture("bandit", "bandit-many.json").read_text())
    report["results"] = report["results"] * 2000
    text = json.dumps(report).encode()
    return text[: len(text) - 100]


GENERATED = {
    "json-nested-100k.json": _json_nested_100k,
    "sarif-nested-100k.json": _sarif_nested_100k,
    "semgrep-over-the-unstreamed-limit.json": _semgrep_over_the_unstreamed_limit,
    "bandit-22000-findings-then-truncated.json": _bandit_finding_then_truncated_megabytes,
}


def corpus() -> list:
    files = [pytest.param(path.name, id=path.name) for path in sorted(BAD.iterdir())]
    files = [p for p in files if not p.values[0].endswith(".md")]
    return files + [pytest.param(name, id=name) for name in GENERATED]


def test_the_corpus_has_at_least_40_bad_files():
    assert len(corpus()) >= 40


@pytest.mark.parametrize("name", corpus())
def test_a_bad_report_ends_as_a_failed_import_without_findings(
    world, settings, tmp_path, django_capture_on_commit_callbacks, name
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SECULITE_IMPORT_MAX_UNSTREAMED_MB = 1
    content = GENERATED[name]() if name in GENERATED else (BAD / name).read_bytes()
    fmt = name.split(".format-")[1].split(".")[0] if ".format-" in name else None
    client = client_for(world.users["member"])
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, world.project_a, content, name=Path(name).name, format=fmt)
    assert response.status_code == 202, response.content[:300]
    scan_id = response.json()["id"]
    scan = type(world.scan_a).objects.get(pk=scan_id)
    assert scan.status == "failed", f"{name}: {scan.status} {scan.summary}"
    assert scan.error_message
    results = ScanToolResult.objects.filter(scan=scan)
    assert results.exists()
    for result in results:
        assert result.status == "failed"
        assert result.error_message.startswith("Import failed: "), result.error_message
        assert result.findings_count == 0
    assert not Finding.objects.exists()
    detail = client.get(f"/api/v1/scans/{scan_id}/")
    assert detail.status_code == 200
    assert detail.json()["tool_results"][0]["error_message"] == results[0].error_message
