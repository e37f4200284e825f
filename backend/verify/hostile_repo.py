"""A git repository crafted against the scanners, made with the git CLI at run time.

Everything it tries to reach lives in `outside/`, a directory outside every workspace and scan
root: a canary file with a unique secret (behind symlinks named for each scanner's file types),
the scripts that `core.fsmonitor`, `core.hooksPath`, the repository's own hooks, a filter
driver and a checkov config would run, and the marker files those scripts write. The suite
watches `outside/` with inotify, so any open, read, execution or new file there is seen.

Tracked: real findings for bandit, semgrep, detect-secrets, shellcheck, hadolint and checkov (so
each is seen to run), symlinks out (to the canary, to /etc/shadow, to the whole outside
directory), file names with leading dashes, a newline, `$(...)` and backticks, a .gitmodules
with an `ext::` URL, a .checkov.yaml loading "external checks" from the repository.
Untracked (git cannot hold them cheaply): sparse files of `sparse_gb` GB each, one per scanned
file type."""

from __future__ import annotations

import os
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

GIT_ENV = {
    "PATH": "/usr/bin:/bin",
    "GIT_AUTHOR_NAME": "attacker",
    "GIT_AUTHOR_EMAIL": "attacker@example.org",
    "GIT_COMMITTER_NAME": "attacker",
    "GIT_COMMITTER_EMAIL": "attacker@example.org",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "LANG": "C.UTF-8",
}
#: Names the repository plants in shell-looking file names; a shell would create these files.
PWNED_NAMES = ("pwned-dollar", "pwned-backtick")
HOOKS = ("post-checkout", "post-merge", "post-rewrite", "pre-commit", "reference-transaction")


@dataclass
class HostileRepo:
    source: Path
    outside: Path
    canary: str
    sparse_files: list[str] = field(default_factory=list)
    tracked: list[str] = field(default_factory=list)

    @property
    def markers(self) -> list[Path]:
        return sorted(p for p in self.outside.iterdir() if p.name.startswith("MARKER-"))


def git(*args: str, cwd: Path, home: Path, check: bool = True) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**GIT_ENV, "HOME": str(home)},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0 or not check, f"git {args}: {done.stderr}"
    return done.stdout


def _script(path: Path, marker: Path) -> None:
    path.write_text(f'#!/bin/sh\necho "$0 $*" >> "{marker}"\nexit 0\n')
    path.chmod(0o755)


