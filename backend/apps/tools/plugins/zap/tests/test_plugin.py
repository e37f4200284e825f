"""ZAP baseline without ZAP (not installable here): unavailable with a reason, `skipped` in a
scan; the command it would run, and its exit-code verdict."""

import json

import pytest

from apps.tools.plugins.base import NothingToScan, ScanContext, TargetType
from apps.tools.plugins.registry import registry
from apps.tools.tests.helpers import fixture
from apps.tools.tests.unavailable import assert_skipped_when_missing, hide_binaries

PLUGIN = registry.get("zap-baseline")


def test_unavailable_with_a_clear_reason_and_skipped(settings, monkeypatch, tmp_path):
    hide_binaries(settings, monkeypatch, tmp_path)
    reason = assert_skipped_when_missing(PLUGIN, tmp_path, TargetType.URL, "http://127.0.0.1:9/")
    assert "make tools" in reason and "ZAP container image" in reason


def context(tmp_path, target, **overrides):
    return ScanContext(
        workspace=tmp_path,
        output_dir=tmp_path / "out",
        target_type=TargetType.URL,
        target=target,
        overrides=overrides,
        binary="/zap/zap-baseline.py",
    )


def test_command(tmp_path):
    command = PLUGIN.build_command(
        context(tmp_path, "https://app.example.org/shop", spider_minutes=3, ajax_spider=True)
    )
    assert command.argv[:5] == [
        "/zap/zap-baseline.py",
        "-t",
        "https://app.example.org/shop",
        "-J",
        "zap-report.json",
    ]
    assert "-I" in command.argv and "-j" in command.argv
    assert command.argv[command.argv.index("-m") + 1] == "3"
    assert command.cwd == tmp_path / "out"
    assert command.output_path == tmp_path / "out" / "zap-report.json"


@pytest.mark.parametrize(
    "target", ["", "-h", "-t http://x", "ftp://a/", "http://a b/", "a.org", "http://[::1"]
)
def test_malformed_targets_are_refused(target, tmp_path):
    with pytest.raises(NothingToScan):
        PLUGIN.build_command(context(tmp_path, target))


def test_interpret_decides_from_the_report(tmp_path):
    report = fixture(__file__, "zap-many.json")
    for code in (0, 1, 2):  # pass, FAIL, WARN: all produce a usable report
        assert PLUGIN.interpret(code, report, "").ok
    assert not PLUGIN.interpret(3, report, "Failed to start ZAP").ok
    assert not PLUGIN.interpret(0, tmp_path / "missing.json", "No URLs found").ok
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"no": "site"}))
    assert not PLUGIN.interpret(0, bad, "").ok


def test_version_is_only_taken_from_an_explicit_zap_version():
    assert PLUGIN.parse_version("Usage: zap-baseline.py ... python-owasp-zap-v2.4") == ""
    assert PLUGIN.parse_version("ZAP 2.16.1") == "2.16.1"
