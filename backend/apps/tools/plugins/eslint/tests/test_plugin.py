"""ESLint end to end with SecuLite's config; the scanned repo's config never runs."""

from apps.tools.runner import RunStatus
from apps.tools.tests.helpers import by_rule, require_tool, run_tool


def test_finds_the_planted_javascript_flaws(sample_app, tmp_path):
    plugin = require_tool("eslint")
    result = run_tool(plugin, sample_app, tmp_path)
    assert result.status == RunStatus.COMPLETED, result.error
    assert result.tool_version.startswith("10.")
    rules = by_rule(result.findings)
    lines = {rule: [(f.file_path, f.line_start) for f in found] for rule, found in rules.items()}
    assert lines["security/detect-eval-with-expression"] == [("web/server.js", 6)]
    assert lines["security/detect-non-literal-fs-filename"] == [("web/server.js", 12)]
    assert lines["security/detect-child-process"] == [("web/server.js", 18)]
    assert lines["security/detect-object-injection"] == [("web/server.js", 24)]


def test_repository_eslint_config_and_suppressions_are_ignored(tmp_path):
    plugin = require_tool("eslint")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    marker = tmp_path / "PWNED"
    (workspace / "eslint.config.js").write_text(
        f'require("fs").writeFileSync({str(marker)!r}, "x");\nmodule.exports = [];\n'
    )
    (workspace / "eslint.config.mjs").write_text(
        f'import fs from "fs";\nfs.writeFileSync({str(marker)!r}, "x");\nexport default [];\n'
    )
    (workspace / "eslint-suppressions.json").write_text(
        '{"app.js": {"security/detect-eval-with-expression": {"count": 1}}}'
    )
    (workspace / "app.js").write_text("export const run = (input) => eval(input);\n")
    result = run_tool(plugin, workspace, tmp_path)
    assert not marker.exists(), "eslint ran the scanned repository's config"
    assert result.status == RunStatus.COMPLETED, result.error
    assert [f.rule_id for f in result.findings] == ["security/detect-eval-with-expression"]


def test_inline_disables_can_be_ignored(tmp_path):
    plugin = require_tool("eslint")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "app.js").write_text(
        "// eslint-disable-next-line\nexport const run = (input) => eval(input);\n"
    )
    assert run_tool(plugin, workspace, tmp_path / "a").status == RunStatus.NO_FINDINGS
    result = run_tool(plugin, workspace, tmp_path / "b", ignore_inline_suppressions=True)
    assert [f.rule_id for f in result.findings] == ["security/detect-eval-with-expression"]


def test_no_javascript_is_skipped(tmp_path):
    plugin = require_tool("eslint")
    (tmp_path / "ws" / "node_modules" / "x").mkdir(parents=True)
    (tmp_path / "ws" / "node_modules" / "x" / "index.js").write_text("eval(a)\n")
    result = run_tool(plugin, tmp_path / "ws", tmp_path)
    assert result.status == RunStatus.SKIPPED
