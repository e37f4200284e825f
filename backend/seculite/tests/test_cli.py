"""`seculite scan`: the real CLI in a subprocess on the vulnerable sample, plus in-process checks.

The scans run the real scanner binaries (`require_tool`: a failure in CI when one is missing).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from apps.findings.tests.sarif_schema import assert_valid_sarif
from apps.tools.plugins.base import FindingData, Location, Severity, TargetType
from apps.tools.plugins.registry import PluginLoadError, registry
from apps.tools.runner import RunResult, RunStatus, group_alive
from apps.tools.tests.helpers import SAMPLE_APP, require_tool
from seculite import cli

BACKEND_DIR = Path(__file__).resolve().parents[2]
REPO_DIR = BACKEND_DIR.parent
#: The sample's planted secrets (README of the sample): never in any report.
PLANTED_SECRETS = ("AKIAIOSFODNN7EXAMPLE", "Sup3rS3cretPassw0rd!")
SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}


def run_cli(*args: str, cwd: Path = BACKEND_DIR, env: dict | None = None, timeout: float = 120):
    """`python -m seculite ...` in a subprocess, the way a CI job runs it."""
    return subprocess.run(
        [sys.executable, "-m", "seculite", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def tree_state(root: Path) -> list[tuple[str, int, int]]:
    return sorted(
        (str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    )


def assert_no_secrets(text: str) -> None:
    for secret in PLANTED_SECRETS:
        assert secret not in text


# --- the check of the issue: --fail-on high, SARIF validated against the schema -------------------


@pytest.fixture(scope="module")
def sarif_scan(tmp_path_factory):
    """One real scan of the sample with bandit, detect-secrets and semgrep, run from the
    repository root with backend/ on PYTHONPATH, the platform's settings module in the
    environment (the CLI must override it) and a var folder that must stay uncreated."""
    for slug in ("bandit", "detect-secrets", "semgrep"):
        require_tool(slug)
    tmp = tmp_path_factory.mktemp("sarif-scan")
    before = tree_state(SAMPLE_APP)
    pythonpath = os.pathsep.join(filter(None, [str(BACKEND_DIR), os.environ.get("PYTHONPATH")]))
    proc = run_cli(
        "scan",
        "backend/samples/vulnerable-app",
        "--tools",
        "bandit,detect-secrets,semgrep",
        "--fail-on",
        "high",
        "--format",
        "sarif",
        "--output",
        str(tmp / "out.sarif"),
        cwd=REPO_DIR,
        env={
            "PYTHONPATH": pythonpath,
            "DJANGO_SETTINGS_MODULE": "seculite_api.settings.local",
            "SECULITE_VAR_DIR": str(tmp / "var"),
        },
    )
    output = tmp / "out.sarif"
    text = output.read_text(encoding="utf-8") if output.exists() else ""
    return SimpleNamespace(
        proc=proc, text=text, tmp=tmp, before=before, after=tree_state(SAMPLE_APP)
    )


def test_sarif_scan_exits_1_and_validates_against_the_schema(sarif_scan):
    proc = sarif_scan.proc
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""  # the report went to --output
    assert "exit code 1" in proc.stderr
    document = json.loads(sarif_scan.text)
    assert_valid_sarif(document)
    assert document["version"] == "2.1.0"
    labels = [registry.get(slug).label for slug in ("bandit", "detect-secrets", "semgrep")]
    assert [run["tool"]["driver"]["name"] for run in document["runs"]] == labels
    for run in document["runs"]:
        assert run["invocations"][0]["executionSuccessful"] is True
        assert isinstance(run["invocations"][0]["exitCode"], int)
        assert run["tool"]["driver"]["version"]
        assert run["tool"]["driver"]["informationUri"].startswith("https://")
        assert run["originalUriBaseIds"] == {
            "SRCROOT": {"uri": SAMPLE_APP.resolve().as_uri() + "/"}
        }


def test_sarif_scan_reports_the_planted_flaws(sarif_scan):
    document = json.loads(sarif_scan.text)
    found = set()
    for run in document["runs"]:
        rules = run["tool"]["driver"]["rules"]
        assert len({rule["id"] for rule in rules}) == len(rules)  # de-duplicated
        fingerprints = [r["partialFingerprints"]["seculiteFingerprint/v1"] for r in run["results"]]
        assert all(re.fullmatch(r"[0-9a-f]{64}", fp) for fp in fingerprints)
        assert len(set(fingerprints)) == len(fingerprints)
        for result in run["results"]:
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
            location = result["locations"][0]["physicalLocation"]
            uri = location["artifactLocation"]["uri"]
            assert location["artifactLocation"]["uriBaseId"] == "SRCROOT"
            assert not uri.startswith("/") and ".." not in uri.split("/")
            assert (SAMPLE_APP / uri).is_file()
            assert location["region"]["startLine"] >= 1
            found.add((run["tool"]["driver"]["name"], result["ruleId"], uri))
    expected = {
        ("Bandit", "B602", "app/views.py"),
        ("Bandit", "B608", "app/views.py"),
        ("Semgrep", "seculite.python.subprocess-shell-true", "app/views.py"),
        ("Semgrep", "seculite.javascript.eval", "web/server.js"),
        ("Semgrep", "seculite.dockerfile.curl-pipe-shell", "Dockerfile"),
        (registry.get("detect-secrets").label, "AWS Access Key", "app/settings.py"),
        (registry.get("detect-secrets").label, "Private Key", "config/deploy_key.pem"),
    }
    assert expected <= found
    bandit = document["runs"][0]
    b602 = next(rule for rule in bandit["tool"]["driver"]["rules"] if rule["id"] == "B602")
    assert "CWE-78" in b602["properties"]["tags"]
    assert b602["properties"]["security-severity"] == "8.0"
    assert b602["helpUri"].startswith("https://")
    high = [r for run in document["runs"] for r in run["results"] if r["level"] == "error"]
    assert high and all(r["properties"]["severity"] in ("high", "critical") for r in high)


def test_sarif_scan_leaks_no_secret_and_writes_nothing_it_should_not(sarif_scan):
    assert_no_secrets(sarif_scan.text + sarif_scan.proc.stderr)
    # No var/ folder (database, broker), and the scanned tree is untouched.
    assert not (sarif_scan.tmp / "var").exists()
    assert sarif_scan.before == sarif_scan.after
    assert [p.name for p in sarif_scan.tmp.iterdir()] == ["out.sarif"]  # no temporary left


# --- other formats and exit codes, for real -------------------------------------------------------


def test_json_report_with_fail_on_critical_exits_0():
    for slug in ("bandit", "detect-secrets"):
        require_tool(slug)
    proc = run_cli(
        "scan",
        "samples/vulnerable-app",
        "--tools",
        "bandit,detect-secrets",
        "--format",
        "json",
        "--fail-on",
        "critical",
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["exit_code"] == 0
    assert report["fail_on"] == "critical"
    assert report["path"] == str(SAMPLE_APP.resolve())
    assert report["summary"]["critical"] == 0
    assert report["summary"]["high"] > 0  # --fail-on high would have failed
    assert [tool["tool"] for tool in report["tools"]] == ["bandit", "detect-secrets"]
    for tool in report["tools"]:
        assert tool["status"] == "completed"
        assert tool["version"] and tool["duration"] > 0 and tool["error"] == ""
        assert tool["findings_count"] == sum(f["tool"] == tool["tool"] for f in report["findings"])
    ranks = [SEVERITY_RANK[f["severity"]] for f in report["findings"]]
    assert ranks == sorted(ranks, reverse=True)
    secret = next(f for f in report["findings"] if f["rule_id"] == "AWS Access Key")
    assert secret["file_path"] == "app/settings.py" and secret["line_start"] == 6
    assert len(secret["fingerprint"]) == 64
    assert_no_secrets(proc.stdout + proc.stderr)


def test_table_is_sorted_by_severity_rank_not_alphabetically(tmp_path):
    for slug in ("bandit", "detect-secrets"):
        require_tool(slug)
    output = tmp_path / "report.txt"
    proc = run_cli(
        "scan", str(SAMPLE_APP), "--tools", "detect-secrets,bandit", "--output", str(output)
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    lines = output.read_text(encoding="utf-8").splitlines()
    status = {
        line.split()[0]: line.split()
        for line in lines
        if line.startswith(("bandit ", "detect-secrets "))
    }
    assert status["bandit"][2] == status["detect-secrets"][2] == "completed"
    start = next(i for i, line in enumerate(lines) if line.startswith("SEVERITY"))
    rows = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        rows.append(line.split())
    severities = [row[0].lower() for row in rows]
    assert {"high", "medium", "low"} <= set(severities)
    assert severities == sorted(severities, key=SEVERITY_RANK.__getitem__, reverse=True)
    assert severities != sorted(severities)  # alphabetical order would differ
    assert ["HIGH", "bandit", "B602"] == rows[0][:3]
    assert_no_secrets("\n".join(lines))


def test_clean_empty_directory_runs_the_installed_code_tools_and_exits_0(tmp_path):
    """Without --tools, every installed code scanner runs. To keep this fast, only bandit and
    detect-secrets are "installed" (a tools folder of links to them, PATH=/usr/bin:/bin)."""
    tools_dir = tmp_path / "tools"
    for slug in ("bandit", "detect-secrets"):
        plugin = require_tool(slug)
        folder = tools_dir / (plugin.install_dir or plugin.slug) / plugin.bin_subdir
        folder.mkdir(parents=True)
        (folder / plugin.binary).symlink_to(plugin.locate().path)
    system_path = "/usr/bin:/bin"
    expected = [
        p.slug
        for p in registry.for_target_type(TargetType.GIT_REPOSITORY)
        if p.slug in ("bandit", "detect-secrets") or shutil.which(p.binary, path=system_path)
    ]
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run_cli(
        "scan",
        str(empty),
        "--fail-on",
        "info",
        "--format",
        "json",
        env={"SECULITE_TOOLS_DIR": str(tools_dir), "PATH": system_path},
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["findings"] == []
    assert report["summary"]["total"] == 0
    assert [tool["tool"] for tool in report["tools"]] == expected
    statuses = {tool["tool"]: tool["status"] for tool in report["tools"]}
    assert statuses["bandit"] == statuses["detect-secrets"] == "no_findings"
    assert set(statuses.values()) <= {"no_findings", "skipped"}
    assert list(empty.iterdir()) == []


def test_bad_path_and_unknown_tool_are_usage_errors(tmp_path):
    missing = run_cli("scan", str(tmp_path / "nope"))
    assert missing.returncode == 2
    assert "does not exist" in missing.stderr and missing.stdout == ""
    unknown = run_cli("scan", str(tmp_path), "--tools", "bandit,no-such-tool")
    assert unknown.returncode == 2
    assert "unknown tool(s) no-such-tool" in unknown.stderr
    assert "bandit" in unknown.stderr.split("choose from:")[1]
    bad_severity = run_cli("scan", str(tmp_path), "--fail-on", "urgent")
    assert bad_severity.returncode == 2
    assert "invalid choice" in bad_severity.stderr


def test_a_timed_out_tool_exits_3_with_its_error_on_stderr():
    require_tool("bandit")
    # A limit far below bandit's start-up time: the runner kills it at its first check.
    proc = run_cli(
        "scan", str(SAMPLE_APP), "--tools", "bandit", "--timeout", "0.01", "--format", "json"
    )
    assert proc.returncode == 3, proc.stderr
    assert "seculite scan: bandit: timed_out: bandit exceeded its time limit" in proc.stderr
    [tool] = json.loads(proc.stdout)["tools"]
    assert tool["status"] == "timed_out" and tool["failed"] is True
    assert json.loads(proc.stdout)["findings"] == []


def test_sigterm_stops_the_scanners_and_exits_130():
    require_tool("semgrep")
    proc = subprocess.Popen(
        [sys.executable, "-m", "seculite", "scan", str(SAMPLE_APP), "--tools", "semgrep"],
        cwd=BACKEND_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        scanner = _wait_for_scanner(proc.pid, timeout=30)
        assert scanner, "the CLI started no scanner"
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    # The scanner led its own process group: nothing of it is left.
    assert not group_alive(scanner)


def _wait_for_scanner(pid: int, timeout: float) -> int | None:
    """The pid of the CLI's child that is the scan itself (not `semgrep --version`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                cmdline = (stat.parent / "cmdline").read_bytes()
            except (OSError, IndexError):
                continue
            if fields[1] == str(pid) and fields[0] not in ("Z", "X") and b"--output=" in cmdline:
                return int(stat.parent.name)
        time.sleep(0.05)
    return None


