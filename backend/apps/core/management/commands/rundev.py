"""`make dev`: migrate, make sure an admin exists, then run web, worker and beat together.

Each process runs in its own session so that Ctrl-C reaches only this supervisor, which then
stops all three cleanly (SIGTERM, then SIGKILL after a grace period). If one process dies, the
others are stopped too, so a broken setup never looks half alive.

With SECULITE_LOG_FORMAT=json every line is JSON: the processes' own log lines pass through, and
what they print otherwise (runserver's banner) becomes a log line of `seculite.rundev.<name>`."""

import io
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

logger = logging.getLogger("seculite.rundev")
_write_lock = threading.Lock()


def _relay(name: str, stream) -> None:
    """Copy a child's output to ours line by line: JSON log lines as they are, anything else
    (runserver's banner, a stray print) as a log line of its own."""
    child = logging.getLogger(f"seculite.rundev.{name}")
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace").rstrip("\r\n")
        if not line.strip():
            continue
        try:
            is_json = isinstance(json.loads(line), dict)
        except ValueError:
            is_json = False
        if is_json:
            with _write_lock:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
        else:
            child.info(line)


class Command(BaseCommand):
    help = "Run the whole platform locally: web server, Celery worker and Celery beat."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--concurrency", type=int, default=2)
        parser.add_argument("--grace", type=float, default=10.0, help="seconds before SIGKILL")

    def handle(self, *args, host, port, concurrency, grace, **options):
        json_logs = settings.SECULITE_LOG_FORMAT == "json"
        call_command("migrate", interactive=False, verbosity=0)
        # JSON logs: stdout carries log lines only. The generated administrator password goes to
        # stderr (the log filter would mask it), the scanner table becomes log lines.
        call_command("ensure_admin", **({"stdout": sys.stderr} if json_logs else {}))
        tools = io.StringIO()
        call_command("sync_tools", detect_versions=True, stdout=tools)
        for line in tools.getvalue().splitlines():
            self._say(json_logs, line)
        python = sys.executable
        manage = str(settings.BACKEND_DIR / "manage.py")
        # --quiet: no start-up banner (a picture, not log lines) when the logs are JSON.
        celery = [python, "-m", "celery", "-A", "seculite_api", *(["--quiet"] if json_logs else [])]
        commands = {
            "web": [python, manage, "runserver", f"{host}:{port}", "--noreload"],
            "worker": [
                *celery,
                "worker",
                "-Q",
                "default,scans",
                "-c",
                str(concurrency),
                "-n",
                f"dev-{os.getpid()}@%h",
                "-l",
                "INFO",
            ],
            "beat": [
                *celery,
                "beat",
                "-l",
                "INFO",
                "--pidfile=",
                "-S",
                "apps.core.beat:DatabaseScheduler",
            ],
        }
        database = "SQLite (embedded)" if settings.USES_EMBEDDED_DATABASE else "PostgreSQL"
        broker = "embedded (filesystem)" if settings.USES_EMBEDDED_BROKER else "Redis"
        self._say(
            json_logs,
            f"SecuLite: database {database}, broker {broker}.\n"
            f"Open http://{host}:{port}/  (API: /api/v1/, docs: /api/v1/docs/). Ctrl-C stops all.",
        )
        procs: dict[str, subprocess.Popen] = {}
        stopping = False
        crashed = None

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            for name, cmd in commands.items():
                procs[name] = subprocess.Popen(  # noqa: S603 - fixed argument lists
                    cmd,
                    cwd=settings.BACKEND_DIR,
                    start_new_session=True,
                    stdout=subprocess.PIPE if json_logs else None,
                    stderr=subprocess.STDOUT if json_logs else None,
                )
                if json_logs:
                    threading.Thread(
                        target=_relay, args=(name, procs[name].stdout), daemon=True
                    ).start()
            while not stopping:
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        self._say(
                            json_logs,
                            f"{name} exited with code {proc.returncode}; stopping.",
                            error=True,
                        )
                        stopping = True
                        crashed = name
                        break
                time.sleep(0.3)
        finally:
            self._terminate(procs, grace)
        self._say(json_logs, "SecuLite stopped.")
        if crashed:
            sys.exit(1)

    def _say(self, json_logs: bool, text: str, *, error: bool = False) -> None:
        if json_logs:
            logger.log(logging.ERROR if error else logging.INFO, text)
        elif error:
            self.stderr.write(text)
        else:
            self.stdout.write(text)

    def _terminate(self, procs: dict, grace: float) -> None:
        # SIGTERM to each main process: Celery then shuts its pool down itself (warm shutdown).
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + grace
        for proc in procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the whole group: pool children too
                proc.wait()
