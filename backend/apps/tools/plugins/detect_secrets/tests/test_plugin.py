"""detect-secrets end to end: offline (no verification) and on files outside git."""

import json

from apps.tools.runner import RunStatus
from apps.tools.tests.helpers import by_rule, require_tool, run_tool


def test_finds_the_planted_secrets_and_never_keeps_them(sample_app, tmp_path):
    plugin = require_tool("detect-secrets")
    result = run_tool(plugin, sample_app, tmp_path)
    assert result.status == RunStatus.COMPLETED, result.error
    assert result.tool_version == "1.5.0"
    assert "--no-verify" in result.command and "--all-files" in result.command
    rules = by_rule(result.findings)
    assert [(f.file_path, f.line_start) for f in rules["AWS Access Key"]] == [
        ("app/settings.py", 6)
    ]
    assert [f.file_path for f in rules["Private Key"]] == ["config/deploy_key.pem"]
    dumped = json.dumps([f.to_dict() for f in result.findings])
    assert "AKIAIOSFODNN7EXAMPLE" not in dumped and "Sup3rS3cretPassw0rd!" not in dumped
    assert all(f.extra["secret_located"] for f in result.findings)


def test_translation_and_binary_files_are_skipped(tmp_path):
    plugin = require_tool("detect-secrets")
    workspace = tmp_path / "ws"
    (workspace / "locale").mkdir(parents=True)
    secret = 'aws_key = "AKIAIOSFODNN7EXAMPLE"\n'
    (workspace / "locale" / "django.po").write_text(secret)
    (workspace / "logo.png").write_text(secret)
    (workspace / "settings.py").write_text(secret)
    result = run_tool(plugin, workspace, tmp_path)
    assert {f.file_path for f in result.findings} == {"settings.py"}


def test_exclude_files_override(sample_app, tmp_path):
    plugin = require_tool("detect-secrets")
    result = run_tool(plugin, sample_app, tmp_path, exclude_files=[r"\.pem$"])
    assert "config/deploy_key.pem" not in {f.file_path for f in result.findings}


def test_oversized_and_symlinked_files_are_not_read(tmp_path, settings):
    """detect-secrets reads files line by line into memory: files past SECULITE_SCAN_MAX_FILE_MB
    are left out, and so are symlinks (to a secret outside the repository)."""
    plugin = require_tool("detect-secrets")
    settings.SECULITE_SCAN_MAX_FILE_MB = 1
    outside = tmp_path / "outside"
    outside.mkdir()
    token = 'GITHUB_TOKEN = "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"\n'
    (outside / "secret.txt").write_text(token)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "config.py").write_text(token)
    (workspace / "big.txt").write_text(token + "x" * (2 << 20) + "\n")
    (workspace / "leak.txt").symlink_to(outside / "secret.txt")
    result = run_tool(plugin, workspace, tmp_path)
    assert result.status == RunStatus.COMPLETED, result.error
    assert {f.file_path for f in result.findings} == {"config.py"}
