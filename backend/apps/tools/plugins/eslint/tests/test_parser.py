"""ESLint's parser on real eslint 10 + eslint-plugin-security 4 reports."""

import io
import json

import pytest

from apps.tools.plugins.base import Confidence, ParseError, Severity
from apps.tools.plugins.registry import registry
from apps.tools.tests.helpers import FIXTURE_ROOT, by_rule, fixture, parse_fixture

PLUGIN = registry.get("eslint")
ONE_ROOT = FIXTURE_ROOT / "eslint" / "one"  # where capture_fixtures.py ran eslint
MANY_ROOT = FIXTURE_ROOT / "many"


def test_zero_findings():
    assert parse_fixture(PLUGIN, fixture(__file__, "eslint-zero.json"), workspace=ONE_ROOT) == []


def test_one_finding_fields():
    [finding] = parse_fixture(PLUGIN, fixture(__file__, "eslint-one.json"), workspace=ONE_ROOT)
    assert finding.rule_id == "security/detect-eval-with-expression"
    assert (finding.severity, finding.confidence, finding.cwe) == (
        Severity.HIGH,
        Confidence.MEDIUM,
        95,
    )
    assert finding.file_path == "app.js"  # eslint reports absolute paths
    assert (finding.line_start, finding.line_end) == (2, 2)
    # From the report's own "source": no need to read the file.
    assert finding.code_snippet == "  return eval(input);"
    assert finding.references[0].endswith("/docs/rules/detect-eval-with-expression.md")
    assert finding.extra["column"] == 10


def test_many_findings():
    findings = parse_fixture(PLUGIN, fixture(__file__, "eslint-many.json"), workspace=MANY_ROOT)
    rules = by_rule(findings)
    assert set(rules) == {
        "security/detect-eval-with-expression",
        "security/detect-non-literal-fs-filename",
        "security/detect-child-process",
        "security/detect-object-injection",
    }
    assert all(f.file_path == "web/server.js" for f in findings)
    fs = rules["security/detect-non-literal-fs-filename"][0]
    assert (fs.line_start, fs.line_end, fs.cwe, fs.severity) == (12, 14, 22, Severity.MEDIUM)
    assert fs.code_snippet.startswith('  fs.readFile("/srv/files/" + name')
    injection = rules["security/detect-object-injection"][0]
    assert (injection.severity, injection.confidence) == (Severity.LOW, Confidence.LOW)
    assert injection.code_snippet == "  prefs[key] = req.body.value;"
    assert rules["security/detect-child-process"][0].severity == Severity.HIGH


def test_fatal_parse_errors_are_not_findings():
    report = [
        {
            "filePath": "/w/a.js",
            "messages": [
                {
                    "ruleId": None,
                    "fatal": True,
                    "severity": 2,
                    "message": "Parsing error",
                    "line": 1,
                }
            ],
        }
    ]
    assert list(PLUGIN.parse(io.BytesIO(json.dumps(report).encode()), workspace=None)) == []


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"{}",
        b"[",
        b'["x"]',
        b'[{"filePath": "a.js", "messages": {}}]',
        b'[{"filePath": "a.js", "messages": ["x"]}]',
    ],
)
def test_malformed_reports_raise_parse_error(payload):
    with pytest.raises(ParseError):
        list(PLUGIN.parse(io.BytesIO(payload)))
