"""Trivy's parser on real trivy JSON reports (sources in fixtures/README.md)."""

import io
import json

import pytest

from apps.tools.plugins.base import ParseError, Severity
from apps.tools.plugins.registry import registry
from apps.tools.tests.helpers import by_rule, fixture, parse_fixture

FS = registry.get("trivy-fs")
CONFIG = registry.get("trivy-config")
IMAGE = registry.get("trivy-image")


def test_the_three_plugins_share_the_parser():
    data = fixture(__file__, "trivy-fs-many.json")
    # Same records; only the fingerprints differ (they are salted with the plugin's slug).
    assert FS.parse_file(data) == IMAGE.parse_file(data) == CONFIG.parse_file(data)


def test_zero_findings():
    assert parse_fixture(IMAGE, fixture(__file__, "trivy-zero.json")) == []
    # Trivy omits Results when it has nothing to report (an empty directory, say).
    clean = b'{"SchemaVersion": 2, "ArtifactName": ".", "ArtifactType": "filesystem"}'
    assert list(FS.parse(io.BytesIO(clean))) == []


def test_one_misconfiguration_fields():
    [finding] = parse_fixture(CONFIG, fixture(__file__, "trivy-config-one.json"))
    assert finding.rule_id == "DS002"
    assert finding.title == "DS002: Image user should not be 'root'"
    assert finding.severity == Severity.HIGH
    assert finding.file_path == "Dockerfile"
    assert finding.description.startswith("Specify at least 1 USER command")
    assert finding.remediation == "Add 'USER <non root user name>' line to the Dockerfile"
    assert finding.references[0] == "https://avd.aquasec.com/misconfig/ds002"
    assert finding.extra["kind"] == "misconfiguration"
    assert finding.extra["avd_id"] == "AVD-DS-0002"
    assert finding.extra["provider"] == "Dockerfile"
    assert finding.line_start is None and finding.code_snippet == ""


def test_one_vulnerability_without_fix():
    [vuln] = parse_fixture(FS, fixture(__file__, "trivy-sbom-one.json"))
    assert vuln.rule_id == vuln.cve == "CVE-2013-7445"
    assert vuln.severity == Severity.HIGH
    assert vuln.cwe == 399
    assert (vuln.package_name, vuln.package_version) == ("linux-libc-dev", "6.1.55-1")
    assert vuln.fixed_version == "" and vuln.remediation == ""
    assert vuln.extra["status"] == "will_not_fix"
    assert vuln.extra["cvss"] == {"nvd": 7.8, "redhat": 4.3}
    assert vuln.file_path == "requirements.txt"
    assert vuln.title.startswith("linux-libc-dev 6.1.55-1: CVE-2013-7445 (kernel: memory")


def test_many_vulnerabilities_misconfigurations_and_secrets():
    findings = parse_fixture(FS, fixture(__file__, "trivy-fs-many.json"))
    assert [f.extra["kind"] for f in findings] == [
        "vulnerability",
        "vulnerability",
        "misconfiguration",
        "secret",
        "secret",
    ]
    rules = by_rule(findings)
    [redos] = rules["CVE-2021-33503"]
    assert (redos.package_name, redos.package_version, redos.fixed_version) == (
        "urllib3",
        "1.26.3",
        "1.26.5",
    )
    assert (redos.severity, redos.cwe, redos.cve) == (Severity.HIGH, 400, "CVE-2021-33503")
    assert redos.file_path == "requirements.txt"
    assert redos.remediation == "Upgrade urllib3 to 1.26.5 or later."
    assert "https://github.com/advisories/GHSA-q2q7-5pp4-w6pg" in redos.references
    [proxy] = rules["CVE-2021-28363"]
    assert (proxy.severity, proxy.cwe, proxy.fixed_version) == (Severity.MEDIUM, 295, "1.26.4")

    secrets = rules["github-pat"]
    assert [(s.file_path, s.line_start) for s in secrets] == [("Dockerfile", 24), ("secret.txt", 1)]
    assert all(s.severity == Severity.CRITICAL and s.cwe == 798 for s in secrets)
    assert secrets[0].code_snippet == "ENV GITHUB_PAT=*****"
    assert secrets[0].title == "GitHub Personal Access Token in Dockerfile"
    assert len({f.fingerprint for f in findings}) == 5


def test_image_targets_are_not_file_paths():
    report = json.loads(fixture(__file__, "trivy-zero.json").read_text())
    report["Results"][0]["Vulnerabilities"] = [
        {
            "VulnerabilityID": "GHSA-xxxx-yyyy-zzzz",
            "PkgName": "musl",
            "InstalledVersion": "1.2.2-r3",
            "Severity": "UNKNOWN",
        }
    ]
    [vuln] = IMAGE.parse(io.BytesIO(json.dumps(report).encode()))
    assert vuln.file_path == ""
    assert vuln.extra["target"] == "trivy-unittest:latest (alpine 3.14.0)"
    assert vuln.severity == Severity.MEDIUM  # UNKNOWN: no score yet
    assert vuln.cve == ""


def test_fingerprint_is_stable_across_line_moves_and_descriptions():
    report = json.loads(fixture(__file__, "trivy-fs-many.json").read_text())
    first = [
        f.fingerprint
        for f in FS.fingerprint(list(FS.parse(io.BytesIO(json.dumps(report).encode()))))
    ]
    report["Results"][3]["Secrets"][0]["StartLine"] = 30
    report["Results"][0]["Vulnerabilities"][0]["Description"] = "edited"
    second = [
        f.fingerprint
        for f in FS.fingerprint(list(FS.parse(io.BytesIO(json.dumps(report).encode()))))
    ]
    assert first == second


def test_passed_checks_are_not_findings():
    report = json.loads(fixture(__file__, "trivy-config-one.json").read_text())
    report["Results"][0]["Misconfigurations"][0]["Status"] = "PASS"
    assert list(CONFIG.parse(io.BytesIO(json.dumps(report).encode()))) == []


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"not json",
        b"{}",
        b'{"SchemaVersion": 2, "Results": {}}',
        # Trivy leaves Results out when clean; null is not that.
        b'{"SchemaVersion": 2, "Results": null}',
        b'{"SchemaVersion": 2, "Results": [1]}',
        b'{"SchemaVersion": 2, "Results": [{"Target": "a", "Vulnerabilities": [{}]}]}',
        b'{"SchemaVersion": 2, "Results": [{"Target": "a", "Misconfigurations": [{}]}]}',
        b'{"SchemaVersion": 2, "Results": [{"Target": "a", "Secrets": "x"}]}',
    ],
)
def test_malformed_reports_raise_parse_error(payload):
    with pytest.raises(ParseError):
        list(FS.parse(io.BytesIO(payload)))


def test_truncated_and_oversized_reports_are_refused():
    from apps.tools.plugins.trivy.parser import parse_report

    data = fixture(__file__, "trivy-fs-many.json").read_bytes()
    with pytest.raises(ParseError):
        list(FS.parse(io.BytesIO(data[: len(data) // 2])))
    with pytest.raises(ParseError, match="larger than"):
        list(parse_report(io.BytesIO(data), max_bytes=1000))
