"""Start and stop real platform processes for tests, with their output kept in log files."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

BACKEND_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(**overrides: str) -> dict[str, str]:
    """A minimal environment: the backend venv first on PATH, no inherited DB/broker settings."""
    venv_bin = BACKEND_DIR / ".venv" / "bin"
    env = {
        "PATH": f"{venv_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(overrides)
    return env


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class ProcessGroup:
    """Processes started by one test; `stop_all` ends them and reports their exit codes."""

    log_dir: Path
    procs: list[Proc] = field(default_factory=list)

    def start(self, name: str, cmd: list[str], env: dict, cwd: Path = BACKEND_DIR) -> Proc:
        log = self.log_dir / f"{name}.log"
        handle = log.open("wb")
        popen = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def assert_running(self) -> None:
        for proc in self.procs:
            if proc.popen.poll() is not None:
                raise AssertionError(
                    f"{proc.name} exited with {proc.popen.returncode}:\n{proc.output()[-4000:]}"
                )

    def stop(self, proc: Proc, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if proc.popen.poll() is None:
            proc.popen.send_signal(sig)
        try:
            return proc.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.popen.pid, signal.SIGKILL)
            proc.popen.wait()
            raise AssertionError(
                f"{proc.name} did not stop within {timeout}s:\n{proc.output()[-4000:]}"
            ) from None

    def kill_all(self) -> None:
        for proc in self.procs:
            if proc.popen.poll() is None:
                try:
                    os.killpg(proc.popen.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.popen.wait()

    def logs(self) -> str:
        return "\n".join(f"==== {p.name}\n{p.output()[-3000:]}" for p in self.procs)


@dataclass
class HttpAnswer:
    status: int
    headers: dict
    body: bytes
    header_lists: dict

    def json(self):
        return json.loads(self.body)


def http_get(url: str, timeout: float = 10.0) -> HttpAnswer:
    request = urllib.request.Request(url, headers={"Accept": "*/*"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return _answer(resp.status, resp.headers, resp.read())
    except urllib.error.HTTPError as err:
        return _answer(err.code, err.headers, err.read())


def _answer(status, headers, body) -> HttpAnswer:
    lists: dict[str, list[str]] = {}
    for key, value in headers.items():
        lists.setdefault(key.lower(), []).append(value)
    return HttpAnswer(status, {k: v[0] for k, v in lists.items()}, body, lists)


def wait_for(
    predicate,
    timeout: float,
    interval: float = 0.5,
    what: str = "condition",
    group: ProcessGroup | None = None,
):
    """Poll `predicate` until it returns a truthy value; fail with `what` and the logs."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        if group is not None:
            group.assert_running()
        try:
            value = predicate()
            if value:
                return value
        except (OSError, ValueError) as exc:
            last_error = exc
        time.sleep(interval)
    logs = group.logs() if group else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what} ({last_error})\n{logs}")