# --- in-process: help, options, selection, exit-code rules ----------------------------------------


def test_help_documents_the_exit_codes(capsys):
    assert cli.main(["scan", "--help"]) == 0
    text = capsys.readouterr().out
    for needle in ("--tools", "--format", "--output", "--fail-on", "--timeout", "exit codes:"):
        assert needle in text
    for code in ("0 ", "1 ", "2 ", "3 ", "130 "):
        assert f"\n  {code}" in text


def test_path_that_is_a_file_and_missing_output_folder_are_usage_errors(tmp_path, capsys):
    a_file = tmp_path / "file.py"
    a_file.write_text("x = 1\n")
    assert cli.main(["scan", str(a_file)]) == 2
    assert "is not a directory" in capsys.readouterr().err
    out = tmp_path / "missing" / "out.sarif"
    assert cli.main(["scan", str(tmp_path), "--output", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert cli.main(["scan", str(tmp_path), "--timeout", "0"]) == 2
    assert cli.main(["scan", str(tmp_path), "--tools", " , "]) == 2


def test_a_named_tool_that_is_not_installed_exits_3(tmp_path, monkeypatch, capsys):
    plugin = registry.get("shellcheck")
    monkeypatch.setattr(plugin, "locate", lambda: Location(reason="shellcheck not found"))
    assert cli.main(["scan", str(tmp_path), "--tools", "shellcheck", "--format", "json"]) == 3
    captured = capsys.readouterr()
    assert "shellcheck: not installed: shellcheck not found" in captured.err
    [tool] = json.loads(captured.out)["tools"]
    assert tool["status"] == "skipped" and tool["failed"] is True


def test_default_selection_is_installed_code_tools(monkeypatch):
    plugin = registry.get("hadolint")
    monkeypatch.setattr(plugin, "locate", lambda: Location(reason="missing"))
    selected, requested = cli.select_plugins(None)
    assert requested is False
    assert plugin not in selected
    assert all(p.supports(TargetType.GIT_REPOSITORY) for p in selected)
    assert [p.slug for p in selected] == sorted(p.slug for p in selected)


def _run(slug: str, status: RunStatus, *severities: Severity, requested=True) -> cli.ToolRun:
    findings = [FindingData(title="t", severity=s) for s in severities]
    now = datetime.now(UTC)
    result = RunResult(status=status, tool=slug, findings=findings, started_at=now)
    return cli.ToolRun(plugin=registry.get(slug), result=result, requested=requested)


@pytest.mark.parametrize(
    ("fail_on", "expected"),
    [(None, 0), ("critical", 0), ("high", 1), ("medium", 1), ("info", 1)],
)
def test_fail_on_threshold(fail_on, expected):
    runs = [_run("bandit", RunStatus.COMPLETED, Severity.LOW, Severity.HIGH)]
    assert cli.exit_code(runs, fail_on) == expected


def test_findings_win_over_a_failed_tool(monkeypatch):
    runs = [
        _run("bandit", RunStatus.COMPLETED, Severity.MEDIUM),
        _run("semgrep", RunStatus.FAILED),
    ]
    assert cli.exit_code(runs, "medium") == 1
    assert cli.exit_code(runs, "high") == 3
    assert cli.exit_code(runs, None) == 3
    # Skipped with nothing to scan is not a failure, even for a tool named in --tools.
    monkeypatch.setattr(registry.get("hadolint"), "locate", lambda: Location(path="/bin/true"))
    skipped = [_run("hadolint", RunStatus.SKIPPED)]
    assert cli.exit_code(skipped, None) == 0


def test_a_scan_that_cannot_run_exits_3_never_1(tmp_path, monkeypatch, capsys):
    def broken(tools):
        raise PluginLoadError("scanner plugin folder 'x' failed to import")

    monkeypatch.setattr(cli, "select_plugins", broken)
    assert cli.main(["scan", str(tmp_path), "--fail-on", "low"]) == 3
    assert "failed to import" in capsys.readouterr().err


def test_a_tool_that_does_not_scan_directories_is_a_usage_error(tmp_path, capsys):
    service_tools = [p.slug for p in registry.all() if not p.supports(TargetType.GIT_REPOSITORY)]
    assert service_tools, "expected service scanners (nmap, wapiti, sslyze) in the registry"
    assert cli.main(["scan", str(tmp_path), "--tools", f"bandit,{service_tools[0]}"]) == 2
    assert f"{service_tools[0]} cannot scan a directory" in capsys.readouterr().err


def test_output_to_a_device_writes_to_it_and_never_replaces_it(tmp_path):
    """`--output /dev/null` must not swap the device for a regular file (as root it could)."""
    import stat

    from seculite.cli import _open_output

    before = os.stat("/dev/null")
    with _open_output(Path("/dev/null")) as stream:
        stream.write("report")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino
    target = tmp_path / "out.json"
    with _open_output(target) as stream:
        stream.write("{}")
    assert target.read_text() == "{}"
