"""Bandit end to end: the real binary on the vulnerable sample, and its exit-code traps."""

import json

from apps.tools.runner import RunStatus
from apps.tools.tests.helpers import by_rule, require_tool, run_tool


def test_finds_the_planted_python_flaws(sample_app, tmp_path):
    plugin = require_tool("bandit")
    result = run_tool(plugin, sample_app, tmp_path)
    assert result.status == RunStatus.COMPLETED, result.error
    assert result.exit_code == 1
    assert result.tool_version == "1.9.4"
    rules = by_rule(result.findings)
    expected = {"B602": 15, "B307": 20, "B301": 25, "B506": 30, "B324": 35, "B608": 41, "B501": 47}
    for rule, line in expected.items():
        assert [(f.file_path, f.line_start) for f in rules[rule]] == [("app/views.py", line)]
    assert rules["B105"][0].file_path == "app/settings.py"
    assert all(f.fingerprint for f in result.findings)


def test_overrides_reach_the_command(sample_app, tmp_path):
    plugin = require_tool("bandit")
    result = run_tool(plugin, sample_app, tmp_path, severity_threshold="high", skip_tests=["B324"])
    assert result.status == RunStatus.COMPLETED, result.error
    assert {f.rule_id for f in result.findings} == {"B602", "B501"}


def test_repository_bandit_config_is_ignored(tmp_path):
    plugin = require_tool("bandit")
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "app.py").write_text("def f(x):\n    return eval(x)\n")
    (tmp_path / "ws" / ".bandit").write_text("[bandit]\nskips = B307\nexclude = ./app.py\n")
    result = run_tool(plugin, tmp_path / "ws", tmp_path)
    assert [f.rule_id for f in result.findings] == ["B307"]


def test_missing_target_is_a_failure_not_success(tmp_path):
    plugin = require_tool("bandit")
    report = tmp_path / "bandit.json"
    # What bandit 1.9.4 writes, with exit 0, when its target does not exist.
    report.write_text(
        json.dumps(
            {
                "errors": [{"filename": ".", "reason": "No such file or directory"}],
                "results": [],
                "metrics": {},
            }
        )
    )
    outcome = plugin.interpret(0, report, "")
    assert not outcome.ok and "No such file" in outcome.error
    assert not plugin.interpret(2, report, "usage: bandit").ok
    assert not plugin.interpret(0, tmp_path / "none.json", "").ok


def test_symlinked_and_oversized_python_files_are_not_read(tmp_path, settings):
    """Bandit follows symlinked files and reads files whole: a repository's link to a file of
    the worker must not be read or quoted, and a huge (sparse) file must not be loaded."""
    plugin = require_tool("bandit")
    settings.SECULITE_SCAN_MAX_FILE_MB = 1
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text('password = "canary-4f1c2b"\n')
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "app.py").write_text("def f(x):\n    return eval(x)\n")
    (workspace / "leak.py").symlink_to(outside / "secret.py")
    (workspace / "a,leak.py").symlink_to(outside / "secret.py")
    with (workspace / "huge.py").open("wb") as handle:
        handle.truncate(2 << 20)
    result = run_tool(plugin, workspace, tmp_path)
    assert result.status == RunStatus.COMPLETED, result.error
    assert [(f.file_path, f.rule_id) for f in result.findings] == [("app.py", "B307")]
    assert b"canary-4f1c2b" not in result.output_path.read_bytes()
