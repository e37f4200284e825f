"""Runs one scanner plugin safely: argument list, time limit, output caps, minimal environment.

Every scanner process runs in its own process group (a new session) so a timeout or a cancel
ends the tool and everything it started. The scanned repository is untrusted input: the tool
gets a private HOME and TMPDIR, a PATH limited to its own bin folder and /usr/bin:/bin, and no
variables of the worker (database URLs, secrets) at all.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO

import jsonschema

from apps.tools.plugins.base import (
    Command,
    FindingData,
    NothingToScan,
    ParseError,
    ScanContext,
    ScannerPlugin,
)

logger = logging.getLogger(__name__)

BASE_PATH = "/usr/bin:/bin"
EXCERPT_BYTES = 4 * 1024
STDERR_LOG_BYTES = 1024 * 1024
STDOUT_KEEP_BYTES = 64 * 1024
POLL_SECONDS = 0.1
TERM_GRACE_SECONDS = 5.0
#: Below this, a tool's "No space left on device" is believed (a full disk is rarely at 0 bytes
#: when several writers race for the last blocks).
NEARLY_FULL_BYTES = 1024 * 1024


class RunStatus(StrEnum):
    COMPLETED = "completed"
    NO_FINDINGS = "no_findings"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


@dataclass
class RunResult:
    """What one tool run produced; the scans app stores it as a tool result."""

    status: RunStatus
    tool: str
    exit_code: int | None = None
    tool_version: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration: float = 0.0
    output_path: Path | None = None
    excerpt: str = ""
    error: str = ""
    findings: list[FindingData] = field(default_factory=list)
    command: list[str] = field(default_factory=list)
    #: When the scanner process itself started and how long it ran (the rest of `duration` is
    #: SecuLite's own work: version check, parsing, fingerprints).
    process_started_at: datetime | None = None
    process_seconds: float | None = None


CancelCheck = threading.Event | Callable[[], bool] | None


# --- process plumbing ---------------------------------------------------------------------

#: Scanners run git inside the scanned tree (semgrep lists its files with `git ls-files`). A
#: local path is scanned in place, with the repository's own .git/config, whose core.fsmonitor
#: would run a command of its author's choosing. Configuration given in the environment wins
#: over the repository's: no fsmonitor, no hooks, no transport, no system or global config.
GIT_SAFE_CONFIG = (
    ("core.fsmonitor", "false"),
    ("core.hooksPath", "/dev/null"),
    ("protocol.allow", "never"),
)
GIT_SAFE_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_CONFIG_COUNT": str(len(GIT_SAFE_CONFIG)),
    **{f"GIT_CONFIG_KEY_{i}": key for i, (key, _) in enumerate(GIT_SAFE_CONFIG)},
    **{f"GIT_CONFIG_VALUE_{i}": value for i, (_, value) in enumerate(GIT_SAFE_CONFIG)},
}


def minimal_env(plugin: ScannerPlugin, binary: str, scratch: Path) -> dict[str, str]:
    """The whole environment of a scanner: nothing is inherited from the worker."""
    home = scratch / "home"
    tmp = scratch / "tmp"
    home.mkdir(parents=True, exist_ok=True)
    tmp.mkdir(parents=True, exist_ok=True)
    bin_dir = str(Path(binary).parent) if binary else ""
    path = (
        f"{bin_dir}:{BASE_PATH}" if bin_dir and bin_dir not in BASE_PATH.split(":") else BASE_PATH
    )
    env = {
        "PATH": path,
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "NO_COLOR": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        **GIT_SAFE_ENV,
    }
    env.update(plugin.env)
    return env


def _spawn(argv: list[str], *, cwd: Path, env: dict[str, str], stdout: int | IO[bytes]):
    """The one place a scanner process is started: argument list, no shell, own session."""
    # argv is a list built by a plugin from validated settings (never a shell string) and the
    # binary is the one located in SECULITE_TOOLS_DIR or on PATH.
    return subprocess.Popen(  # noqa: S603
        argv,
        cwd=str(cwd),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.PIPE,
        shell=False,
        start_new_session=True,
        close_fds=True,
        preexec_fn=_die_with_parent,  # only calls prctl: safe between fork and exec
    )


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGKILL the scanner when the worker process that
    started it dies (a worker killed with SIGKILL must not leave scanners running)."""
    import ctypes

    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    except OSError:
        pass


