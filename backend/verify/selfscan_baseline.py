"""The self-scan's baseline (security/baseline.json): which paths are not scanned and which
high or critical findings stand, each with a reviewed reason. See test_selfscan.py."""

from __future__ import annotations

import fnmatch
import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

GATED = ("critical", "high")
MIN_REASON = 40  # characters: a reason says what the code does and why it stands


@dataclass
class Exclude:
    globs: list[str]
    reason: str

    def matches(self, path: str) -> bool:
        return any(fnmatch.fnmatchcase(path, glob) for glob in self.globs)


@dataclass
class Entry:
    tool: str
    rule: str
    path: str
    reason: str
    severity: str = ""

    def matches(self, finding: dict) -> bool:
        return (finding.get("tool"), finding.get("rule_id"), finding.get("file_path")) == (
            self.tool,
            self.rule,
            self.path,
        )

    def label(self) -> str:
        return f"{self.tool} {self.rule} {self.path}"


@dataclass
class Baseline:
    excludes: list[Exclude]
    entries: list[Entry]


def load_baseline(path: Path) -> Baseline:
    """Read and validate the baseline; a malformed one raises ValueError naming the problem."""
    data = json.loads(path.read_text(encoding="utf-8"))
    problems = []
    excludes, entries = [], []
    for i, item in enumerate(data.get("excludes", [])):
        globs, reason = item.get("globs"), str(item.get("reason", "")).strip()
        if not globs or not all(isinstance(g, str) and g for g in globs):
            problems.append(f"exclude {i}: no globs")
        if len(reason) < MIN_REASON:
            problems.append(f"exclude {i} ({globs}): no reviewed reason")
        excludes.append(Exclude(list(globs or []), reason))
    seen = set()
    for i, item in enumerate(data.get("entries", [])):
        entry = Entry(
            tool=str(item.get("tool", "")),
            rule=str(item.get("rule", "")),
            path=str(item.get("path", "")),
            reason=str(item.get("reason", "")).strip(),
            severity=str(item.get("severity", "")),
        )
        if not (entry.tool and entry.rule and entry.path):
            problems.append(f"entry {i}: tool, rule and path are all needed")
        if len(entry.reason) < MIN_REASON:
            problems.append(f"entry {i} ({entry.label()}): no reviewed reason")
        if (entry.tool, entry.rule, entry.path) in seen:
            problems.append(f"entry {i} ({entry.label()}): listed twice")
        seen.add((entry.tool, entry.rule, entry.path))
        entries.append(entry)
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    return Baseline(excludes, entries)


def repository_files(repo: Path) -> list[str]:
    """Every file git would commit: tracked and untracked, minus what .gitignore ignores
    (node_modules, .venv, .tools, dist, var), as repository-relative paths."""
    git = shutil.which("git")
    if git is None:
        raise RuntimeError("git is needed to list the repository's files")
    listed = subprocess.run(
        [git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=repo,
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout.decode("utf-8", "surrogateescape")
    names = sorted({name for name in listed.split("\0") if name})
    # Tracked files deleted in the working tree are not there to scan.
    return [name for name in names if (repo / name).is_file() or (repo / name).is_symlink()]


def select_files(files: list[str], excludes: list[Exclude]) -> tuple[list[str], list[int]]:
    """(files to scan, how many files each exclude removed)."""
    kept, removed = [], [0] * len(excludes)
    for name in files:
        hit = next((i for i, ex in enumerate(excludes) if ex.matches(name)), None)
        if hit is None:
            kept.append(name)
        else:
            removed[hit] += 1
    return kept, removed


def copy_files(repo: Path, files: list[str], dest: Path) -> None:
    """The selected files under `dest`, at the same relative paths (symlinks stay links)."""
    for name in files:
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / name, target, follow_symlinks=False)


@dataclass
class Verdict:
    gated: list[dict] = field(default_factory=list)
    baselined: list[tuple[dict, Entry]] = field(default_factory=list)
    unbaselined: list[dict] = field(default_factory=list)
    stale: list[Entry] = field(default_factory=list)
    not_checked: list[Entry] = field(default_factory=list)


def judge(findings: list[dict], baseline: Baseline, tools_run: set[str]) -> Verdict:
    """Match the high and critical findings against the baseline. An entry of a tool that ran
    and matched nothing is stale; entries of tools that did not run are not judged."""
    verdict = Verdict()
    used: set[int] = set()
    for finding in findings:
        if str(finding.get("severity", "")).lower() not in GATED:
            continue
        verdict.gated.append(finding)
        index = next((i for i, e in enumerate(baseline.entries) if e.matches(finding)), None)
        if index is None:
            verdict.unbaselined.append(finding)
        else:
            used.add(index)
            verdict.baselined.append((finding, baseline.entries[index]))
    for i, entry in enumerate(baseline.entries):
        if entry.tool not in tools_run:
            verdict.not_checked.append(entry)
        elif i not in used:
            verdict.stale.append(entry)
    return verdict


def describe(finding: dict) -> str:
    where = f"{finding.get('file_path')}:{finding.get('line_start') or ''}"
    return (
        f"{finding.get('severity')} {finding.get('tool')} {finding.get('rule_id')} at {where}: "
        f"{str(finding.get('title', ''))[:100]}"
    )
