"""hadolint end to end: Dockerfiles found by SecuLite, exit codes read with --no-fail."""

from apps.tools.runner import RunStatus
from apps.tools.tests.helpers import by_rule, require_tool, run_tool


def test_finds_the_planted_dockerfile_issues(sample_app, tmp_path):
    plugin = require_tool("hadolint")
    result = run_tool(plugin, sample_app, tmp_path)
    assert result.status == RunStatus.COMPLETED, result.error
    assert result.tool_version == "2.15.1"
    rules = by_rule(result.findings)
    assert [(f.file_path, f.line_start) for f in rules["DL3007"]] == [("Dockerfile", 2)]
    assert [(f.file_path, f.line_start) for f in rules["DL3002"]] == [("Dockerfile", 4)]
    assert "DL3008" in rules and "DL4006" in rules


def test_repository_hadolint_config_is_ignored(tmp_path):
    plugin = require_tool("hadolint")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "Dockerfile").write_text('FROM python:latest\nUSER 10001\nCMD ["python"]\n')
    (workspace / ".hadolint.yaml").write_text("ignored:\n  - DL3007\n")
    result = run_tool(plugin, workspace, tmp_path)
    assert [f.rule_id for f in result.findings] == ["DL3007"]


def test_ignore_rules_override_and_named_dockerfiles(tmp_path):
    plugin = require_tool("hadolint")
    workspace = tmp_path / "ws"
    (workspace / "docker").mkdir(parents=True)
    (workspace / "docker" / "Dockerfile.prod").write_text("FROM python:latest\nUSER root\n")
    (workspace / "api.dockerfile").write_text("FROM python:latest\nUSER 10001\n")
    result = run_tool(plugin, workspace, tmp_path, ignore_rules=["DL3007", "DL3066"])
    assert result.status == RunStatus.COMPLETED, result.error
    assert {(f.file_path, f.rule_id) for f in result.findings} == {
        ("docker/Dockerfile.prod", "DL3002")
    }


def test_no_dockerfile_is_skipped(tmp_path):
    plugin = require_tool("hadolint")
    (tmp_path / "ws").mkdir()
    result = run_tool(plugin, tmp_path / "ws", tmp_path)
    assert result.status == RunStatus.SKIPPED
    assert "no Dockerfile" in result.error


def test_exit_1_with_no_fail_is_an_error(tmp_path):
    plugin = require_tool("hadolint")
    report = tmp_path / "r.json"
    report.write_text("[]")
    assert plugin.interpret(0, report, "").ok
    outcome = plugin.interpret(1, report, "hadolint: x: withBinaryFile: does not exist\n")
    assert not outcome.ok and "does not exist" in outcome.error
