"""Trivy without its binary (not installable here): each of the three plugins is unavailable
with a reason and `skipped` in a scan; their commands keep the scanned tree from configuring
trivy and keep the target one argument after `--`."""

import json

import pytest

from apps.tools.plugins.base import Category, NothingToScan, ScanContext, TargetType
from apps.tools.plugins.registry import registry
from apps.tools.tests.unavailable import assert_skipped_when_missing, hide_binaries

SLUGS = {
    "trivy-fs": (Category.SCA, TargetType.GIT_REPOSITORY, ""),
    "trivy-config": (Category.IAC, TargetType.FILE_UPLOAD, ""),
    "trivy-image": (Category.CONTAINER, TargetType.DOCKER_IMAGE, "alpine:3.19"),
}


@pytest.mark.parametrize("slug", SLUGS)
def test_unavailable_with_a_clear_reason_and_skipped(slug, settings, monkeypatch, tmp_path):
    category, target_type, target = SLUGS[slug]
    plugin = registry.get(slug)
    assert plugin.category == category
    hide_binaries(settings, monkeypatch, tmp_path)
    reason = assert_skipped_when_missing(plugin, tmp_path, target_type, target)
    assert "make tools" in reason and "Docker image" in reason


def context(tmp_path, slug, target="", **overrides):
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    return ScanContext(
        workspace=workspace,
        output_dir=tmp_path / "out",
        target_type=SLUGS[slug][1],
        target=target,
        overrides=overrides,
        binary="/opt/trivy/bin/trivy",
        scratch_dir=scratch,
    )


def test_fs_command(settings, tmp_path):
    settings.SECULITE_TOOLS_DIR = tmp_path / "tools"
    plugin = registry.get("trivy-fs")
    ctx = context(
        tmp_path,
        "trivy-fs",
        severities=["HIGH", "CRITICAL"],
        ignore_unfixed=True,
        skip_db_update=True,
        exclude_paths=["vendor"],
    )
    command = plugin.build_command(ctx)
    argv = command.argv
    assert argv[:2] == ["/opt/trivy/bin/trivy", "fs"]
    assert argv[-2:] == ["--", "."]
    assert command.cwd == ctx.workspace
    assert "--scanners=vuln,secret" in argv
    assert f"--config={tmp_path / 'scratch' / 'trivy.yaml'}" in argv
    assert f"--ignorefile={tmp_path / 'scratch' / 'trivyignore'}" in argv
    assert f"--cache-dir={tmp_path / 'tools' / 'trivy' / 'cache'}" in argv
    for flag in ("--severity=HIGH,CRITICAL", "--ignore-unfixed", "--skip-db-update"):
        assert flag in argv
    assert "--skip-dirs=vendor" in argv and "--exit-code=0" in argv
    assert command.output_path.name == "trivy-fs.json"


def test_config_and_image_commands(tmp_path):
    argv = registry.get("trivy-config").build_command(context(tmp_path, "trivy-config")).argv
    assert argv[1] == "config" and argv[-2:] == ["--", "."]
    assert not any(a.startswith("--scanners") for a in argv)
    image = registry.get("trivy-image")
    argv = image.build_command(
        context(
            tmp_path, "trivy-image", "registry.example.org:5000/team/app:1.2@sha256:" + "a" * 64
        )
    ).argv
    assert argv[1] == "image"
    assert argv[-2:] == ["--", "registry.example.org:5000/team/app:1.2@sha256:" + "a" * 64]


@pytest.mark.parametrize(
    "target", ["", "-q", "--input=/etc/passwd", "a b", "../../etc", "http://x//y", "a;rm"]
)
def test_bad_image_references_are_refused(target, tmp_path):
    with pytest.raises(NothingToScan):
        registry.get("trivy-image").build_command(context(tmp_path, "trivy-image", target))


def test_interpret_decides_from_exit_code_and_report(tmp_path):
    plugin = registry.get("trivy-fs")
    report = tmp_path / "trivy.json"
    report.write_text(json.dumps({"SchemaVersion": 2, "Results": []}))
    assert plugin.interpret(0, report, "").ok
    outcome = plugin.interpret(1, report, "2024-01-01T00:00:00Z\tFATAL\tdb download failed")
    assert not outcome.ok and "FATAL" in outcome.error
    report.write_text("[]")
    assert not plugin.interpret(0, report, "").ok
    assert not plugin.interpret(0, tmp_path / "missing.json", "").ok


def test_overrides_are_validated():
    import jsonschema

    with pytest.raises(jsonschema.ValidationError):
        registry.get("trivy-config").validate_overrides({"skip_db_update": True})
    with pytest.raises(jsonschema.ValidationError):
        registry.get("trivy-image").validate_overrides({"scanners": ["misconfig"]})
    with pytest.raises(jsonschema.ValidationError):
        registry.get("trivy-fs").validate_overrides({"severities": ["SEVERE"]})
