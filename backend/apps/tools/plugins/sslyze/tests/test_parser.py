"""SSLyze's parser on real sslyze 6.3.1 reports (captured against loopback TLS servers)."""

import copy
import io
import json

import pytest

from apps.tools.plugins.base import ParseError, Severity
from apps.tools.plugins.registry import registry
from apps.tools.tests.helpers import fixture, parse_fixture

PLUGIN = registry.get("sslyze")


def load(name: str) -> dict:
    return json.loads(fixture(__file__, name).read_text())


def parse(report: dict):
    return PLUGIN.fingerprint(list(PLUGIN.parse(io.BytesIO(json.dumps(report).encode()))))


def test_zero_findings_where_sslyze_itself_says_compliant():
    # Captured with the test CA trusted (--certinfo_ca_file): sslyze exited 0, "compliant".
    assert parse_fixture(PLUGIN, fixture(__file__, "sslyze-zero.json")) == []


def test_one_finding_fields():
    [finding] = parse_fixture(PLUGIN, fixture(__file__, "sslyze-one.json"))
    assert finding.rule_id == "certificate_path_validation"
    assert finding.severity == Severity.MEDIUM
    assert finding.cwe == 295
    assert finding.title == "Self-signed certificate (127.0.0.1:36883)"
    assert finding.url == "https://127.0.0.1:36883/"
    assert finding.extra["host"] == "127.0.0.1" and finding.extra["port"] == 36883
    assert finding.extra["subject"] == finding.extra["issuer"] == "CN=127.0.0.1"
    assert "basicConstraints" in finding.description or "validation failed" in finding.description
    assert finding.references == ["https://ssl-config.mozilla.org/"]


def test_many_findings_severities():
    findings = parse_fixture(PLUGIN, fixture(__file__, "sslyze-many.json"))
    found = {f.rule_id: f for f in findings}
    assert set(found) == {
        "certificate_path_validation",
        "protocol_tlsv1_0",
        "protocol_tlsv1_1",
        "weak_cipher_suites",
        "cipher_suites_outside_profile",
        "tls_curves",
        "hsts_missing",
    }
    assert found["protocol_tlsv1_0"].severity == Severity.MEDIUM
    assert found["protocol_tlsv1_0"].cwe == 327
    assert found["weak_cipher_suites"].severity == Severity.HIGH
    weak = found["weak_cipher_suites"].extra["cipher_suites"]
    assert "TLS_ECDH_anon_WITH_AES_256_CBC_SHA" in weak
    assert (
        "TLS_RSA_WITH_AES_128_GCM_SHA256"
        in (found["cipher_suites_outside_profile"].extra["cipher_suites"])
    )
    assert found["tls_curves"].severity == Severity.INFO
    assert set(found["tls_curves"].extra["curves"]) == {"X448", "secp521r1"}
    assert found["hsts_missing"].cwe == 319


def test_fingerprint_is_host_port_and_check():
    report = load("sslyze-many.json")
    first = {f.rule_id: f.fingerprint for f in parse(report)}
    # A rescan that accepts one suite fewer is the same finding.
    suites = report["server_scan_results"][0]["scan_result"]["tls_1_2_cipher_suites"]
    suites["result"]["accepted_cipher_suites"].pop()
    assert {f.rule_id: f.fingerprint for f in parse(report)} == first
    report["server_scan_results"][0]["server_location"]["port"] = 8443
    assert not set(first.values()) & {f.fingerprint for f in parse(report)}


def test_known_attacks_and_certificate_problems_are_mapped():
    report = load("sslyze-one.json")
    scan = report["server_scan_results"][0]["scan_result"]
    scan["heartbleed"]["result"]["is_vulnerable_to_heartbleed"] = True
    scan["openssl_ccs_injection"]["result"]["is_vulnerable_to_ccs_injection"] = True
    scan["robot"]["result"]["robot_result"] = "VULNERABLE_WEAK_ORACLE"
    scan["tls_compression"]["result"]["supports_compression"] = True
    scan["session_renegotiation"]["result"]["supports_secure_renegotiation"] = False
    scan["tls_fallback_scsv"]["result"]["supports_fallback_scsv"] = False
    scan["http_headers"]["result"]["strict_transport_security_header"]["max_age"] = 300
    leaf = scan["certificate_info"]["result"]["certificate_deployments"][0][
        "received_certificate_chain"
    ][0]
    leaf["not_valid_after"] = "2020-01-01T00:00:00Z"
    leaf["public_key"]["key_size"] = 1024
    leaf["signature_hash_algorithm"]["name"] = "sha1"
    found = {f.rule_id: f.severity for f in parse(report)}
    assert found["heartbleed"] == Severity.CRITICAL
    assert found["ccs_injection"] == Severity.HIGH
    assert found["robot"] == Severity.MEDIUM
    assert found["compression"] == Severity.MEDIUM
    assert found["insecure_renegotiation"] == Severity.MEDIUM
    assert found["fallback_scsv"] == Severity.LOW
    assert found["hsts_short_max_age"] == Severity.LOW
    assert found["certificate_expired"] == Severity.HIGH
    assert found["rsa_key_size"] == Severity.MEDIUM
    assert found["certificate_signature_weak"] == Severity.MEDIUM


def test_unreachable_server_yields_no_findings_and_fails_interpret(tmp_path):
    path = fixture(__file__, "sslyze-refused.json")
    assert parse_fixture(PLUGIN, path) == []
    outcome = PLUGIN.interpret(0, path, "")
    assert not outcome.ok and "rejected the connection" in outcome.error
    assert PLUGIN.interpret(1, fixture(__file__, "sslyze-many.json"), "").ok
    assert not PLUGIN.interpret(2, fixture(__file__, "sslyze-many.json"), "usage").ok
    assert not PLUGIN.interpret(0, tmp_path / "missing.json", "").ok


def test_failed_scan_commands_are_skipped():
    report = load("sslyze-many.json")
    scan = report["server_scan_results"][0]["scan_result"]
    for name in scan:
        scan[name] = {"status": "ERROR", "error_reason": "BUG_IN_SSLYZE", "result": None}
    assert parse(report) == []


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"nope",
        b"[]",
        b"{}",
        b'{"server_scan_results": {}}',
        b'{"server_scan_results": [1]}',
        b'{"server_scan_results": [{"connectivity_status": "COMPLETED"}]}',
        b'{"server_scan_results": [{"connectivity_status": "COMPLETED",'
        b' "server_location": {"hostname": "a", "port": 1}, "scan_result": []}]}',
    ],
)
def test_malformed_reports_raise_parse_error(payload):
    with pytest.raises(ParseError):
        list(PLUGIN.parse(io.BytesIO(payload)))


def test_oversized_report_is_refused():
    from apps.tools.plugins.sslyze.parser import parse_report

    data = fixture(__file__, "sslyze-one.json").read_bytes()
    with pytest.raises(ParseError, match="larger than"):
        list(parse_report(io.BytesIO(data), max_bytes=1000))
    with pytest.raises(ParseError):
        list(PLUGIN.parse(io.BytesIO(data[: len(data) // 2])))


def test_input_is_not_modified():
    report = load("sslyze-many.json")
    before = copy.deepcopy(report)
    parse(report)
    assert report == before
