"""SSLyze end to end: the real binary against TLS servers started on 127.0.0.1."""

import shutil

import pytest

from apps.tools.plugins.base import NothingToScan, ScanContext, Severity, TargetType
from apps.tools.plugins.registry import registry
from apps.tools.runner import RunStatus
from apps.tools.tests.helpers import REQUIRE_SERVICES, require_tool
from apps.tools.tests.loopback import (
    HttpServer,
    closed_port,
    plain_http_server,
    run_on_target,
    self_signed_certificate,
    strong_tls_context,
    weak_tls_context,
)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if not shutil.which("openssl"):
        message = "the openssl command is needed to make a test certificate"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def weak_scan(certificate, tmp_path_factory):
    plugin = require_tool("sslyze")
    with HttpServer(context=weak_tls_context(*certificate)) as server:
        result = run_on_target(
            plugin, server.url, TargetType.URL, tmp_path_factory.mktemp("sslyze"), timeout=300
        )
    return server, result


def test_weak_server_findings(weak_scan):
    server, result = weak_scan
    assert result.status == RunStatus.COMPLETED, result.error
    assert result.exit_code == 1  # sslyze: not compliant with Mozilla's intermediate profile
    assert result.tool_version == "6.3.1"
    found = {f.rule_id: f for f in result.findings}

    cert = found["certificate_path_validation"]
    assert cert.severity == Severity.MEDIUM and cert.cwe == 295
    assert cert.title == f"Self-signed certificate (127.0.0.1:{server.port})"
    assert cert.extra["subject"] == "CN=localhost"
    assert cert.url == f"https://127.0.0.1:{server.port}/"

    assert found["protocol_tlsv1_0"].severity == Severity.MEDIUM
    assert found["protocol_tlsv1_1"].severity == Severity.MEDIUM
    assert "protocol_sslv3" not in found and "heartbleed" not in found
    weak = found["weak_cipher_suites"]
    assert weak.severity == Severity.HIGH
    assert any("_anon_" in suite for suite in weak.extra["cipher_suites"])
    assert found["cipher_suites_outside_profile"].severity == Severity.LOW
    assert found["hsts_missing"].severity == Severity.LOW
    assert {f.extra["port"] for f in result.findings} == {server.port}
    assert len({f.fingerprint for f in result.findings}) == len(result.findings)


def test_command_puts_the_target_after_double_dash(weak_scan):
    server, result = weak_scan
    assert result.command[-2:] == ["--", f"127.0.0.1:{server.port}"]
    assert "--mozilla_config=intermediate" in result.command
    assert "--http_headers" in result.command


def test_good_configuration_leaves_only_the_untrusted_certificate(certificate, tmp_path):
    plugin = require_tool("sslyze")
    with plain_http_server(context=strong_tls_context(*certificate), hsts=True) as server:
        result = run_on_target(
            plugin, "127.0.0.1", TargetType.DOMAIN_NAME, tmp_path, timeout=300, port=server.port
        )
    assert result.status == RunStatus.COMPLETED, result.error
    assert [f.rule_id for f in result.findings] == ["certificate_path_validation"]


def test_connection_refused_is_a_failure_not_a_clean_result(tmp_path):
    plugin = require_tool("sslyze")
    url = f"https://127.0.0.1:{closed_port()}/"
    result = run_on_target(plugin, url, TargetType.URL, tmp_path, timeout=120)
    assert result.exit_code == 0  # sslyze's own verdict
    assert result.status == RunStatus.FAILED
    assert "could not connect" in result.error


@pytest.mark.parametrize(
    "target,target_type",
    [
        ("http://127.0.0.1/", TargetType.URL),  # no TLS to test
        ("ftp://127.0.0.1/", TargetType.URL),
        ("https:///", TargetType.URL),
        ("https://a b/", TargetType.URL),
        ("https://[::1", TargetType.URL),
        ("-h", TargetType.DOMAIN_NAME),
        ("--json_out=/tmp/x", TargetType.DOMAIN_NAME),
        ("exa mple.com", TargetType.DOMAIN_NAME),
        ("", TargetType.DOMAIN_NAME),
    ],
)
def test_malformed_targets_are_refused(target, target_type, tmp_path):
    plugin = registry.get("sslyze")
    ctx = ScanContext(
        workspace=tmp_path,
        output_dir=tmp_path / "out",
        target_type=target_type,
        target=target,
        binary="sslyze",
    )
    with pytest.raises(NothingToScan):
        plugin.build_command(ctx)


def test_endpoints_of_targets():
    from apps.tools.plugins.sslyze.plugin import sslyze_server_string, tls_endpoint

    assert tls_endpoint("https://example.org/x", TargetType.URL, None) == ("example.org", 443)
    assert tls_endpoint("https://example.org:8443/", TargetType.URL, None) == ("example.org", 8443)
    assert tls_endpoint("https://example.org:8443/", TargetType.URL, 9443)[1] == 9443
    assert tls_endpoint("example.org", TargetType.DOMAIN_NAME, None) == ("example.org", 443)
    assert sslyze_server_string("::1", 443) == "[::1]:443"
