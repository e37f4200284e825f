"""scripts/install-tools.sh: idempotent (a second run skips what its stamp says is installed)."""

import subprocess
import time

import pytest
from django.conf import settings

from apps.tools.tests.helpers import REPO_DIR, require_tool

SCRIPT = REPO_DIR / "scripts" / "install-tools.sh"


def test_second_run_skips_installed_tools():
    require_tool("bandit")
    stamp = settings.SECULITE_TOOLS_DIR / "bandit" / ".seculite-installed"
    if not stamp.is_file():
        pytest.skip("bandit was not installed by scripts/install-tools.sh")
    started = time.monotonic()
    result = subprocess.run(
        ["bash", str(SCRIPT), "bandit"],
        env={"PATH": "/usr/bin:/bin", "SECULITE_TOOLS_DIR": str(settings.SECULITE_TOOLS_DIR)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "bandit: bandit==1.9.4 already installed, skipping" in result.stdout
    assert time.monotonic() - started < 10


def test_unknown_tool_is_an_error_before_anything_is_created(tmp_path):
    tools = tmp_path / "tools"
    result = subprocess.run(
        ["bash", str(SCRIPT), "no-such-tool"],
        env={"PATH": "/usr/bin:/bin", "SECULITE_TOOLS_DIR": str(tools)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "unknown tool: no-such-tool" in result.stdout
    assert not tools.exists()
