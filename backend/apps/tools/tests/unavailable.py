"""Shared checks for scanners whose binary cannot be installed on the development machines
(gitleaks, trivy, ZAP): they show as unavailable with a reason and a scan records `skipped`."""

from __future__ import annotations

from pathlib import Path

from apps.tools.plugins.base import ScanContext, ScannerPlugin, TargetType
from apps.tools.runner import RunStatus, run_plugin


def hide_binaries(settings, monkeypatch, tmp_path: Path) -> None:
    """An empty tools folder and a PATH without the scanner, whatever this machine has."""
    empty = tmp_path / "empty-bin"
    empty.mkdir(exist_ok=True)
    monkeypatch.setenv("PATH", str(empty))
    settings.SECULITE_TOOLS_DIR = tmp_path / "tools"


def assert_skipped_when_missing(
    plugin: ScannerPlugin, tmp_path: Path, target_type: TargetType, target: str = ""
) -> str:
    """The plugin is unavailable, and running it through the runner records `skipped` with the
    reason (never a crash). Returns the reason."""
    location = plugin.locate()
    assert not location.available
    assert plugin.binary in location.reason
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    ctx = ScanContext(
        workspace=workspace,
        output_dir=tmp_path / "out",
        target_type=target_type,
        target=target,
    )
    result = run_plugin(plugin, ctx)
    assert result.status == RunStatus.SKIPPED
    assert result.error == location.reason
    assert result.findings == []
    return location.reason


def fake_binary(folder: Path, name: str) -> Path:
    """An executable placeholder so that build_command can be inspected (never run)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\nexit 99\n")
    path.chmod(0o755)
    return path
