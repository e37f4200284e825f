"""Gitleaks without its binary (not installable here): unavailable with a reason, `skipped` in a
scan; and the command it would run keeps the scanned repository from configuring it."""

import json

from apps.tools.plugins.base import ScanContext, TargetType
from apps.tools.plugins.registry import registry
from apps.tools.tests.unavailable import assert_skipped_when_missing, hide_binaries

PLUGIN = registry.get("gitleaks")


def test_unavailable_with_a_clear_reason_and_skipped(settings, monkeypatch, tmp_path):
    hide_binaries(settings, monkeypatch, tmp_path)
    reason = assert_skipped_when_missing(PLUGIN, tmp_path, TargetType.GIT_REPOSITORY)
    assert "make tools" in reason and "Docker image" in reason


def test_command_ignores_the_repository_configuration(tmp_path):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / ".gitleaks.toml").write_text('[allowlist]\npaths = [".*"]\n')
    ctx = ScanContext(
        workspace=workspace,
        output_dir=tmp_path / "out",
        binary="/opt/gitleaks/bin/gitleaks",
        scratch_dir=tmp_path / "scratch",
        overrides={"max_target_megabytes": 5},
    )
    ctx.scratch.mkdir()
    command = PLUGIN.build_command(ctx)
    argv = command.argv
    assert argv[:3] == ["/opt/gitleaks/bin/gitleaks", "detect", "--no-git"]
    config = tmp_path / "scratch" / "gitleaks.toml"
    assert f"--config={config}" in argv
    assert "useDefault = true" in config.read_text()
    assert f"--gitleaks-ignore-path={tmp_path / 'scratch' / 'gitleaks-ignore'}" in argv
    assert "--exit-code=0" in argv and "--max-target-megabytes=5" in argv
    assert "--redact" not in argv  # the parser hashes, then redacts, the secret
    assert command.cwd == workspace


def test_interpret_decides_from_exit_code_and_report(tmp_path):
    report = tmp_path / "gitleaks.json"
    report.write_text("[]\n")
    assert PLUGIN.interpret(0, report, "").ok
    assert not PLUGIN.interpret(1, report, "fatal: bad config").ok
    report.write_text(json.dumps({"not": "a list"}))
    assert not PLUGIN.interpret(0, report, "").ok
    assert not PLUGIN.interpret(0, tmp_path / "missing.json", "").ok
