"""ZAP's parser on real ZAP JSON reports (sources in fixtures/README.md)."""

import io
import json

import pytest

from apps.tools.plugins.base import Confidence, ParseError, Severity
from apps.tools.plugins.registry import registry
from apps.tools.tests.helpers import by_rule, fixture, parse_fixture

PLUGIN = registry.get("zap-baseline")
BC = "https://bc-emli-pin-mgmt-be-c82b4c-dev.apps.silver.devops.gov.bc.ca"


def parse(report: dict):
    return PLUGIN.fingerprint(list(PLUGIN.parse(io.BytesIO(json.dumps(report).encode()))))


def test_zero_findings():
    # No real report without alerts was found (see fixtures/README.md): the report's structure
    # with an empty alert list, as zap-baseline.py writes it for a clean site.
    report = {
        "@programName": "ZAP",
        "@version": "2.14.0",
        "site": [{"@name": "http://a", "alerts": []}],
    }
    assert parse(report) == []


def test_one_finding_fields():
    [finding] = parse_fixture(PLUGIN, fixture(__file__, "zap-one.json"))
    # Two instances on the same URL and parameter are one finding.
    assert finding.rule_id == "1"
    assert finding.title == "XSS"
    assert finding.severity == Severity.HIGH
    assert finding.confidence == Confidence.MEDIUM
    assert finding.cwe == 123
    assert finding.url == "http://example.com/example_3"
    assert finding.parameter == "Test Param"
    assert finding.code_snippet == "Test <p>Evidence"
    assert finding.description == "XSS Description"
    assert finding.remediation == "Test Solution"
    assert finding.extra["attack"] == 'Test "Attack\\"'
    assert finding.extra["wasc_id"] == 456 and finding.extra["method"] == "GET"
    assert finding.extra["url_path"] == "/example_3"


def test_many_findings_modern_report():
    findings = parse_fixture(PLUGIN, fixture(__file__, "zap-many.json"))
    rules = by_rule(findings)
    # alertRef tells apart the four variants of rule 90005 and the two of 10049.
    assert {
        "90005-1",
        "90005-2",
        "90005-3",
        "90005-4",
        "10049",
        "10035-1",
        "10054",
        "10112",
    } == set(rules)
    hsts = rules["10035-1"]
    assert [f.url for f in hsts] == [f"{BC}/", f"{BC}/robots.txt", f"{BC}/sitemap.xml"]
    assert all(f.severity == Severity.LOW and f.cwe == 319 for f in hsts)
    assert hsts[0].confidence == Confidence.HIGH
    assert hsts[0].title == "Strict-Transport-Security Header Not Set"
    assert "https://datatracker.ietf.org/doc/html/rfc6797" in hsts[0].references
    cookie = rules["10054"][0]
    assert cookie.parameter == "9e815ea4eebc0b344dc0a7bbd4154bc5"
    assert cookie.remediation == (
        "Ensure that the SameSite attribute is set to either 'lax' or ideally 'strict' for all "
        "cookies."
    )
    session = rules["10112"][0]
    assert session.severity == Severity.INFO and session.cwe is None  # cweid "-1"
    cache = rules["10049"]
    assert {f.title for f in cache} == {"Non-Storable Content", "Storable and Cacheable Content"}
    assert cache[0].remediation.startswith("The content may be marked as storable")
    assert "\n" in cache[0].remediation  # paragraphs kept apart
    assert len(findings) == 20
    assert len({f.fingerprint for f in findings}) == len(findings)


def test_legacy_report_without_program_name():
    findings = parse_fixture(PLUGIN, fixture(__file__, "zap-legacy.json"))
    rules = by_rule(findings)
    csp = rules["10055"]
    # "http://localhost:3000" and "http://localhost:3000/" are the same page.
    assert [f.extra["url_path"] for f in csp] == ["/robots.txt", "/sitemap.xml", "/"]
    assert all(f.severity == Severity.MEDIUM and f.cwe == 16 for f in csp)
    assert csp[0].parameter == "Content-Security-Policy"
    assert csp[0].code_snippet == "default-src 'none'"
    leak = rules["10037"]
    assert leak[0].severity == Severity.LOW and leak[0].cwe == 200
    assert (
        leak[0].title == 'Server Leaks Information via "X-Powered-By" HTTP Response Header Field(s)'
    )
    assert leak[0].description.startswith("The web/application server is leaking information")


def test_fingerprint_ignores_host_and_attack_values():
    report = json.loads(fixture(__file__, "zap-one.json").read_text())
    first = parse(report)[0].fingerprint
    instance = report["site"][0]["alerts"][0]["instances"][0]
    instance["uri"] = "http://other.example:8080/example_3"
    instance["attack"] = "<svg onload=alert(2)>"
    report["site"][0]["alerts"][0]["instances"] = [instance]
    assert parse(report)[0].fingerprint == first
    instance["uri"] = "http://example.com/example_3?q=1"
    assert parse(report)[0].fingerprint != first


@pytest.mark.parametrize(
    "risk,severity", [("0", "info"), ("1", "low"), ("2", "medium"), ("3", "high")]
)
def test_risk_codes_are_mapped_explicitly(risk, severity):
    report = json.loads(fixture(__file__, "zap-one.json").read_text())
    report["site"][0]["alerts"][0]["riskcode"] = risk
    assert parse(report)[0].severity == severity


def test_false_positives_are_dropped():
    report = json.loads(fixture(__file__, "zap-one.json").read_text())
    report["site"][0]["alerts"][0]["confidence"] = "0"
    assert parse(report) == []


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"<xml/>",
        b"[]",
        b"{}",
        b'{"site": "x"}',
        # A clean run names its site with no alerts; no site at all scanned nothing.
        b'{"@version": "2.14.0", "site": []}',
        b'{"@version": "2.14.0", "site": null}',
        b'{"site": [1]}',
        b'{"site": [{"alerts": {}}]}',
        b'{"site": [{"alerts": [{"name": "no rule id"}]}]}',
        b'{"site": [{"alerts": [{"pluginid": "1", "instances": [1]}]}]}',
    ],
)
def test_malformed_reports_raise_parse_error(payload):
    with pytest.raises(ParseError):
        list(PLUGIN.parse(io.BytesIO(payload)))


def test_truncated_and_oversized_reports_are_refused():
    from apps.tools.plugins.zap.parser import parse_report

    data = fixture(__file__, "zap-many.json").read_bytes()
    with pytest.raises(ParseError):
        list(PLUGIN.parse(io.BytesIO(data[: len(data) // 2])))
    with pytest.raises(ParseError, match="larger than"):
        list(parse_report(io.BytesIO(data), max_bytes=1000))


def test_a_uri_urllib_cannot_parse_keeps_its_finding():
    report = json.loads(fixture(__file__, "zap-one.json").read_text())
    instance = report["site"][0]["alerts"][0]["instances"][0]
    report["site"][0]["alerts"][0]["instances"] = [
        {**instance, "uri": "http://[::1/x"},
        {**instance, "uri": "http://[::1/y"},
        instance,
    ]
    odd, other, plain = parse(report)
    assert (odd.url, odd.extra["url_path"], odd.rule_id) == ("http://[::1/x", "http://[::1/x", "1")
    assert other.extra["url_path"] == "http://[::1/y"
    assert plain.extra["url_path"] == "/example_3"
    assert len({odd.fingerprint, other.fingerprint, plain.fingerprint}) == 3
