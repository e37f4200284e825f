"""run_plugin on a full disk: a clear reason, no truncated report kept, and no tool left hanging
on a stderr pipe that nobody drains. The real path (a 2 MB tmpfs under a live stack) is
verify/test_faults.py."""

from __future__ import annotations

import time

from apps.tools import runner
from apps.tools.runner import RunStatus, run_plugin
from apps.tools.tests.test_runner import FakePlugin, _ctx

# /dev/full answers every write with ENOSPC: the kernel's own "No space left on device".
PARTIAL_REPORT_THEN_ENOSPC = "echo '[\"partial' > report.json; head -c 100000 /dev/zero > /dev/full"


def test_a_tool_that_runs_out_of_space_fails_with_a_clear_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "free_bytes", lambda directory: 4096)
    result = run_plugin(FakePlugin(PARTIAL_REPORT_THEN_ENOSPC), _ctx(tmp_path))
    assert result.status == RunStatus.FAILED
    assert result.error.startswith(
        "No space left on device while storing the raw output of fake"
    ), result.error
    assert "No space left on device" in result.excerpt
    # The truncated report is removed: it is useless and holds the space the platform needs.
    assert not (tmp_path / "out" / "report.json").exists()
    assert result.output_path is None


def test_a_full_file_system_is_out_of_space_whatever_the_tool_says(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "free_bytes", lambda directory: 0)
    result = run_plugin(FakePlugin("echo '[\"trunc' > report.json"), _ctx(tmp_path))
    assert result.status == RunStatus.FAILED
    assert "No space left on device while storing the raw output" in result.error


def test_the_words_alone_do_not_make_a_disk_full(tmp_path):
    # A scanned repository can make a tool print anything: with plenty of space the run is
    # judged on its report, not on its stderr.
    script = "echo 'No space left on device' >&2; echo '[\"x\"]' > report.json"
    result = run_plugin(FakePlugin(script), _ctx(tmp_path))
    assert result.status == RunStatus.COMPLETED, result.error
    assert "No space" not in result.error


def test_an_unwritable_stderr_log_does_not_stop_draining_the_pipe(tmp_path):
    # The stderr log cannot be written (ENOSPC on every write): the runner must keep reading the
    # tool's stderr, or a tool writing more than a pipe holds blocks until its time limit.
    ctx = _ctx(tmp_path)
    ctx.output_dir.mkdir(parents=True)
    (ctx.output_dir / "fake.stderr.log").symlink_to("/dev/full")
    plugin = FakePlugin("head -c 5000000 /dev/zero | tr '\\0' e >&2; echo '[]' > report.json")
    started = time.monotonic()
    result = run_plugin(plugin, ctx, timeout=60)
    assert result.status == RunStatus.NO_FINDINGS, result.error
    assert time.monotonic() - started < 30
