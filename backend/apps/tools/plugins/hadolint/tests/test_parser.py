"""hadolint's parser on real hadolint 2.15.1 reports."""

import io

import pytest

from apps.tools.plugins.base import ParseError, Severity
from apps.tools.plugins.registry import registry
from apps.tools.tests.helpers import SAMPLE_APP, by_rule, fixture, parse_fixture

PLUGIN = registry.get("hadolint")


def test_zero_findings():
    assert parse_fixture(PLUGIN, fixture(__file__, "hadolint-zero.json")) == []


def test_one_finding_fields():
    [finding] = parse_fixture(PLUGIN, fixture(__file__, "hadolint-one.json"))
    assert finding.rule_id == "DL3007"
    assert finding.severity == Severity.LOW
    assert finding.file_path == "Dockerfile"  # hadolint wrote "./Dockerfile"
    assert (finding.line_start, finding.line_end) == (1, 1)
    assert finding.cwe == 1104
    assert finding.title.startswith("Using latest is prone to errors")
    assert finding.references == ["https://github.com/hadolint/hadolint/wiki/DL3007"]
    assert finding.extra["level"] == "warning"


def test_many_findings():
    findings = parse_fixture(PLUGIN, fixture(__file__, "hadolint-many.json"), workspace=SAMPLE_APP)
    rules = by_rule(findings)
    assert len(findings) == 9
    root = rules["DL3002"][0]
    assert (root.severity, root.cwe, root.line_start) == (Severity.MEDIUM, 250, 4)
    assert root.code_snippet == "USER root"
    assert rules["DL3008"][0].code_snippet == "RUN apt-get update && apt-get install -y curl gcc"
    assert rules["DL3009"][0].severity == Severity.INFO
    assert rules["DL4006"][0].line_start == 7


@pytest.mark.parametrize(
    "payload",
    [b"", b"[", b"{}", b'["x"]', b'[{"line": 1}]', b'[{"code": "DL1", "line": 1}'],
)
def test_malformed_reports_raise_parse_error(payload):
    with pytest.raises(ParseError):
        list(PLUGIN.parse(io.BytesIO(payload)))
