"""Semgrep's parser on real semgrep 1.185 reports of SecuLite's rule packs."""

import io
import json

import pytest

from apps.tools.plugins.base import Confidence, ParseError, Severity
from apps.tools.plugins.registry import registry
from apps.tools.plugins.semgrep.parser import short_rule_id
from apps.tools.tests.capture_fixtures import FILES
from apps.tools.tests.helpers import SAMPLE_APP, by_rule, fixture, parse_fixture

PLUGIN = registry.get("semgrep")


def test_zero_findings():
    assert parse_fixture(PLUGIN, fixture(__file__, "semgrep-zero.json")) == []


def test_one_finding_fields(tmp_path):
    for name, text in FILES["semgrep"]["one"].items():
        (tmp_path / name).write_text(text)
    [finding] = parse_fixture(PLUGIN, fixture(__file__, "semgrep-one.json"), workspace=tmp_path)
    assert finding.rule_id == "seculite.python.eval-exec"
    assert finding.severity == Severity.HIGH
    assert finding.confidence == Confidence.MEDIUM
    assert finding.cwe == 95
    assert finding.file_path == "app.py"
    assert (finding.line_start, finding.line_end) == (2, 2)
    # semgrep's own "lines" says "requires login": the snippet is read from the file.
    assert finding.code_snippet == "    return eval(expression)"
    assert finding.title.startswith("eval/exec run a string as Python code")
    assert "https://cwe.mitre.org/data/definitions/95.html" in finding.references


def test_snippet_is_empty_without_the_workspace():
    [finding] = parse_fixture(PLUGIN, fixture(__file__, "semgrep-one.json"))
    assert finding.code_snippet == ""


def test_many_findings_across_languages():
    findings = parse_fixture(PLUGIN, fixture(__file__, "semgrep-many.json"), workspace=SAMPLE_APP)
    rules = by_rule(findings)
    assert len(findings) == 27
    assert {f.rule_id.split(".")[1] for f in findings} == {
        "python",
        "javascript",
        "dockerfile",
        "yaml",
    }
    curl = rules["seculite.dockerfile.curl-pipe-shell"][0]
    assert (curl.file_path, curl.line_start, curl.severity) == ("Dockerfile", 7, Severity.HIGH)
    assert curl.code_snippet == "RUN curl -sSL https://example.com/install.sh | sh"
    assert rules["seculite.dockerfile.latest-tag"][0].severity == Severity.LOW
    privileged = {f.file_path for f in rules["seculite.yaml.privileged-container"]}
    assert privileged == {"deploy/k8s/deployment.yaml", "docker-compose.yml"}
    sql = rules["seculite.python.sql-string-formatting"][0]
    assert (sql.line_start, sql.line_end, sql.cwe) == (41, 42, 89)
    assert sql.code_snippet.count("\n") == 1
    path = rules["seculite.javascript.path-traversal-fs"][0]
    assert path.file_path == "web/server.js" and path.cwe == 22


def test_hardcoded_credentials_are_redacted():
    findings = parse_fixture(PLUGIN, fixture(__file__, "semgrep-many.json"), workspace=SAMPLE_APP)
    creds = by_rule(findings)["seculite.python.hardcoded-credential"]
    assert len(creds) == 2
    dumped = json.dumps([f.to_dict() for f in findings])
    assert "Sup3rS3cretPassw0rd!" not in dumped and "AKIAIOSFODNN7EXAMPLE" not in dumped
    assert all(f.secret_hash and "***REDACTED***" in f.code_snippet for f in creds)


def test_rule_id_prefix_is_stripped():
    assert short_rule_id("tmp.x.rules.semgrep.seculite.python.eval-exec") == (
        "seculite.python.eval-exec"
    )
    assert short_rule_id("python.lang.security.audit.eval") == "python.lang.security.audit.eval"


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"{",
        b"[]",
        b'{"errors": []}',
        b'{"results": {}}',
        b'{"results": ["x"]}',
        b'{"results": [{"extra": "x"}]}',
    ],
)
def test_malformed_reports_raise_parse_error(payload):
    with pytest.raises(ParseError):
        list(PLUGIN.parse(io.BytesIO(payload)))


def test_truncated_real_report_raises_parse_error():
    data = fixture(__file__, "semgrep-many.json").read_bytes()
    with pytest.raises(ParseError):
        list(PLUGIN.parse(io.BytesIO(data[:-200])))


def test_classic_severities_are_mapped():
    report = {
        "results": [
            {
                "check_id": "a",
                "path": "x.py",
                "start": {"line": 1},
                "end": {"line": 1},
                "extra": {"severity": level, "message": "m", "metadata": {}},
            }
            for level in ("ERROR", "WARNING", "INFO", "CRITICAL")
        ]
    }
    findings = list(PLUGIN.parse(io.BytesIO(json.dumps(report).encode())))
    assert [f.severity for f in findings] == [
        Severity.HIGH,
        Severity.MEDIUM,
        Severity.INFO,
        Severity.CRITICAL,
    ]