def _signal_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def group_alive(pgid: int) -> bool:
    """Whether a process of group `pgid` still runs (zombies waiting to be reaped do not count).

    Orphaned members are reparented to PID 1, which may reap them late; killpg(pgid, 0) would
    still see them, so /proc is read where it exists.
    """
    proc_dir = Path("/proc")
    if not proc_dir.is_dir():
        return _signal_group(pgid, 0)
    for stat in proc_dir.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # After "(comm)": state, ppid, pgrp, ...
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            return True
    return False


def kill_process_group(proc: subprocess.Popen, grace: float = TERM_GRACE_SECONDS) -> None:
    """SIGTERM the tool's whole process group, then SIGKILL what is left after `grace`."""
    pgid = proc.pid  # start_new_session: the leader's pid is the group id
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if proc.poll() is not None and not group_alive(pgid):
            return
        time.sleep(0.05)
    _signal_group(pgid, signal.SIGKILL)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        logger.error("scanner process %s did not die after SIGKILL", proc.pid)


class _Drain(threading.Thread):
    """Reads a pipe to the end: keeps the first bytes, optionally logs more, drops the rest."""

    def __init__(self, pipe: IO[bytes], keep: int, log_path: Path | None = None, log_max: int = 0):
        super().__init__(daemon=True)
        self.pipe = pipe
        self.keep = keep
        self.log_path = log_path
        self.log_max = log_max
        self.head = bytearray()
        self.total = 0
        self.log_error: OSError | None = None

    def run(self) -> None:
        log = self._open_log()
        try:
            while chunk := self.pipe.read(65536):
                if len(self.head) < self.keep:
                    self.head += chunk[: self.keep - len(self.head)]
                if log is not None and self.total < self.log_max:
                    try:
                        log.write(chunk[: self.log_max - self.total])
                    except OSError as exc:
                        # A full disk ends the log, never the draining: a tool blocked on a
                        # full pipe would hang until its time limit.
                        self.log_error = exc
                        log = self._close_log(log)
                self.total += len(chunk)
        except (OSError, ValueError):
            pass
        finally:
            self._close_log(log)

    def _open_log(self) -> IO[bytes] | None:
        if self.log_path is None:
            return None
        try:
            return self.log_path.open("wb")
        except OSError as exc:
            self.log_error = exc
            return None

    def _close_log(self, log: IO[bytes] | None) -> None:
        if log is not None:
            try:
                log.close()
            except OSError as exc:
                self.log_error = self.log_error or exc
        return None

    def text(self) -> str:
        return self.head.decode("utf-8", "replace")


def _cancel_requested(cancel: CancelCheck) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    try:
        return bool(cancel())
    except Exception:  # a broken cancel check must not kill the run
        logger.exception("cancel check failed")
        return False


# --- version detection ---------------------------------------------------------------------

_version_cache: dict[tuple[str, float], str] = {}
_version_lock = threading.Lock()


def capture_output(plugin: ScannerPlugin, argv: list[str], *, timeout: float = 60) -> str:
    """Run a short command (e.g. `--version`) in the same sandbox and return its output."""
    scratch = Path(tempfile.mkdtemp(prefix=f"seculite-{plugin.slug}-version-"))
    try:
        env = minimal_env(plugin, argv[0], scratch)
        with tempfile.TemporaryFile() as out:
            proc = _spawn(argv, cwd=scratch, env=env, stdout=out)
            drain = _Drain(proc.stderr, keep=STDOUT_KEEP_BYTES)
            drain.start()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                kill_process_group(proc, grace=1)
                return ""
            finally:
                _signal_group(proc.pid, signal.SIGKILL)
                drain.join(timeout=2)
            out.seek(0)
            text = out.read(STDOUT_KEEP_BYTES).decode("utf-8", "replace")
        return (text + "\n" + drain.text()).strip()
    except OSError as exc:
        logger.warning("could not run %s: %s", argv, exc)
        return ""
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def tool_version(plugin: ScannerPlugin, binary: str) -> str:
    """The binary's version, cached per path and modification time."""
    try:
        key = (binary, Path(binary).stat().st_mtime)
    except OSError:
        return ""
    with _version_lock:
        if key in _version_cache:
            return _version_cache[key]
    try:
        version = plugin.detect_version(binary)
    except Exception:
        logger.exception("version detection of %s failed", plugin.slug)
        version = ""
    with _version_lock:
        _version_cache[key] = version
    return version


