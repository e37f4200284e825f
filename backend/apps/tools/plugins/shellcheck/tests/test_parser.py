"""ShellCheck's parser on real shellcheck 0.9 json1 reports."""

import io

import pytest

from apps.tools.plugins.base import ParseError, Severity
from apps.tools.plugins.registry import registry
from apps.tools.tests.capture_fixtures import FILES
from apps.tools.tests.helpers import SAMPLE_APP, by_rule, fixture, parse_fixture

PLUGIN = registry.get("shellcheck")


def test_zero_findings():
    assert parse_fixture(PLUGIN, fixture(__file__, "shellcheck-zero.json")) == []


def test_one_finding_fields(tmp_path):
    for name, text in FILES["shellcheck"]["one"].items():
        (tmp_path / name).write_text(text)
    [finding] = parse_fixture(PLUGIN, fixture(__file__, "shellcheck-one.json"), workspace=tmp_path)
    assert finding.rule_id == "SC2086"
    assert finding.severity == Severity.LOW
    assert finding.cwe == 88
    assert finding.file_path == "run.sh"
    assert (finding.line_start, finding.line_end) == (2, 2)
    assert finding.code_snippet == "echo $1"
    assert finding.title == "Double quote to prevent globbing and word splitting."
    assert finding.references == ["https://www.shellcheck.net/wiki/SC2086"]
    assert finding.extra["has_fix"] is True


def test_many_findings():
    findings = parse_fixture(
        PLUGIN, fixture(__file__, "shellcheck-many.json"), workspace=SAMPLE_APP
    )
    rules = by_rule(findings)
    assert {f.file_path for f in findings} == {"scripts/deploy.sh", "scripts/backup"}
    cd = rules["SC2164"][0]
    assert (cd.file_path, cd.line_start, cd.code_snippet) == (
        "scripts/deploy.sh",
        4,
        "cd /srv/$TARGET",
    )
    assert rules["SC2006"][0].severity == Severity.INFO
    assert rules["SC3014"][0].file_path == "scripts/backup"
    # Several SC2086 on one line of deploy.sh: distinct, stable fingerprints.
    assert len({f.fingerprint for f in findings}) == len(findings)


@pytest.mark.parametrize(
    "payload",
    [b"", b"[]", b'{"comments": {}}', b'{"comments": [{"line": 1}]}', b'{"comments": ['],
)
def test_malformed_reports_raise_parse_error(payload):
    with pytest.raises(ParseError):
        list(PLUGIN.parse(io.BytesIO(payload)))
