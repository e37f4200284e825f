"""Checkov end to end: restricted frameworks, and no code from the scanned repository."""

import textwrap

from apps.tools.runner import RunStatus
from apps.tools.tests.helpers import by_rule, require_tool, run_tool


def test_finds_the_planted_misconfigurations(sample_app, tmp_path):
    plugin = require_tool("checkov")
    result = run_tool(plugin, sample_app, tmp_path)
    assert result.status == RunStatus.COMPLETED, result.error
    assert result.exit_code == 1
    assert result.tool_version == "3.3.30"
    rules = by_rule(result.findings)
    assert rules["CKV_K8S_16"][0].file_path == "deploy/k8s/deployment.yaml"  # privileged
    assert rules["CKV_K8S_19"][0].file_path == "deploy/k8s/deployment.yaml"  # hostNetwork
    assert rules["CKV_AWS_20"][0].file_path == "deploy/terraform/main.tf"  # public-read ACL
    assert rules["CKV_AWS_24"][0].file_path == "deploy/terraform/main.tf"  # SSH from anywhere
    assert (rules["CKV_DOCKER_8"][0].file_path, rules["CKV_DOCKER_8"][0].line_start) == (
        "Dockerfile",
        4,
    )


def test_repository_config_cannot_load_checks(tmp_path):
    """A scanned repo's .checkov.yaml with external-checks-dir would import its Python."""
    plugin = require_tool("checkov")
    workspace = tmp_path / "ws"
    marker = tmp_path / "PWNED"
    (workspace / "checks").mkdir(parents=True)
    (workspace / "checks" / "__init__.py").write_text("")
    (workspace / "checks" / "evil.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    (workspace / ".checkov.yaml").write_text("external-checks-dir:\n  - checks\n")
    (workspace / "main.tf").write_text(
        textwrap.dedent(
            """
            resource "aws_security_group" "ssh" {
              ingress {
                from_port   = 22
                to_port     = 22
                protocol    = "tcp"
                cidr_blocks = ["0.0.0.0/0"]
              }
            }
            """
        )
    )
    result = run_tool(plugin, workspace, tmp_path, frameworks=["terraform"])
    assert result.status == RunStatus.COMPLETED, result.error
    assert not marker.exists(), "checkov imported Python code from the scanned repository"
    assert "CKV_AWS_24" in {f.rule_id for f in result.findings}


def test_symlinked_and_oversized_files_are_not_read(tmp_path, settings):
    """checkov follows symlinked files and parses files whole: a repository's link to a file of
    the worker must not be read or quoted, and a huge (sparse) file must not be loaded."""
    plugin = require_tool("checkov")
    settings.SECULITE_SCAN_MAX_FILE_MB = 1
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "canary.tf").write_text(
        'resource "aws_s3_bucket" "b" {\n  bucket = "canary-7d3e9a"\n  acl = "public-read"\n}\n'
    )
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "leak.tf").symlink_to(outside / "canary.tf")
    (workspace / "main.tf").write_text('resource "aws_s3_bucket" "data" {\n  bucket = "d"\n}\n')
    with (workspace / "huge.tf").open("wb") as handle:
        handle.truncate(2 << 20)
    result = run_tool(plugin, workspace, tmp_path, frameworks=["terraform"])
    assert result.status == RunStatus.COMPLETED, result.error
    assert {f.file_path for f in result.findings} == {"main.tf"}
    report = b"".join(p.read_bytes() for p in result.output_path.parent.rglob("*") if p.is_file())
    assert b"canary-7d3e9a" not in report


def test_no_iac_files_is_no_findings(tmp_path):
    plugin = require_tool("checkov")
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "app.py").write_text("x = 1\n")
    result = run_tool(plugin, tmp_path / "ws", tmp_path, frameworks=["dockerfile"])
    assert result.status == RunStatus.NO_FINDINGS, result.error


def test_missing_workspace_fails_instead_of_passing(tmp_path):
    plugin = require_tool("checkov")
    result = run_tool(plugin, tmp_path / "does-not-exist", tmp_path)
    assert result.status == RunStatus.FAILED
    assert "does not exist" in result.error
