"""Wapiti end to end: the real binary against a deliberately vulnerable app on 127.0.0.1."""

import json

import pytest

from apps.tools.plugins.base import NothingToScan, ScanContext, Severity, TargetType
from apps.tools.runner import RunStatus
from apps.tools.tests.helpers import fixture, parse_fixture, require_tool
from apps.tools.tests.loopback import HttpServer, closed_port, run_on_target

QUICK = {"modules": ["xss", "sql", "http_headers", "csp", "cookieflags"], "max_scan_time": 60}


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    """One real scan shared by the assertions below (wapiti takes a few seconds)."""
    plugin = require_tool("wapiti")
    tmp_path = tmp_path_factory.mktemp("wapiti")
    with HttpServer() as app:
        result = run_on_target(plugin, app.url, TargetType.URL, tmp_path, timeout=120, **QUICK)
    return app, result


def test_finds_the_planted_flaws(scan):
    app, result = scan
    assert result.status == RunStatus.COMPLETED, result.error
    assert result.exit_code == 0
    assert result.tool_version == "3.2.3"
    found = {(f.rule_id, f.url, f.parameter): f for f in result.findings}

    xss = found[("Reflected Cross Site Scripting", f"{app.url}search", "q")]
    assert xss.severity == Severity.MEDIUM
    assert xss.cwe == 79
    assert xss.extra["module"] == "xss" and xss.extra["method"] == "GET"
    assert xss.extra["url_path"] == "/search"
    assert "WSTG-INPV-01" in xss.extra["wstg"]

    sqli = found[("SQL Injection", f"{app.url}item", "id")]
    assert sqli.severity == Severity.CRITICAL
    assert sqli.cwe == 89
    assert "MySQL" in sqli.title

    headers = {rule for rule, url, _ in found if url == app.url}
    assert {
        "Content Security Policy Configuration",
        "Clickjacking Protection",
        "MIME Type Confusion",
        "HttpOnly Flag cookie",
        "Secure Flag cookie",
    } <= headers
    assert found[("Clickjacking Protection", app.url, "")].severity == Severity.LOW
    assert all(f.fingerprint for f in result.findings)


def test_command_stays_offline_and_keeps_the_target_one_argument(scan):
    _, result = scan
    argv = result.command
    assert "--no-bugreport" in argv and "--flush-session" in argv
    assert "--endpoint=http://127.0.0.1:9/" in argv
    assert "--dns-endpoint=127.0.0.1" in argv
    assert argv[-1].startswith("--url=http://127.0.0.1:")
    assert "--module=xss,sql,http_headers,csp,cookieflags" in argv


def test_fingerprints_match_an_earlier_scan_on_another_port(scan):
    """wapiti-many.json was captured with the same modules against the same app on another
    port, on another day: the findings must be the same ones."""
    plugin = require_tool("wapiti")
    _, result = scan
    earlier = parse_fixture(plugin, fixture(__file__, "wapiti-many.json"))
    assert {f.fingerprint for f in result.findings} == {f.fingerprint for f in earlier}


def test_target_down_is_a_failure_not_an_empty_success(tmp_path):
    plugin = require_tool("wapiti")
    url = f"http://127.0.0.1:{closed_port()}/"
    result = run_on_target(plugin, url, TargetType.URL, tmp_path, timeout=120, **QUICK)
    assert result.exit_code == 0  # wapiti's own verdict: "fine"
    assert result.status == RunStatus.FAILED
    assert "reached no page" in result.error


@pytest.mark.parametrize(
    "target",
    [
        "",
        "ftp://127.0.0.1/",
        "-v",
        "--url=http://x/",
        "http:///nohost",
        "http://a b/",
        "x",
        "http://[::1",
    ],
)
def test_malformed_targets_are_refused(target, tmp_path):
    from apps.tools.plugins.registry import registry

    plugin = registry.get("wapiti")
    ctx = ScanContext(
        workspace=tmp_path,
        output_dir=tmp_path / "out",
        target_type=TargetType.URL,
        target=target,
        binary="wapiti",
    )
    with pytest.raises(NothingToScan):
        plugin.build_command(ctx)


def test_report_without_crawled_pages_is_a_failure(tmp_path):
    from apps.tools.plugins.registry import registry

    plugin = registry.get("wapiti")
    report = tmp_path / "wapiti.json"
    report.write_text(json.dumps({"infos": {"target": "http://x/", "crawled_pages_nbr": 0}}))
    assert not plugin.interpret(0, report, "").ok
    assert not plugin.interpret(0, tmp_path / "missing.json", "").ok
