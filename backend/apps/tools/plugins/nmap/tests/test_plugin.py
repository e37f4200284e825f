"""Nmap end to end: the real Debian binary against ports the test opens on 127.0.0.1."""

import pytest

from apps.tools.plugins.base import Confidence, NothingToScan, ScanContext, Severity, TargetType
from apps.tools.plugins.registry import registry
from apps.tools.runner import RunStatus
from apps.tools.tests.helpers import require_tool
from apps.tools.tests.loopback import BannerServer, closed_port, plain_http_server, run_on_target


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    """One real scan of an HTTP server, an FTP and an SSH banner and a closed port."""
    plugin = require_tool("nmap")
    closed = closed_port()
    with (
        plain_http_server() as web,
        BannerServer(b"220 (vsFTPd 2.3.4)\r\n") as ftp,
        BannerServer(b"SSH-2.0-OpenSSH_7.4\r\n") as ssh,
    ):
        ports = {"http": web.port, "ftp": ftp.port, "ssh": ssh.port, "closed": closed}
        result = run_on_target(
            plugin,
            "localhost",
            TargetType.DOMAIN_NAME,
            tmp_path_factory.mktemp("nmap"),
            timeout=180,
            ports=[str(port) for port in ports.values()],
        )
    return ports, result


def test_open_ports_and_services_are_findings(scan):
    ports, result = scan
    assert result.status == RunStatus.COMPLETED, result.error
    assert result.exit_code == 0
    assert result.tool_version == "7.93"
    by_port = {f.extra["port"]: f for f in result.findings}
    assert set(by_port) == {ports["http"], ports["ftp"], ports["ssh"]}  # not the closed one

    web = by_port[ports["http"]]
    assert web.severity == Severity.INFO
    assert web.rule_id == "open-port/http"
    assert web.title == f"Open port {ports['http']}/tcp: http (BaseHTTPServer 0.6) on localhost"
    assert (web.package_name, web.package_version) == ("BaseHTTPServer", "0.6")
    assert web.confidence == Confidence.HIGH

    ftp = by_port[ports["ftp"]]
    assert ftp.severity == Severity.MEDIUM  # cleartext credentials
    assert ftp.cwe == 319
    assert ftp.extra["cpe"] == ["cpe:/a:vsftpd:vsftpd:2.3.4"]
    assert ftp.remediation

    ssh = by_port[ports["ssh"]]
    assert (ssh.extra["service"], ssh.extra["product"], ssh.extra["version"]) == (
        "ssh",
        "OpenSSH",
        "7.4",
    )
    for finding in result.findings:
        assert finding.extra["host"] == "localhost"
        assert finding.extra["address"] == "127.0.0.1"
        assert finding.extra["protocol"] == "tcp"
    assert len({f.fingerprint for f in result.findings}) == 3


def test_command_is_offline_unprivileged_and_ends_with_the_target(scan):
    ports, result = scan
    argv = result.command
    assert argv[-2:] == ["--", "localhost"]
    for flag in ("-n", "-sT", "--unprivileged", "-sV", "--version-light"):
        assert flag in argv
    assert f"-p{ports['http']},{ports['ftp']},{ports['ssh']},{ports['closed']}" in argv


def test_host_without_open_ports_has_no_findings(tmp_path):
    plugin = require_tool("nmap")
    result = run_on_target(
        plugin,
        "127.0.0.1",
        TargetType.IP_ADDRESS,
        tmp_path,
        timeout=120,
        ports=[str(closed_port())],
        service_detection=False,
    )
    assert result.status == RunStatus.NO_FINDINGS, result.error
    assert "-sV" not in result.command


def test_unresolvable_name_is_a_failure_not_an_empty_success(tmp_path):
    plugin = require_tool("nmap")
    result = run_on_target(
        plugin, "no-such-host.invalid", TargetType.DOMAIN_NAME, tmp_path, timeout=120
    )
    assert result.exit_code == 0  # nmap's own verdict
    assert result.status == RunStatus.FAILED
    assert "scanned no host" in result.error


@pytest.mark.parametrize(
    "target,target_type",
    [
        ("10.0.0.0/8", TargetType.IP_ADDRESS),
        ("10.0.0.1-20", TargetType.IP_ADDRESS),
        ("-iL/etc/passwd", TargetType.IP_ADDRESS),
        ("-iL", TargetType.DOMAIN_NAME),
        ("--script=x", TargetType.DOMAIN_NAME),
        ("a.example.org b.example.org", TargetType.DOMAIN_NAME),
        ("10.0.0.1", TargetType.DOMAIN_NAME),
        ("", TargetType.DOMAIN_NAME),
    ],
)
def test_malformed_targets_are_refused(target, target_type, tmp_path):
    plugin = registry.get("nmap")
    ctx = ScanContext(
        workspace=tmp_path,
        output_dir=tmp_path / "out",
        target_type=target_type,
        target=target,
        binary="nmap",
    )
    with pytest.raises(NothingToScan):
        plugin.build_command(ctx)


def test_ipv6_target_and_overrides_reach_the_command(tmp_path):
    plugin = registry.get("nmap")
    ctx = ScanContext(
        workspace=tmp_path,
        output_dir=tmp_path / "out",
        target_type=TargetType.IP_ADDRESS,
        target="::1",
        binary="nmap",
        overrides={"top_ports": 100, "skip_host_discovery": True, "timing": 3},
    )
    argv = plugin.build_command(ctx).argv
    assert "-6" in argv and "--top-ports=100" in argv and "-Pn" in argv and "-T3" in argv
    assert argv[-2:] == ["--", "::1"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"ports": ["-1"]},
        {"ports": ["22,23"]},
        {"ports": ["1-2-3"]},
        {"ports": ["22"], "top_ports": 10},
        {"top_ports": 0},
        {"timing": 5},
    ],
)
def test_bad_overrides_are_rejected(overrides):
    import jsonschema

    with pytest.raises(jsonschema.ValidationError):
        registry.get("nmap").validate_overrides(overrides)


def test_out_of_range_port_is_refused(tmp_path):
    plugin = registry.get("nmap")
    ctx = ScanContext(
        workspace=tmp_path,
        output_dir=tmp_path / "out",
        target_type=TargetType.IP_ADDRESS,
        target="127.0.0.1",
        binary="nmap",
        overrides={"ports": ["70000"]},
    )
    with pytest.raises(NothingToScan):
        plugin.build_command(ctx)


def test_missing_binary_reason_names_the_debian_package(settings, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    settings.SECULITE_TOOLS_DIR = tmp_path
    location = registry.get("nmap").locate()
    assert not location.available
    assert "apt-get install nmap" in location.reason