# --- one run -------------------------------------------------------------------------------


def run_plugin(
    plugin: ScannerPlugin,
    ctx: ScanContext,
    *,
    timeout: float | None = None,
    cancel: CancelCheck = None,
    max_report_bytes: int | None = None,
    on_start: Callable[[int], None] | None = None,
) -> RunResult:
    """Run `plugin` on `ctx` and return its result; never raises for tool or report problems.

    `cancel` (an Event or a callable polled about every 0.1 s) ends the run as `cancelled`;
    `on_start(pid)` is told the process group id, e.g. so a worker can record it.
    """
    started = datetime.now(UTC)
    clock = time.monotonic()

    def finish(status: RunStatus, **kwargs) -> RunResult:
        finished = datetime.now(UTC)
        return RunResult(
            status=status,
            tool=plugin.slug,
            started_at=started,
            finished_at=finished,
            duration=round(time.monotonic() - clock, 3),
            **kwargs,
        )

    location = plugin.locate()
    if not location.available:
        return finish(RunStatus.SKIPPED, error=location.reason)
    if not plugin.supports(ctx.target_type):
        return finish(
            RunStatus.SKIPPED, error=f"{plugin.label} does not scan {ctx.target_type} targets"
        )
    try:
        plugin.validate_overrides(ctx.overrides)
    except jsonschema.ValidationError as exc:
        return finish(RunStatus.FAILED, error=f"invalid overrides for {plugin.slug}: {exc.message}")

    try:
        ctx.output_dir.mkdir(parents=True, exist_ok=True)
        ctx.scratch.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        return finish(RunStatus.FAILED, error=no_space_error(plugin, "preparing the run"))
    ctx = replace(ctx, binary=location.path)
    version = tool_version(plugin, location.path)
    try:
        command = plugin.build_command(ctx)
    except NothingToScan as exc:
        return finish(RunStatus.SKIPPED, tool_version=version, error=str(exc))
    except Exception as exc:
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            error = no_space_error(plugin, "preparing the run")
            return finish(RunStatus.FAILED, tool_version=version, error=error)
        logger.exception("building the %s command failed", plugin.slug)
        return finish(
            RunStatus.FAILED, tool_version=version, error=f"could not build command: {exc}"
        )

    env = minimal_env(plugin, location.path, ctx.scratch)
    env.update(command.env)
    limit = max_report_bytes or plugin.max_report_bytes
    deadline = clock + (timeout or plugin.default_timeout)
    base = dict(tool_version=version, command=list(command.argv), output_path=command.output_path)

    # A report left by an earlier attempt (a redelivered task) must not pass for this run's.
    command.output_path.unlink(missing_ok=True)
    try:
        report = command.output_path.open("wb") if command.stdout_is_report else None
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        return finish(RunStatus.FAILED, error=no_space_error(plugin, "preparing the run"), **base)
    if report is not None:
        stdout_target: int | IO[bytes] = report
    else:
        stdout_target = subprocess.PIPE if command.capture_stdout else subprocess.DEVNULL
    try:
        process_started = datetime.now(UTC)
        process_clock = time.monotonic()
        proc = _spawn(command.argv, cwd=command.cwd, env=env, stdout=stdout_target)
    except OSError as exc:
        if report is not None:
            report.close()
        return finish(RunStatus.FAILED, error=f"could not start {plugin.binary}: {exc}", **base)
    if on_start is not None:
        on_start(proc.pid)

    stderr = _Drain(
        proc.stderr,
        keep=STDOUT_KEEP_BYTES,
        log_path=ctx.output_dir / f"{plugin.slug}.stderr.log",
        log_max=STDERR_LOG_BYTES,
    )
    stderr.start()
    stdout = _Drain(proc.stdout, keep=STDOUT_KEEP_BYTES) if proc.stdout is not None else None
    if stdout is not None:
        stdout.start()

    stop: RunStatus | None = None
    stop_error = ""
    last_size_check = 0.0
    try:
        while proc.poll() is None:
            now = time.monotonic()
            if now >= deadline:
                stop, stop_error = RunStatus.TIMED_OUT, f"{plugin.slug} exceeded its time limit"
            elif _cancel_requested(cancel):
                stop, stop_error = RunStatus.CANCELLED, "cancelled"
            elif now - last_size_check >= 0.5:
                last_size_check = now
                if _size(command.output_path) > limit:
                    stop = RunStatus.FAILED
                    stop_error = f"report grew past the {limit}-byte limit"
            if stop is not None:
                kill_process_group(proc)
                break
            time.sleep(POLL_SECONDS)
    finally:
        # Whatever the tool left running in its group (workers, helpers) ends with it.
        _signal_group(proc.pid, signal.SIGKILL)
        proc.wait()
        base.update(
            process_started_at=process_started,
            process_seconds=round(time.monotonic() - process_clock, 3),
        )
        stderr.join(timeout=5)
        if stdout is not None:
            stdout.join(timeout=5)
        if report is not None:
            report.close()

    exit_code = proc.returncode
    stderr_text = stderr.text()
    excerpt = _excerpt(stderr_text, stdout.text() if stdout else "")
    base.update(exit_code=exit_code, excerpt=excerpt)
    if stop is not None:
        return finish(stop, error=stop_error, **base)
    if out_of_space(ctx.output_dir, stderr_text, stderr.log_error):
        # A truncated report is of no use and holds the space the platform needs.
        command.output_path.unlink(missing_ok=True)
        base["output_path"] = None
        error = no_space_error(plugin, "storing the raw output")
        return finish(RunStatus.FAILED, error=error, **base)
    if _size(command.output_path) > limit:
        return finish(RunStatus.FAILED, error=f"report is larger than {limit} bytes", **base)

    outcome = plugin.interpret(exit_code, command.output_path, stderr_text)
    if not outcome.ok:
        return finish(RunStatus.FAILED, error=outcome.error, **base)
    try:
        findings = plugin.parse_file(command.output_path, workspace=ctx.workspace)
    except ParseError as exc:
        return finish(RunStatus.FAILED, error=f"unreadable {plugin.slug} report: {exc}", **base)
    plugin.fingerprint(findings)
    status = RunStatus.COMPLETED if findings else RunStatus.NO_FINDINGS
    return finish(status, findings=findings, **base)


