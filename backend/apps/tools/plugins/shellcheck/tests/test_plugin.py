"""ShellCheck end to end: scripts found by suffix and shebang, the repo's .shellcheckrc ignored."""

from apps.tools.plugins.shellcheck.plugin import is_shell_script
from apps.tools.runner import RunStatus
from apps.tools.tests.helpers import REPO_DIR, by_rule, require_tool, run_tool


def test_finds_the_planted_shell_issues(sample_app, tmp_path):
    plugin = require_tool("shellcheck")
    result = run_tool(plugin, sample_app, tmp_path)
    assert result.status == RunStatus.COMPLETED, result.error
    assert result.command[-2:] == ["scripts/backup", "scripts/deploy.sh"]
    rules = by_rule(result.findings)
    assert ("scripts/deploy.sh", 4) in [(f.file_path, f.line_start) for f in rules["SC2164"]]
    # scripts/backup has no .sh suffix: found by its shebang.
    assert "scripts/backup" in {f.file_path for f in rules["SC2086"]}


def test_shebang_detection(tmp_path):
    cases = {
        "a.sh": "echo",
        "b": "#!/usr/bin/env bash\necho",
        "c": "#!/bin/sh\n",
        "d": "#!/usr/bin/python3\n",
        "e.py": "#!/bin/sh\n",
        "f": "echo",
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
    assert {n for n in cases if is_shell_script(tmp_path / n)} == {"a.sh", "b", "c"}


def test_repository_shellcheckrc_is_ignored(tmp_path):
    plugin = require_tool("shellcheck")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "run.sh").write_text("#!/bin/sh\necho $1\n")
    (workspace / ".shellcheckrc").write_text("disable=SC2086\n")
    result = run_tool(plugin, workspace, tmp_path)
    assert [f.rule_id for f in result.findings] == ["SC2086"]


def test_no_scripts_is_skipped(tmp_path):
    plugin = require_tool("shellcheck")
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "a.py").write_text("x = 1\n")
    result = run_tool(plugin, tmp_path / "ws", tmp_path)
    assert result.status == RunStatus.SKIPPED


def test_install_script_is_shellcheck_clean(tmp_path):
    """scripts/install-tools.sh, checked with the plugin itself."""
    plugin = require_tool("shellcheck")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "install-tools.sh").write_bytes(
        (REPO_DIR / "scripts" / "install-tools.sh").read_bytes()
    )
    result = run_tool(plugin, workspace, tmp_path)
    assert result.status == RunStatus.NO_FINDINGS, [f.title for f in result.findings]
