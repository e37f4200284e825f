"""Fingerprints survive unrelated edits: ten lines inserted at the top of every scanned file
leave every finding's fingerprint unchanged (while its line numbers move)."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.tools.runner import RunStatus
from apps.tools.tests.helpers import copy_sample, require_tool, run_tool

COMMENT = {".py": "#", ".js": "//", ".yml": "#", ".yaml": "#", ".sh": "#", ".tf": "#"}


def insert_ten_lines(root: Path) -> None:
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        marker = "#" if path.name in ("Dockerfile", "backup") else COMMENT.get(path.suffix)
        if marker is None:
            continue
        lines = path.read_text().splitlines(keepends=True)
        pad = [f"{marker} unrelated line {i}\n" for i in range(10)]
        keep = 1 if lines and lines[0].startswith("#!") else 0  # a shebang stays first
        path.write_text("".join(lines[:keep] + pad + lines[keep:]))


@pytest.mark.parametrize(
    "slug", ["bandit", "semgrep", "detect-secrets", "eslint", "hadolint", "shellcheck"]
)
def test_inserting_lines_keeps_fingerprints(slug, tmp_path):
    plugin = require_tool(slug)
    workspace = copy_sample(tmp_path)
    before = run_tool(plugin, workspace, tmp_path / "before")
    assert before.status == RunStatus.COMPLETED, before.error
    insert_ten_lines(workspace)
    after = run_tool(plugin, workspace, tmp_path / "after")
    assert after.status == RunStatus.COMPLETED, after.error

    old = {f.fingerprint: f for f in before.findings}
    new = {f.fingerprint: f for f in after.findings}
    assert len(old) == len(before.findings), "fingerprints must be unique within a run"
    assert set(new) == set(old), "an unrelated edit created or lost findings"
    moved = [fp for fp in old if old[fp].line_start != new[fp].line_start]
    assert moved, "the edit should have moved the findings (else this test proves nothing)"