def free_bytes(directory: Path) -> int | None:
    """Bytes this process may still write on the file system of `directory`."""
    try:
        stat = os.statvfs(directory)
    except OSError:
        return None
    blocks = stat.f_bfree if os.geteuid() == 0 else stat.f_bavail  # root may use the reserve
    return blocks * stat.f_frsize


def out_of_space(directory: Path, stderr: str, log_error: OSError | None = None) -> bool:
    """Whether the run failed to store its output for lack of disk space: the file system is
    full, or it is nearly full and the tool or our stderr log says ENOSPC."""
    free = free_bytes(directory)
    if free is None:
        return False
    if free == 0:
        return True
    said_so = "No space left on device" in stderr or (
        log_error is not None and log_error.errno == errno.ENOSPC
    )
    return said_so and free < NEARLY_FULL_BYTES


def no_space_error(plugin: ScannerPlugin, doing: str) -> str:
    return (
        f"No space left on device while {doing} of {plugin.slug}: free space on the volume "
        "of the media directory (raw scanner output) and run the scan again."
    )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _excerpt(stderr: str, stdout: str) -> str:
    parts = []
    if stderr.strip():
        parts.append(stderr.strip()[:EXCERPT_BYTES])
    if stdout.strip():
        parts.append(stdout.strip()[:EXCERPT_BYTES])
    return "\n".join(parts)[: 2 * EXCERPT_BYTES]


__all__ = [
    "Command",
    "RunResult",
    "RunStatus",
    "capture_output",
    "group_alive",
    "kill_process_group",
    "minimal_env",
    "run_plugin",
    "tool_version",
]
