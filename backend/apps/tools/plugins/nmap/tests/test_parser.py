"""Nmap's parser on real nmap 7.93 XML reports (captured against loopback services)."""

import io

import pytest

from apps.tools.plugins.base import ParseError, Severity
from apps.tools.plugins.registry import registry
from apps.tools.tests.helpers import fixture, parse_fixture

PLUGIN = registry.get("nmap")


def parse(data: bytes):
    return PLUGIN.fingerprint(list(PLUGIN.parse(io.BytesIO(data))))


def test_zero_findings_closed_port_only():
    assert parse_fixture(PLUGIN, fixture(__file__, "nmap-zero.xml")) == []


def test_one_finding_fields():
    [web] = parse_fixture(PLUGIN, fixture(__file__, "nmap-one.xml"))
    assert web.title == "Open port 36699/tcp: http (BaseHTTPServer 0.6) on 127.0.0.1"
    assert web.severity == Severity.INFO
    assert web.rule_id == "open-port/http"
    assert (web.package_name, web.package_version) == ("BaseHTTPServer", "0.6")
    assert web.extra["host"] == web.extra["address"] == "127.0.0.1"
    assert (web.extra["port"], web.extra["protocol"], web.extra["service"]) == (
        36699,
        "tcp",
        "http",
    )
    assert web.extra["extrainfo"] == "Python 3.11.7"
    assert web.extra["cpe"] == ["cpe:/a:python:python:3.11.7"]
    assert web.remediation == ""
    assert web.fingerprint


def test_many_findings_flag_risky_services():
    findings = parse_fixture(PLUGIN, fixture(__file__, "nmap-many.xml"))
    by_service = {f.extra["service"]: f for f in findings}
    assert set(by_service) == {"http", "ftp", "ssh"}
    assert by_service["ftp"].severity == Severity.MEDIUM
    assert by_service["ftp"].title.endswith("ftp (vsftpd 2.3.4) on localhost")
    assert by_service["ssh"].severity == Severity.INFO
    assert {f.extra["host"] for f in findings} == {"localhost"}  # the name asked for
    assert len({f.fingerprint for f in findings}) == 3


def test_fingerprint_is_host_protocol_port_service():
    data = fixture(__file__, "nmap-one.xml").read_bytes()
    first = parse(data)[0].fingerprint
    # A new version of the same service on the same port is the same finding.
    assert parse(data.replace(b'version="0.6"', b'version="0.7"'))[0].fingerprint == first
    assert parse(data.replace(b'portid="36699"', b'portid="8080"'))[0].fingerprint != first


def test_risky_services_and_tls_variants():
    data = fixture(__file__, "nmap-one.xml").read_bytes()
    [redis] = parse(data.replace(b'name="http"', b'name="redis"'))
    assert redis.severity == Severity.HIGH and redis.cwe == 306
    [telnet] = parse(data.replace(b'name="http"', b'name="telnet"'))
    assert telnet.severity == Severity.HIGH
    [ftps] = parse(data.replace(b'name="http"', b'name="ftp" tunnel="ssl"'))
    assert ftps.severity == Severity.LOW


def test_down_hosts_and_closed_ports_are_ignored():
    data = fixture(__file__, "nmap-many.xml").read_bytes()
    assert parse(data.replace(b'<status state="up"', b'<status state="down"')) == []


def test_billion_laughs_is_refused():
    bomb = (
        b'<?xml version="1.0"?>\n<!DOCTYPE nmaprun [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>\n<nmaprun>&b;</nmaprun>'
    )
    with pytest.raises(ParseError, match="refused"):
        list(PLUGIN.parse(io.BytesIO(bomb)))


def test_external_entity_is_refused():
    xxe = (
        b'<?xml version="1.0"?>\n<!DOCTYPE nmaprun [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        b"<nmaprun>&x;</nmaprun>"
    )
    with pytest.raises(ParseError, match="refused"):
        list(PLUGIN.parse(io.BytesIO(xxe)))


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"not xml",
        b"<other/>",
        b"<nmaprun><host>",  # truncated
        b"<nmaprun></nmaprun>",  # no runstats: nmap stopped before the end
        b'<nmaprun><host><status state="up"/><ports/></host><runstats><finished/></runstats>'
        b"</nmaprun>",  # host without address
    ],
)
def test_malformed_reports_raise_parse_error(payload):
    with pytest.raises(ParseError):
        list(PLUGIN.parse(io.BytesIO(payload)))


def test_truncated_real_report_raises_parse_error():
    data = fixture(__file__, "nmap-many.xml").read_bytes()
    with pytest.raises(ParseError):
        list(PLUGIN.parse(io.BytesIO(data[: len(data) // 2])))


def test_oversized_report_is_refused():
    from apps.tools.plugins.nmap.parser import parse_report

    data = fixture(__file__, "nmap-many.xml").read_bytes()
    with pytest.raises(ParseError, match="larger than"):
        list(parse_report(io.BytesIO(data), max_bytes=100))


def test_interpret_decides_from_the_xml(tmp_path):
    ok = fixture(__file__, "nmap-zero.xml")
    assert PLUGIN.interpret(0, ok, "").ok
    assert not PLUGIN.interpret(1, ok, "QUITTING!").ok
    no_host = tmp_path / "none.xml"
    no_host.write_bytes(
        b'<nmaprun><runstats><finished exit="success"/><hosts up="0" down="0" total="0"/>'
        b"</runstats></nmaprun>"
    )
    assert "scanned no host" in PLUGIN.interpret(0, no_host, "").error
    down = tmp_path / "down.xml"
    down.write_bytes(
        b'<nmaprun><runstats><finished exit="success"/><hosts up="0" down="1" total="1"/>'
        b"</runstats></nmaprun>"
    )
    assert "skip_host_discovery" in PLUGIN.interpret(0, down, "").error
    failed = tmp_path / "error.xml"
    failed.write_bytes(
        b'<nmaprun><runstats><finished exit="error" errormsg="bad port"/></runstats></nmaprun>'
    )
    assert "bad port" in PLUGIN.interpret(0, failed, "").error
    assert not PLUGIN.interpret(0, tmp_path / "missing.xml", "").ok


def test_an_empty_cpe_is_skipped():
    data = fixture(__file__, "nmap-one.xml").read_bytes()
    assert data.count(b"<cpe>") == 1
    data = data.replace(b"<cpe>", b"<cpe/><cpe>  </cpe><cpe>", 1)
    [web] = parse(data)
    assert web.extra["cpe"] == ["cpe:/a:python:python:3.11.7"]
