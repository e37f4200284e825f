"""Bandit's parser on real bandit 1.9.4 reports (fixtures captured by capture_fixtures.py)."""

import io
import json

import pytest

from apps.tools.plugins.base import Confidence, ParseError, Severity
from apps.tools.plugins.registry import registry
from apps.tools.tests.helpers import by_rule, fixture, parse_fixture

PLUGIN = registry.get("bandit")


def test_zero_findings():
    assert parse_fixture(PLUGIN, fixture(__file__, "bandit-zero.json")) == []


def test_one_finding_fields():
    [finding] = parse_fixture(PLUGIN, fixture(__file__, "bandit-one.json"))
    assert finding.rule_id == "B307"
    assert finding.severity == Severity.MEDIUM
    assert finding.confidence == Confidence.HIGH
    assert finding.file_path == "app.py"
    assert (finding.line_start, finding.line_end) == (2, 2)
    assert finding.cwe == 78
    # Only the flagged line, without bandit's "<n> " prefixes or the context lines.
    assert finding.code_snippet == "    return eval(expression)"
    assert finding.title.startswith("Use of possibly insecure function")
    assert finding.references[0].startswith("https://bandit.readthedocs.io/")
    assert finding.extra["test_name"] == "blacklist"
    assert finding.fingerprint


def test_many_findings_map_severities_and_redact_passwords():
    findings = parse_fixture(PLUGIN, fixture(__file__, "bandit-many.json"))
    rules = by_rule(findings)
    assert len(findings) == 11
    shell = rules["B602"][0]
    assert (shell.severity, shell.confidence, shell.cwe) == (Severity.HIGH, Confidence.HIGH, 78)
    assert shell.file_path == "app/views.py" and shell.line_start == 15
    assert rules["B608"][0].confidence == Confidence.LOW
    assert rules["B608"][0].cwe == 89
    assert rules["B404"][0].severity == Severity.LOW
    password = rules["B105"][0]
    assert password.file_path == "app/settings.py"
    assert password.secret_hash and len(password.secret_hash) == 64
    assert "Sup3rS3cretPassw0rd!" not in json.dumps([f.to_dict() for f in findings])
    assert "***REDACTED***" in password.code_snippet
    assert len({f.fingerprint for f in findings}) == len(findings)


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"not json",
        b'{"results": [',
        b"[]",
        b'{"errors": []}',
        b'{"results": "oops"}',
        b'{"results": [1, 2]}',
    ],
)
def test_malformed_reports_raise_parse_error(payload):
    with pytest.raises(ParseError):
        list(PLUGIN.parse(io.BytesIO(payload)))


def test_truncated_real_report_raises_parse_error():
    data = fixture(__file__, "bandit-many.json").read_bytes()
    with pytest.raises(ParseError):
        list(PLUGIN.parse(io.BytesIO(data[: len(data) // 2])))


def test_oversized_report_is_refused():
    data = fixture(__file__, "bandit-many.json").read_bytes()
    from apps.tools.plugins.bandit.parser import parse_report

    with pytest.raises(ParseError, match="larger than"):
        list(parse_report(io.BytesIO(data), max_bytes=1000))


def test_missing_optional_fields_are_left_empty():
    report = {"results": [{"test_id": "B101", "issue_severity": "LOW"}]}
    [finding] = PLUGIN.parse(io.BytesIO(json.dumps(report).encode()))
    assert finding.rule_id == "B101"
    assert finding.file_path == "" and finding.line_start is None and finding.cwe is None
    assert finding.references == [] and finding.code_snippet == ""


def test_the_flagged_lines_are_found_whatever_their_number_looks_like():
    """`code` lines are "<n> <text>"; a number glued to its text, in other digits or with no
    text still counts, a line without a leading number does not."""
    code = "3 before\n4x = 1\n\u0664  indented\n4\n 4 leading space\nfour\n5 after\n"
    report = {"results": [{"test_id": "B101", "code": code, "line_number": 4}]}
    [finding] = PLUGIN.parse(io.BytesIO(json.dumps(report).encode()))
    assert finding.code_snippet == "x = 1\n indented"


def test_unusual_severity_words_and_cwe_shapes():
    report = {
        "results": [
            {"issue_severity": " high ", "issue_confidence": "low", "issue_cwe": "CWE-22"},
            {"issue_severity": ["HIGH"], "issue_confidence": {"x": 1}, "issue_cwe": {"id": 0}},
            {"issue_severity": "UNDEFINED", "issue_confidence": "HIGH", "issue_cwe": [259]},
        ]
    }
    findings = list(PLUGIN.parse(io.BytesIO(json.dumps(report).encode())))
    assert [(f.severity, f.confidence, f.cwe) for f in findings] == [
        (Severity.HIGH, Confidence.LOW, 22),
        (Severity.MEDIUM, Confidence.UNKNOWN, None),
        (Severity.INFO, Confidence.HIGH, 259),
    ]


def test_a_line_number_of_thousands_of_digits_is_no_line_number():
    """int() refuses more than 4300 digits: such a prefix is not a line number, not an error."""
    code = "9" * 5000 + " x = 1\n" + "9" * 5000 + "y = 2\n" + "1234567890 z\n4 kept\n"
    report = {"results": [{"test_id": "B101", "code": code, "line_number": 4}]}
    [finding] = PLUGIN.parse(io.BytesIO(json.dumps(report).encode()))
    assert finding.code_snippet == "kept"
    report["results"][0]["line_number"] = None  # no line number: every numbered line is kept
    [finding] = PLUGIN.parse(io.BytesIO(json.dumps(report).encode()))
    assert finding.code_snippet == "kept"
