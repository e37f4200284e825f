"""Checkov's parser on real checkov 3.3.30 reports: object, list and bare-summary shapes."""

import io
import json

import pytest

from apps.tools.plugins.base import ParseError, Severity
from apps.tools.plugins.checkov.parser import rate
from apps.tools.plugins.registry import registry
from apps.tools.tests.helpers import by_rule, fixture, parse_fixture

PLUGIN = registry.get("checkov")


def test_zero_findings_from_the_bare_summary():
    data = json.loads(fixture(__file__, "checkov-zero.json").read_text())
    assert "check_type" not in data and data["passed"] == 0  # the shape being tested
    assert parse_fixture(PLUGIN, fixture(__file__, "checkov-zero.json")) == []


def test_one_finding_from_a_single_framework_object():
    assert isinstance(json.loads(fixture(__file__, "checkov-one.json").read_text()), dict)
    [finding] = parse_fixture(PLUGIN, fixture(__file__, "checkov-one.json"))
    assert finding.rule_id == "CKV_DOCKER_5"
    assert finding.title == "Ensure update instructions are not use alone in the Dockerfile"
    assert finding.severity == Severity.MEDIUM
    assert finding.file_path == "Dockerfile"
    assert (finding.line_start, finding.line_end) == (6, 6)
    assert finding.extra["framework"] == "dockerfile"
    assert finding.extra["resource"] == "/Dockerfile.RUN"
    assert finding.cwe is None and finding.references == []


def test_many_findings_from_the_framework_list():
    findings = parse_fixture(PLUGIN, fixture(__file__, "checkov-many.json"))
    assert len(findings) == 39
    assert {f.extra["framework"] for f in findings} == {"kubernetes", "dockerfile", "terraform"}
    rules = by_rule(findings)
    privileged = rules["CKV_K8S_16"][0]
    assert privileged.severity == Severity.HIGH
    assert privileged.file_path == "deploy/k8s/deployment.yaml"
    assert (privileged.line_start, privileged.line_end) == (2, 27)
    assert privileged.extra["resource"] == "Deployment.default.vulnerable-app"
    public = rules["CKV_AWS_20"][0]
    assert (public.file_path, public.severity) == ("deploy/terraform/main.tf", Severity.HIGH)
    assert rules["CKV_AWS_24"][0].extra["resource"] == "aws_security_group.ssh"
    assert rules["CKV_DOCKER_2"][0].severity == Severity.LOW
    assert rules["CKV_AWS_3"][0].severity == Severity.MEDIUM
    assert rules["CKV_DOCKER_8"][0].line_start == 4
    # Same check, several resources: the resource keeps the fingerprints apart.
    assert len({f.fingerprint for f in findings}) == len(findings)


def test_reported_severity_wins_over_the_table():
    assert rate("CKV_K8S_16", "LOW") == Severity.LOW
    assert rate("CKV_K8S_16", None) == Severity.HIGH
    assert rate("CKV_NEW_1", None) == Severity.MEDIUM


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"{",
        b'"text"',
        b'{"unexpected": 1}',
        b"[1]",
        b'{"check_type": "terraform", "results": {"failed_checks": {}}}',
        b'{"check_type": "terraform", "results": {"failed_checks": [{"check_name": "x"}]}}',
    ],
)
def test_malformed_reports_raise_parse_error(payload):
    with pytest.raises(ParseError):
        list(PLUGIN.parse(io.BytesIO(payload)))


def test_truncated_real_report_raises_parse_error():
    data = fixture(__file__, "checkov-many.json").read_bytes()
    with pytest.raises(ParseError):
        list(PLUGIN.parse(io.BytesIO(data[: len(data) // 3])))
