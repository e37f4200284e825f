"""run_plugin: time limit, process-group kill, output caps, cancel, minimal environment."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from apps.tools.plugins.base import (
    FILE_TARGET_TYPES,
    Category,
    Command,
    FindingData,
    NothingToScan,
    Outcome,
    ParseError,
    ScanContext,
    ScannerPlugin,
    Severity,
    TargetType,
    load_json,
)
from apps.tools.runner import RunStatus, group_alive, minimal_env, run_plugin


class FakePlugin(ScannerPlugin):
    """A stand-in scanner: `script` runs under /bin/sh; the report is a JSON list of titles."""

    slug = "fake"
    label = "Fake"
    category = Category.LINT
    target_types = FILE_TARGET_TYPES
    output_format = "json"
    binary = "sleep"
    fingerprint_fields = ("rule_id", "file_path")
    script = "echo '[]' > report.json"
    stdout_is_report = False
    env = {"FAKE_TOOL_SETTING": "1"}

    def __init__(self, script: str | None = None, **attrs):
        if script is not None:
            self.script = script
        for key, value in attrs.items():
            setattr(self, key, value)

    def detect_version(self, binary: str) -> str:
        return "1.0-fake"

    def build_command(self, ctx: ScanContext) -> Command:
        output = ctx.output_dir / "report.json"
        script = self.script.replace("report.json", str(output)).replace("SLEEP", ctx.binary)
        return Command(
            argv=["/bin/sh", "-c", script],
            cwd=ctx.workspace,
            output_path=output,
            stdout_is_report=self.stdout_is_report,
        )

    def parse(self, stream, *, workspace=None):
        items = load_json(stream, self.max_report_bytes)
        if not isinstance(items, list):
            raise ParseError("not a list")
        return [FindingData(title=str(t), severity=Severity.LOW, rule_id="R1") for t in items]


def _ctx(tmp_path: Path, **kwargs) -> ScanContext:
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    return ScanContext(workspace=workspace, output_dir=tmp_path / "out", **kwargs)


def test_completed_run_parses_and_fingerprints(tmp_path):
    result = run_plugin(FakePlugin('echo \'["a", "b"]\' > report.json'), _ctx(tmp_path))
    assert result.status == RunStatus.COMPLETED
    assert result.exit_code == 0
    assert result.tool_version == "1.0-fake"
    assert [f.title for f in result.findings] == ["a", "b"]
    # Identical rule+path in one report: told apart by occurrence, still stable.
    assert len({f.fingerprint for f in result.findings}) == 2
    assert result.started_at <= result.finished_at
    assert result.duration >= 0
    assert result.output_path == tmp_path / "out" / "report.json"
    assert result.command[:2] == ["/bin/sh", "-c"]


def test_empty_report_is_no_findings(tmp_path):
    assert run_plugin(FakePlugin(), _ctx(tmp_path)).status == RunStatus.NO_FINDINGS


def test_missing_binary_is_skipped_with_reason(tmp_path):
    plugin = FakePlugin(binary="seculite-no-such-scanner")
    result = run_plugin(plugin, _ctx(tmp_path))
    assert result.status == RunStatus.SKIPPED
    assert "seculite-no-such-scanner" in result.error
    assert "make tools" in result.error
    assert result.findings == []


def test_unsupported_target_type_is_skipped(tmp_path):
    result = run_plugin(FakePlugin(), _ctx(tmp_path, target_type=TargetType.URL, target="x"))
    assert result.status == RunStatus.SKIPPED
    assert "url" in result.error


def test_nothing_to_scan_is_skipped(tmp_path):
    class Empty(FakePlugin):
        def build_command(self, ctx):
            raise NothingToScan("no fake files in the workspace")

    result = run_plugin(Empty(), _ctx(tmp_path))
    assert result.status == RunStatus.SKIPPED
    assert result.error == "no fake files in the workspace"


def test_invalid_overrides_fail_before_running(tmp_path):
    result = run_plugin(FakePlugin(), _ctx(tmp_path, overrides={"unknown": 1}))
    assert result.status == RunStatus.FAILED
    assert "invalid overrides" in result.error
    assert result.exit_code is None


def test_timeout_kills_the_whole_process_group(tmp_path):
    pids = []
    # The tool starts a grandchild sleeper in the background and waits on another one.
    plugin = FakePlugin("SLEEP 60 & SLEEP 60; echo '[]' > report.json")
    started = time.monotonic()
    result = run_plugin(plugin, _ctx(tmp_path), timeout=1, on_start=pids.append)
    assert result.status == RunStatus.TIMED_OUT
    assert time.monotonic() - started < 15
    assert "time limit" in result.error
    assert pids and not group_alive(pids[0]), "a process of the tool's group survived"


def test_cancel_event_terminates_the_group(tmp_path):
    pids = []
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    started = time.monotonic()
    result = run_plugin(
        FakePlugin("SLEEP 60 & SLEEP 60"), _ctx(tmp_path), cancel=cancel, on_start=pids.append
    )
    assert result.status == RunStatus.CANCELLED
    assert time.monotonic() - started < 10
    assert not group_alive(pids[0])


def test_cancel_callable(tmp_path):
    pids, seen_alive = [], []
    deadline = time.monotonic() + 0.5

    def should_cancel() -> bool:
        if pids:
            seen_alive.append(group_alive(pids[0]))
        return time.monotonic() > deadline

    result = run_plugin(
        FakePlugin("SLEEP 60 & SLEEP 60"),
        _ctx(tmp_path),
        cancel=should_cancel,
        on_start=pids.append,
    )
    assert result.status == RunStatus.CANCELLED
    assert seen_alive and all(seen_alive), "the group was running while the callable was polled"
    assert not group_alive(pids[0])


def test_report_larger_than_the_cap_fails(tmp_path):
    plugin = FakePlugin("head -c 3000000 /dev/zero > report.json")
    result = run_plugin(plugin, _ctx(tmp_path), max_report_bytes=100_000)
    assert result.status == RunStatus.FAILED
    assert "100000" in result.error


def test_report_growing_past_the_cap_stops_the_tool(tmp_path):
    plugin = FakePlugin("while true; do head -c 100000 /dev/zero; done > report.json")
    started = time.monotonic()
    result = run_plugin(plugin, _ctx(tmp_path), max_report_bytes=1_000_000, timeout=30)
    assert result.status == RunStatus.FAILED
    assert "limit" in result.error
    assert time.monotonic() - started < 20


def test_stdout_and_stderr_are_capped(tmp_path):
    # 20 MB on each stream: read to the end (no deadlock), only the head is kept.
    plugin = FakePlugin(
        "head -c 20000000 /dev/zero | tr '\\0' e >&2; head -c 20000000 /dev/zero | tr '\\0' o;"
        " echo '[]' > report.json"
    )
    result = run_plugin(plugin, _ctx(tmp_path), timeout=60)
    assert result.status == RunStatus.NO_FINDINGS
    assert 0 < len(result.excerpt) <= 8 * 1024
    log = tmp_path / "out" / "fake.stderr.log"
    assert log.stat().st_size == 1024 * 1024


def test_stdout_report_is_written_to_the_output_file(tmp_path):
    plugin = FakePlugin("echo '[\"x\"]'", stdout_is_report=True)
    result = run_plugin(plugin, _ctx(tmp_path))
    assert result.status == RunStatus.COMPLETED
    assert (tmp_path / "out" / "report.json").read_text().strip() == '["x"]'


def test_interpret_failure_is_failed_with_its_reason(tmp_path):
    class Picky(FakePlugin):
        def interpret(self, exit_code, output_path, stderr):
            return Outcome(False, f"tool said: {stderr.strip()}")

    result = run_plugin(Picky("echo boom >&2; echo '[]' > report.json"), _ctx(tmp_path))
    assert result.status == RunStatus.FAILED
    assert result.error == "tool said: boom"
    assert "boom" in result.excerpt


def test_unparsable_report_is_failed(tmp_path):
    result = run_plugin(FakePlugin("echo '[\"trunc' > report.json"), _ctx(tmp_path))
    assert result.status == RunStatus.FAILED
    assert "unreadable fake report" in result.error


def test_missing_report_is_failed(tmp_path):
    result = run_plugin(FakePlugin("exit 3"), _ctx(tmp_path))
    assert result.status == RunStatus.FAILED
    assert result.exit_code == 3


def test_environment_is_minimal(tmp_path, monkeypatch):
    monkeypatch.setenv("DJANGO_SECRET_KEY", "must-not-leak")
    monkeypatch.setenv("DB_PASSWORD", "must-not-leak")
    result = run_plugin(
        FakePlugin("env", stdout_is_report=True, parse=lambda *a, **k: []), _ctx(tmp_path)
    )
    assert result.status == RunStatus.NO_FINDINGS
    env = dict(
        line.split("=", 1)
        for line in (tmp_path / "out" / "report.json").read_text().splitlines()
        if "=" in line
    )
    assert "must-not-leak" not in env.values()
    # The fake's binary is /usr/bin/sleep: its bin folder is already the system one.
    assert env["PATH"] == "/usr/bin:/bin"
    assert env["HOME"].startswith(str(tmp_path / "out"))
    assert env["TMPDIR"].startswith(str(tmp_path / "out"))
    assert env["LANG"] == "C.UTF-8"
    assert env["FAKE_TOOL_SETTING"] == "1"
    assert Path(env["HOME"]).is_dir()


def test_minimal_env_path_is_the_tools_bin_dir_then_system(tmp_path):
    env = minimal_env(FakePlugin(), "/opt/tools/bandit/bin/bandit", tmp_path)
    assert env["PATH"] == "/opt/tools/bandit/bin:/usr/bin:/bin"
    assert set(env) >= {"HOME", "TMPDIR", "LANG", "LC_ALL", "PATH"}


def test_working_directory_is_the_workspace(tmp_path):
    ctx = _ctx(tmp_path)
    result = run_plugin(FakePlugin("pwd", stdout_is_report=True, parse=lambda *a, **k: []), ctx)
    assert result.status == RunStatus.NO_FINDINGS
    assert (tmp_path / "out" / "report.json").read_text().strip() == str(ctx.workspace)


def test_missing_workspace_is_failed_not_raised(tmp_path):
    ctx = ScanContext(workspace=tmp_path / "gone", output_dir=tmp_path / "out")
    result = run_plugin(FakePlugin(), ctx)
    assert result.status == RunStatus.FAILED
    assert "could not start" in result.error


def test_stale_report_of_an_earlier_attempt_is_not_reused(tmp_path):
    ctx = _ctx(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "report.json").write_text('["stale"]')
    result = run_plugin(FakePlugin("exit 0"), ctx)
    assert result.status == RunStatus.FAILED
    assert result.findings == []


def test_git_in_the_scanned_tree_ignores_the_repositorys_fsmonitor_and_hooks(tmp_path):
    """A scanner that runs git in the workspace (semgrep: `git ls-files`) must not run what the
    repository's own .git/config names: core.fsmonitor, hooks."""
    import subprocess

    ctx = _ctx(tmp_path)
    marker = tmp_path / "fsmonitor-ran"
    script = tmp_path / "fsmonitor.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n")
    script.chmod(0o755)
    git_env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "GIT_CONFIG_GLOBAL": "/dev/null"}
    for args in (
        ["init", "-q"],
        ["-c", "user.name=t", "-c", "user.email=t@x", "commit", "-q", "--allow-empty", "-m", "x"],
        ["config", "core.fsmonitor", str(script)],
        ["config", "core.hooksPath", str(tmp_path)],
    ):
        subprocess.run(["git", *args], cwd=ctx.workspace, env=git_env, check=True)
    # The trap is live for plain git ...
    subprocess.run(["git", "ls-files"], cwd=ctx.workspace, env=git_env, check=True)
    assert marker.exists()
    marker.unlink()
    # ... and not for git run by a scanner.
    script = "git ls-files >&2; git status >&2; echo '[]' > report.json"
    result = run_plugin(FakePlugin(script), ctx)
    assert result.status == RunStatus.NO_FINDINGS, result.error
    assert not marker.exists()
