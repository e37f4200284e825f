"""Workspaces: a shallow clone that cannot run the repository's code (no hooks, protocol
allow-list, symlinks as plain files, `--` before the URL), or a re-validated local path."""

import subprocess

import pytest

from apps.projects.models import TargetAsset
from apps.scans.services import execution
from apps.users.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def git(*args, cwd):
    subprocess.run(
        ["git", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(cwd),
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.org",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.org",
        },
    )


@pytest.fixture
def repo(tmp_path, settings):
    root = tmp_path / "roots"
    source = root / "upstream"
    source.mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=source)
    (source / "app.py").write_text("import pickle\n")
    (source / "escape").symlink_to("/etc/passwd")
    git("add", "-A", cwd=source)
    git("commit", "-q", "-m", "one", cwd=source)
    git("checkout", "-q", "-b", "feature", cwd=source)
    (source / "feature.py").write_text("x = 1\n")
    git("add", "-A", cwd=source)
    git("commit", "-q", "-m", "two", cwd=source)
    git("checkout", "-q", "main", cwd=source)
    settings.SECULITE_SCAN_ROOTS = [root]
    settings.SECULITE_ALLOW_FILE_GIT_URLS = True
    settings.SECULITE_WORKSPACE_DIR = tmp_path / "workspaces"
    return source


def target(identifier, **metadata):
    return TargetAsset.objects.create(
        project=ProjectFactory(),
        name="repo",
        asset_type="git_repository",
        identifier=identifier,
        metadata=metadata,
    )


def test_clone_is_shallow_and_on_the_asked_branch(repo):
    cloned = target(f"file://{repo}", branch="feature")
    dest = execution.workspace_prepare(target=cloned, scan_id=7)
    assert (dest / "feature.py").is_file() and (dest / "app.py").is_file()
    count = subprocess.run(
        ["git", "rev-list", "--count", "HEAD"], cwd=dest, check=True, capture_output=True, text=True
    ).stdout.strip()
    assert count == "1"
    # A symlink in the repository arrives as a plain file: scanners cannot follow it out.
    escape = dest / "escape"
    assert not escape.is_symlink() and escape.read_text() == "/etc/passwd"
    # Prepared once per scan: a second call reuses the clone.
    (dest / "marker").write_text("kept")
    assert execution.workspace_prepare(target=cloned, scan_id=7) == dest
    assert (dest / "marker").read_text() == "kept"
    execution.workspace_cleanup(7)
    assert not dest.exists()
    assert repo.is_dir()  # the source is never touched


def test_clone_command_is_an_argument_list_with_a_protocol_allow_list(settings, tmp_path):
    settings.SECULITE_ALLOW_FILE_GIT_URLS = False
    argv = execution.git_clone_command("https://git.example.org/a.git", tmp_path / "d", "main")
    assert argv[argv.index("--") + 1] == "https://git.example.org/a.git"
    assert "protocol.allow=never" in argv and "core.hooksPath=/dev/null" in argv
    assert "protocol.file.allow=always" not in argv
    assert argv[argv.index("--branch") + 1] == "main"
    assert "--depth" in argv and "--recurse-submodules" not in argv


def test_a_failing_clone_is_a_clear_workspace_error(repo, tmp_path):
    with pytest.raises(execution.WorkspaceError, match="git clone failed"):
        execution.workspace_prepare(
            target=target(f"file://{repo}", branch="no-such-branch"), scan_id=8
        )


def test_targets_are_validated_again_at_scan_time(repo, settings):
    prepared = target(str(repo))
    prepared.metadata = {"local": True}
    prepared.save()
    settings.SECULITE_SCAN_ROOTS = []  # the operator removed the root since
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        execution.workspace_prepare(target=prepared, scan_id=9)
