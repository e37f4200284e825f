"""Eat our own cooking: SecuLite scans its own repository with its own plugins, through its own
CLI (`python -m seculite scan`), and no high or critical finding stands without a reviewed entry
in security/baseline.json; an entry that no longer matches anything fails too.

What is scanned: every file git would commit (tracked and untracked, minus .gitignore:
node_modules, .venv, .tools, dist, var), minus the baseline's `excludes` (the deliberately
vulnerable sample app, report corpora, captured scanner reports, semgrep rule test targets),
copied into a temporary directory so that the scanners see exactly that set.

At ci scale the fast tools run (bandit, detect-secrets, shellcheck, hadolint, eslint); semgrep
and checkov, the two slowest, join them at full scale (`make verify`)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import Counter

import pytest

from tests.processes import BACKEND_DIR, base_env
from verify.conftest import SCALE, scaled
from verify.selfscan_baseline import (
    Baseline,
    Entry,
    Exclude,
    copy_files,
    describe,
    judge,
    load_baseline,
    repository_files,
    select_files,
)

SUITE = "self-scan"
REPO_DIR = BACKEND_DIR.parent
BASELINE = REPO_DIR / "security" / "baseline.json"
TOOLS_CI = ("bandit", "detect-secrets", "shellcheck", "hadolint", "eslint")
TOOLS_FULL = (*TOOLS_CI, "semgrep", "checkov")
SEVERITIES = ("critical", "high", "medium", "low", "info")


def test_baseline_gate_fails_on_unreviewed_and_stale(tmp_path):
    """The gate itself: an unbaselined high finding, a stale entry and an entry without a
    reason are each caught; entries of tools that did not run are left alone."""
    baseline = Baseline(
        excludes=[Exclude(["backend/samples/*"], "x" * 40)],
        entries=[
            Entry("bandit", "B602", "a.py", "reviewed: the command is a constant list " * 2),
            Entry("bandit", "B324", "gone.py", "reviewed: this file was deleted since " * 2),
            Entry("semgrep", "r1", "b.py", "reviewed: semgrep did not run in this scan " * 2),
        ],
    )
    findings = [
        {"tool": "bandit", "rule_id": "B602", "file_path": "a.py", "severity": "high"},
        {"tool": "bandit", "rule_id": "B602", "file_path": "new.py", "severity": "critical"},
        {"tool": "bandit", "rule_id": "B101", "file_path": "new.py", "severity": "low"},
    ]
    verdict = judge(findings, baseline, {"bandit"})
    assert [f["file_path"] for f in verdict.unbaselined] == ["new.py"]
    assert [e.path for e in verdict.stale] == ["gone.py"]
    assert [e.tool for e in verdict.not_checked] == ["semgrep"]
    assert len(verdict.gated) == 2 and len(verdict.baselined) == 1

    kept, removed = select_files(["backend/samples/x.py", "backend/y.py"], baseline.excludes)
    assert kept == ["backend/y.py"] and removed == [1]

    bad = tmp_path / "baseline.json"
    bad.write_text(json.dumps({"entries": [{"tool": "bandit", "rule": "B1", "path": "a.py"}]}))
    with pytest.raises(ValueError, match="no reviewed reason"):
        load_baseline(bad)


def test_selfscan_has_no_unreviewed_high_findings(figures, tmp_path):
    started = time.monotonic()
    baseline = load_baseline(BASELINE)
    files = repository_files(REPO_DIR)
    kept, removed = select_files(files, baseline.excludes)
    unused_excludes = [ex.globs for ex, n in zip(baseline.excludes, removed, strict=True) if not n]
    tree = tmp_path / "repo"
    copy_files(REPO_DIR, kept, tree)
    figures.add(
        SUITE,
        "repository files scanned (git's view, minus the baseline's excludes)",
        len(kept),
        f"{sum(removed)} excluded by {len(baseline.excludes)} reviewed rules "
        f"({len(unused_excludes)} matching nothing)",
        not unused_excludes and len(kept) > 100,
    )

    tools = scaled(TOOLS_CI, TOOLS_FULL)
    report = tmp_path / "selfscan.json"
    env = base_env(
        SECULITE_TOOLS_DIR=os.environ.get(
            "SECULITE_TOOLS_DIR", str(REPO_DIR / ".tools" / "scanners")
        )
    )
    done = subprocess.run(
        [
            str(BACKEND_DIR / ".venv" / "bin" / "python"),
            "-m",
            "seculite",
            "scan",
            str(tree),
            "--tools",
            ",".join(tools),
            "--format",
            "json",
            "--output",
            str(report),
            "--timeout",
            str(scaled(600, 1200)),
        ],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=scaled(900, 1800),
        check=False,
    )
    assert report.is_file(), done.stdout + done.stderr
    result = json.loads(report.read_text())
    ran = {t["tool"]: t for t in result["tools"]}
    broken = {
        name: f"{t['status']}: {t['error']}"
        for name, t in ran.items()
        if t["failed"] or t["status"] not in ("completed", "no_findings")
    }
    durations = ", ".join(f"{name} {t['duration']:.0f}s" for name, t in sorted(ran.items()))
    figures.add(
        SUITE,
        f"scanners run by `seculite scan` on the repository ({SCALE} set)",
        len(ran),
        f"{len(ran) - len(broken)}/{len(tools)} ran cleanly: {durations}"
        + (f"; failed: {broken}" if broken else ""),
        not broken and set(ran) == set(tools) and done.returncode == 0,
    )
    counts = Counter(str(f["severity"]).lower() for f in result["findings"])
    figures.add(
        SUITE,
        "findings by severity",
        len(result["findings"]),
        ", ".join(f"{counts.get(s, 0)} {s}" for s in SEVERITIES),
        True,
    )

    verdict = judge(result["findings"], baseline, set(ran))
    figures.add(
        SUITE,
        "high/critical findings with a reviewed baseline entry",
        len(verdict.gated),
        f"{len(verdict.baselined)} baselined with reasons ({len(baseline.entries)} entries, "
        f"{len(verdict.not_checked)} of tools not run at {SCALE}), "
        f"{len(verdict.unbaselined)} unbaselined, {len(verdict.stale)} stale; "
        f"{time.monotonic() - started:.0f}s in all",
        not verdict.unbaselined and not verdict.stale,
    )
    assert not unused_excludes, f"baseline excludes that match no file: {unused_excludes}"
    assert not broken, f"scanners that did not run cleanly: {broken}\n{done.stderr[-3000:]}"
    assert set(ran) == set(tools), (sorted(ran), tools)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not verdict.unbaselined, (
        f"{len(verdict.unbaselined)} high/critical findings without a reviewed entry in "
        f"{BASELINE.relative_to(REPO_DIR)} (fix the code, or review and add an entry):\n"
        + "\n".join(describe(f) for f in verdict.unbaselined)
    )
    assert not verdict.stale, (
        "baseline entries that match no finding any more (remove them): "
        + "; ".join(e.label() for e in verdict.stale)
    )
