"""pip-audit's parser on real pip-audit 2.10.1 reports (answered by tests/osv_server.py)."""

import io

import pytest

from apps.tools.plugins.base import ParseError, Severity
from apps.tools.plugins.registry import registry
from apps.tools.tests.helpers import fixture, parse_fixture

PLUGIN = registry.get("pip-audit")


def test_zero_findings():
    assert parse_fixture(PLUGIN, fixture(__file__, "pip-audit-zero.json")) == []


def test_one_finding_fields():
    [finding] = parse_fixture(PLUGIN, fixture(__file__, "pip-audit-one.json"))
    assert finding.rule_id == "PYSEC-2021-142"
    assert finding.cve == "CVE-2020-14343"
    assert (finding.package_name, finding.package_version, finding.fixed_version) == (
        "pyyaml",
        "5.3",
        "5.4",
    )
    assert finding.severity == Severity.MEDIUM
    assert finding.title == "pyyaml 5.3: CVE-2020-14343"
    assert "full_load" in finding.description
    assert finding.remediation == "Upgrade pyyaml to 5.4 or later."
    assert "https://osv.dev/vulnerability/PYSEC-2021-142" in finding.references
    assert "https://github.com/advisories/GHSA-8q59-q68h-6hv4" in finding.references
    assert finding.file_path == "" and finding.line_start is None


def test_many_findings():
    findings = parse_fixture(PLUGIN, fixture(__file__, "pip-audit-many.json"))
    assert {(f.package_name, f.rule_id) for f in findings} == {
        ("django", "CVE-2021-33571"),
        ("requests", "PYSEC-2018-28"),
        ("requests", "PYSEC-2023-74"),
        ("pyyaml", "PYSEC-2021-142"),
    }
    requests = {f.rule_id: f for f in findings if f.package_name == "requests"}
    assert requests["PYSEC-2018-28"].fixed_version == "2.20.0"
    assert requests["PYSEC-2023-74"].cve == "CVE-2023-32681"
    assert len({f.fingerprint for f in findings}) == 4


def test_skipped_dependencies_and_filler_descriptions():
    report = (
        b'{"dependencies": [{"name": "local", "skip_reason": "not on PyPI"},'
        b' {"name": "x", "version": "1.0", "vulns": [{"id": "PYSEC-1", "fix_versions": [],'
        b' "aliases": [], "description": "N/A"}]}], "fixes": []}'
    )
    [finding] = PLUGIN.parse(io.BytesIO(report))
    assert finding.description == "" and finding.fixed_version == "" and finding.remediation == ""


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"[]",
        b"{}",
        b'{"dependencies": {}}',
        b'{"dependencies": [{"version": "1"}]}',
        b'{"dependencies": [{"name": "x", "version": "1", "vulns": [{"fix_versions": []}]}]}',
        # pip-audit always writes a list: null is not "no vulnerabilities".
        b'{"dependencies": [{"name": "x", "version": "1", "vulns": null}]}',
        b'{"dependencies": [{"name": "x", "version": "1"}]}',
        b'{"dependencies": [{"name": "x", "version": "1", "vulns": {}}]}',
    ],
)
def test_malformed_reports_raise_parse_error(payload):
    with pytest.raises(ParseError):
        list(PLUGIN.parse(io.BytesIO(payload)))
