"""Helpers shared by the scanner tests: the sample project, real binaries, fixtures."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from apps.tools.plugins.base import ScanContext, ScannerPlugin
from apps.tools.plugins.registry import registry
from apps.tools.runner import RunResult, run_plugin

BACKEND_DIR = Path(__file__).resolve().parents[3]
REPO_DIR = BACKEND_DIR.parent
SAMPLE_APP = BACKEND_DIR / "samples" / "vulnerable-app"
#: Where capture_fixtures.py ran the tools: absolute paths in the fixtures start here.
FIXTURE_ROOT = Path("/tmp/seculite-fixtures")
REQUIRE_SERVICES = os.environ.get("SECULITE_REQUIRE_SERVICES") == "1"


def require_tool(slug: str) -> ScannerPlugin:
    """The registered plugin whose binary is installed; else skip, or fail in CI.

    With SECULITE_REQUIRE_SERVICES=1 a missing scanner is a failure: a skipped test is not a
    passed test.
    """
    plugin = registry.get(slug)
    # The binary only: a plugin may add conditions (pip-audit: its service), tested separately.
    location = ScannerPlugin.locate(plugin)
    if not location.available:
        reason = f"scanner {slug} is not installed: {location.reason}"
        if REQUIRE_SERVICES:
            pytest.fail(f"{reason} (SECULITE_REQUIRE_SERVICES=1)", pytrace=False)
        pytest.skip(reason)
    return plugin


def run_tool(plugin: ScannerPlugin, workspace: Path, tmp_path: Path, **overrides) -> RunResult:
    ctx = ScanContext(
        workspace=workspace, output_dir=tmp_path / f"out-{plugin.slug}", overrides=overrides
    )
    return run_plugin(plugin, ctx)


def copy_sample(tmp_path: Path) -> Path:
    """A private copy of the vulnerable sample, for tests that modify it."""
    target = tmp_path / "vulnerable-app"
    shutil.copytree(SAMPLE_APP, target)
    return target


def fixture(test_file: str, name: str) -> Path:
    return Path(test_file).resolve().parent / "fixtures" / name


def parse_fixture(plugin: ScannerPlugin, path: Path, workspace: Path | None = None):
    findings = plugin.parse_file(path, workspace=workspace)
    return plugin.fingerprint(findings)


def by_rule(findings) -> dict[str, list]:
    grouped: dict[str, list] = {}
    for finding in findings:
        grouped.setdefault(finding.rule_id, []).append(finding)
    return grouped
