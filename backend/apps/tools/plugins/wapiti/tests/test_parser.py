"""Wapiti's parser on real wapiti 3.2.3 reports (captured against the loopback test app)."""

import io
import json

import pytest

from apps.tools.plugins.base import ParseError, Severity
from apps.tools.plugins.registry import registry
from apps.tools.tests.helpers import by_rule, fixture, parse_fixture

PLUGIN = registry.get("wapiti")


def test_zero_findings():
    assert parse_fixture(PLUGIN, fixture(__file__, "wapiti-zero.json")) == []


def test_one_finding_fields():
    [xss] = parse_fixture(PLUGIN, fixture(__file__, "wapiti-one.json"))
    assert xss.rule_id == "Reflected Cross Site Scripting"
    assert xss.severity == Severity.MEDIUM
    assert xss.cwe == 79
    assert xss.url == "http://127.0.0.1:40871/search"
    assert xss.parameter == "q"
    assert xss.title.startswith("Reflected Cross Site Scripting: Reflected Cross Site Scripting")
    assert xss.remediation.startswith("The best way to protect a web application from XSS")
    assert "https://cwe.mitre.org/data/definitions/79.html" in xss.references
    assert xss.code_snippet.startswith("GET /search?q=")
    assert xss.extra["url_path"] == "/search"
    assert xss.extra["method"] == "GET" and xss.extra["module"] == "xss"
    assert xss.extra["section"] == "vulnerabilities"
    assert xss.fingerprint


def test_many_findings_map_levels():
    findings = parse_fixture(PLUGIN, fixture(__file__, "wapiti-many.json"))
    rules = by_rule(findings)
    assert len(findings) == 7
    [sqli] = rules["SQL Injection"]
    assert (sqli.severity, sqli.cwe, sqli.parameter) == (Severity.CRITICAL, 89, "id")
    assert sqli.url == "http://127.0.0.1:44941/item"
    for rule in ("Clickjacking Protection", "MIME Type Confusion", "HttpOnly Flag cookie"):
        [finding] = rules[rule]
        assert finding.severity == Severity.LOW
        assert finding.url == "http://127.0.0.1:44941/"
        assert finding.parameter == ""
    assert rules["Content Security Policy Configuration"][0].extra["module"] == "csp"
    assert "Secure flag is not set" in rules["Secure Flag cookie"][0].title
    assert len({f.fingerprint for f in findings}) == len(findings)


def test_fingerprint_ignores_host_port_and_payload():
    report = json.loads(fixture(__file__, "wapiti-one.json").read_text())
    [item] = report["vulnerabilities"]["Reflected Cross Site Scripting"]
    first = PLUGIN.fingerprint(list(PLUGIN.parse(io.BytesIO(json.dumps(report).encode()))))
    report["infos"]["target"] = "http://127.0.0.1:1234/"
    item["http_request"] = item["http_request"].replace("ScRiPt", "svg")
    second = PLUGIN.fingerprint(list(PLUGIN.parse(io.BytesIO(json.dumps(report).encode()))))
    assert first[0].fingerprint == second[0].fingerprint
    item["parameter"] = "other"
    third = PLUGIN.fingerprint(list(PLUGIN.parse(io.BytesIO(json.dumps(report).encode()))))
    assert third[0].fingerprint != first[0].fingerprint


@pytest.mark.parametrize("level,severity", [(0, "info"), (1, "low"), (3, "high"), ("x", "low")])
def test_levels_are_mapped_explicitly(level, severity):
    report = {
        "infos": {"target": "http://app.test/"},
        "vulnerabilities": {},
        "anomalies": {"Internal Server Error": [{"path": "/a", "level": level}]},
    }
    [finding] = PLUGIN.parse(io.BytesIO(json.dumps(report).encode()))
    assert finding.severity == severity
    assert finding.url == "http://app.test/a"


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"not json",
        b"[]",
        b'{"vulnerabilities": {}}',
        b'{"infos": {}}',
        b'{"infos": {}, "vulnerabilities": []}',
        b'{"infos": {}, "vulnerabilities": {"X": {}}}',
        b'{"infos": {}, "vulnerabilities": {"X": [1]}}',
        # Null is not the empty object wapiti writes for a clean run (it would resolve all).
        b'{"infos": {}, "vulnerabilities": null}',
        b'{"infos": {}, "vulnerabilities": {}, "anomalies": null}',
    ],
)
def test_malformed_reports_raise_parse_error(payload):
    with pytest.raises(ParseError):
        list(PLUGIN.parse(io.BytesIO(payload)))


def test_truncated_and_oversized_reports_are_refused():
    from apps.tools.plugins.wapiti.parser import parse_report

    data = fixture(__file__, "wapiti-many.json").read_bytes()
    with pytest.raises(ParseError):
        list(PLUGIN.parse(io.BytesIO(data[: len(data) // 2])))
    with pytest.raises(ParseError, match="larger than"):
        list(parse_report(io.BytesIO(data), max_bytes=1000))


def test_absent_anomalies_and_additionals_sections_are_empty():
    report = b'{"infos": {"target": "http://app.test/"}, "vulnerabilities": {}}'
    assert list(PLUGIN.parse(io.BytesIO(report))) == []


@pytest.mark.parametrize(
    "target,path,url,url_path",
    [
        ("http://app.test/", "http://[::1/x", "http://[::1/x", "http://[::1/x"),
        ("http://[::1/", "/a?q=1", "/a?q=1", "/a?q"),
    ],
)
def test_a_url_urllib_cannot_parse_keeps_its_finding(target, path, url, url_path):
    report = {
        "infos": {"target": target},
        "vulnerabilities": {"X": [{"path": path, "level": 2}, {"path": "/b", "level": 2}]},
    }
    first, second = PLUGIN.parse(io.BytesIO(json.dumps(report).encode()))
    assert (first.url, first.extra["url_path"], first.severity) == (url, url_path, "medium")
    assert second.extra["url_path"] == "/b"