def build(base: Path, roots: Path, *, sparse_gb: int) -> HostileRepo:
    outside = base / "outside"
    outside.mkdir()
    home = base / "git-home"
    home.mkdir()
    canary = f"seculite-canary-{uuid.uuid4().hex}"
    (outside / "canary.py").write_text(
        f'password = "{canary}"\naws_secret_access_key = "{canary}"\n'
    )
    (outside / "canary.txt").write_text(f'token = "{canary}"\nsecret: {canary}\n')
    (outside / "canary.tf").write_text(
        f'resource "aws_s3_bucket" "canary" {{\n  bucket = "{canary}"\n  acl = "public-read"\n}}\n'
    )
    (outside / "canary.sh").write_text(f"#!/bin/sh\necho {canary} $1\n")
    (outside / "canary.Dockerfile").write_text(f"FROM ubuntu:latest\nRUN echo {canary}\n")
    (outside / "canary.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: canary\nspec:\n  containers:\n"
        f"  - name: c\n    image: {canary}:latest\n"
    )
    _script(outside / "fsmonitor.sh", outside / "MARKER-fsmonitor")
    _script(outside / "filter.sh", outside / "MARKER-filter")
    _script(outside / "diff-external.sh", outside / "MARKER-diff-external")
    for hook in HOOKS:  # core.hooksPath points here
        _script(outside / hook, outside / f"MARKER-hookspath-{hook}")

    source = roots / "hostile"
    source.mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=source, home=home)
    files = {
        "app.py": "import pickle\n\n\ndef load(data):\n    return pickle.loads(data)\n",
        "config.py": 'GITHUB_TOKEN = "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"\n',
        "deploy.sh": "#!/bin/sh\nrm -rf $1/tmp\n",
        "Dockerfile": "FROM ubuntu:latest\nRUN apt-get update && apt-get install -y curl\n",
        "main.tf": (
            'resource "aws_s3_bucket" "data" {\n  bucket = "data"\n  acl = "public-read"\n}\n'
        ),
        "-rf": "#!/bin/sh\necho $1\n",
        "--output=x.py": "eval(input())\n",
        "-oX.sh": "#!/bin/sh\necho $2\n",
        "a\nb.py": "exec(input())\n",
        f"$(touch {PWNED_NAMES[0]}).py": "import os\nos.system(input())\n",
        f"`touch {PWNED_NAMES[1]}`.sh": "#!/bin/sh\neval $1\n",
        # checkov reads .checkov.yaml from its working directory: "external checks" are Python
        # that it imports. The plugin runs checkov elsewhere, so this must never load.
        ".checkov.yaml": "external-checks-dir:\n  - checks\n",
        "checks/__init__.py": f'open("{outside}/MARKER-checkov-external-checks", "w")\n',
        "checks/evil.py": f'open("{outside}/MARKER-checkov-external-checks", "w")\n',
        ".gitattributes": "* filter=evil diff=evil\n",
        ".gitmodules": (
            '[submodule "sub"]\n\tpath = sub\n'
            f"\turl = ext::sh -c touch% {outside}/MARKER-submodule-ext\n"
        ),
    }
    for name, text in files.items():
        path = source / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (source / "deploy.sh").chmod(0o755)
    links = {
        "leak.py": outside / "canary.py",
        "leak.txt": outside / "canary.txt",
        "leak.tf": outside / "canary.tf",
        "leak.sh": outside / "canary.sh",
        "Dockerfile.leak": outside / "canary.Dockerfile",
        "leak.yaml": outside / "canary.yaml",
        "relative-leak.py": Path(os.path.relpath(outside / "canary.py", source)),
        "shadow.py": Path("/etc/shadow"),
        "shadow.tf": Path("/etc/shadow"),
        "shadow": Path("/etc/shadow"),
        "outside-dir": outside,
    }
    for name, target in links.items():
        (source / name).symlink_to(target)
    git("add", "-A", cwd=source, home=home)
    # A gitlink for the submodule of .gitmodules (never cloned: no --recurse-submodules).
    git(
        "update-index", "--add", "--cacheinfo",
        "160000,1111111111111111111111111111111111111111,sub",
        cwd=source, home=home,
    )  # fmt: skip
    git("commit", "-q", "-m", "hostile", cwd=source, home=home)
    tracked = [p for p in git("ls-files", "-z", cwd=source, home=home).split("\0") if p]

    # The repository's own configuration: what a git command run inside it would execute.
    config = [
        ("core.fsmonitor", str(outside / "fsmonitor.sh")),
        ("core.hooksPath", str(outside)),
        ("filter.evil.clean", str(outside / "filter.sh")),
        ("filter.evil.smudge", str(outside / "filter.sh")),
        ("diff.evil.textconv", str(outside / "diff-external.sh")),
        ("diff.external", str(outside / "diff-external.sh")),
        ("core.pager", str(outside / "diff-external.sh")),
        ("uploadpack.packObjectsHook", str(outside / "fsmonitor.sh")),
    ]
    for key, value in config:
        git("config", key, value, cwd=source, home=home)
    for hook in HOOKS:  # and the classic place, in case hooksPath is overridden
        _script(source / ".git" / "hooks" / hook, outside / f"MARKER-git-hooks-{hook}")

    sparse = []
    for name in ("huge.py", "huge.txt", "huge.tf", "huge.sh", "Dockerfile.huge", "huge.yaml"):
        with (source / name).open("wb") as handle:
            handle.truncate(sparse_gb << 30)
        sparse.append(name)
    return HostileRepo(
        source=source, outside=outside, canary=canary, sparse_files=sparse, tracked=tracked
    )


def arm_check(repo: HostileRepo, scratch: Path) -> list[str]:
    """Prove the traps are live: plain git in the repository runs core.fsmonitor and the
    post-checkout hook. Returns the markers that fired (then removes them)."""
    home = scratch / "git-home-arm"
    home.mkdir(exist_ok=True)
    # The filter driver is no real long-running filter: git may complain, the traps still fire.
    git("status", "--porcelain", cwd=repo.source, home=home, check=False)
    git("checkout", "-q", "-b", "arm-check", cwd=repo.source, home=home, check=False)
    git("checkout", "-q", "main", cwd=repo.source, home=home, check=False)
    git("branch", "-q", "-D", "arm-check", cwd=repo.source, home=home, check=False)
    fired = [p.name for p in repo.markers]
    for path in repo.markers:
        path.unlink()
    return fired
