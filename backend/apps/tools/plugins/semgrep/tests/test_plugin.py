"""Semgrep end to end with SecuLite's rule packs, offline, on the vulnerable sample."""

import time

from apps.tools.plugins.semgrep.plugin import rule_packs
from apps.tools.runner import RunStatus
from apps.tools.tests.helpers import by_rule, require_tool, run_tool


def test_rule_packs_are_shipped():
    assert {"python", "javascript", "dockerfile", "yaml"} <= set(rule_packs())


def test_finds_the_planted_flaws(sample_app, tmp_path):
    plugin = require_tool("semgrep")
    started = time.monotonic()
    result = run_tool(plugin, sample_app, tmp_path)
    # Offline without --disable-version-check a scan this size takes ~100 s.
    assert time.monotonic() - started < 60
    assert result.status == RunStatus.COMPLETED, result.error
    assert result.tool_version.startswith("1.")
    rules = by_rule(result.findings)
    expected = {
        "seculite.python.subprocess-shell-true": ("app/views.py", 15),
        "seculite.python.eval-exec": ("app/views.py", 20),
        "seculite.python.insecure-deserialization": ("app/views.py", 25),
        "seculite.python.yaml-unsafe-load": ("app/views.py", 30),
        "seculite.javascript.eval": ("web/server.js", 6),
        "seculite.javascript.child-process-exec": ("web/server.js", 18),
        "seculite.dockerfile.curl-pipe-shell": ("Dockerfile", 7),
        "seculite.dockerfile.last-user-root": ("Dockerfile", 4),
        "seculite.yaml.docker-socket-mount": ("docker-compose.yml", 10),
    }
    for rule, (path, line) in expected.items():
        assert (path, line) in [(f.file_path, f.line_start) for f in rules[rule]], rule
    assert all(f.code_snippet for f in result.findings)


def test_one_rule_pack(sample_app, tmp_path):
    plugin = require_tool("semgrep")
    result = run_tool(plugin, sample_app, tmp_path, rule_packs=["dockerfile"])
    assert result.status == RunStatus.COMPLETED, result.error
    assert {f.file_path for f in result.findings} == {"Dockerfile"}


def test_bad_rule_file_is_a_failure(tmp_path, monkeypatch):
    plugin = require_tool("semgrep")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "broken.yml").write_text("rules:\n  - id: x\n    pattern: [\n")
    monkeypatch.setattr("apps.tools.plugins.semgrep.plugin.RULES_DIR", rules)
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "a.py").write_text("x = 1\n")
    result = run_tool(plugin, tmp_path / "ws", tmp_path)
    assert result.status == RunStatus.FAILED
    assert result.exit_code not in (0, 1)
