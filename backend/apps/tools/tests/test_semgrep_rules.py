"""SecuLite's own semgrep rule packs: well-formed, documented, and passing `semgrep --test`
against the annotated targets beside them (python.py, javascript.js, ...)."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from apps.tools.plugins.semgrep.plugin import RULES_DIR, rule_packs
from apps.tools.runner import minimal_env
from apps.tools.tests.helpers import require_tool

RULES = [
    (pack, rule)
    for pack in rule_packs()
    for rule in yaml.safe_load((RULES_DIR / f"{pack}.yml").read_text())["rules"]
]
#: Rules limited by `paths:` (semgrep --test does not apply path filters to its targets).
UNTESTED = {"seculite.python.django-debug-true"}


@pytest.mark.parametrize("pack,rule", RULES, ids=[rule["id"] for _, rule in RULES])
def test_rule_is_documented(pack, rule):
    assert rule["id"].startswith(f"seculite.{pack}.")
    assert rule["message"].strip()
    assert rule["severity"] in {"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"}
    metadata = rule["metadata"]
    assert metadata["cwe"].startswith("CWE-")
    assert metadata["confidence"] in {"HIGH", "MEDIUM", "LOW"}
    assert metadata["references"] and all(
        ref.startswith("https://") for ref in metadata["references"]
    )


def test_rule_ids_are_unique():
    ids = [rule["id"] for _, rule in RULES]
    assert len(ids) == len(set(ids))


def test_rules_pass_their_annotated_tests(tmp_path):
    plugin = require_tool("semgrep")
    binary = plugin.locate().path
    env = minimal_env(plugin, binary, tmp_path)
    result = subprocess.run(
        [binary, "--test", "--json", "--metrics=off", "--disable-version-check", str(RULES_DIR)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
        check=False,
    )
    report = json.loads(result.stdout)
    assert report["config_with_errors"] == []
    assert report["config_missing_tests"] == []
    checks = {
        rule_id: check
        for pack in report["results"].values()
        for rule_id, check in pack["checks"].items()
    }
    failed = {rule_id: c for rule_id, c in checks.items() if not c["passed"]}
    assert not failed, json.dumps(failed, indent=1)[:2000]
    assert set(checks) == {rule["id"] for _, rule in RULES} - UNTESTED
    assert result.returncode == 0
