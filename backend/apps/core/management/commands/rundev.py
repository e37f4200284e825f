"""`make dev`: migrate, make sure an admin exists, then run web, worker and beat together.

Each process runs in its own session so that Ctrl-C reaches only this supervisor, which then
stops all three cleanly (SIGTERM, then SIGKILL after a grace period). If one process dies, the
others are stopped too, so a broken setup never looks half alive."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the whole platform locally: web server, Celery worker and Celery beat."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--concurrency", type=int, default=2)
        parser.add_argument("--grace", type=float, default=10.0, help="seconds before SIGKILL")

    def handle(self, *args, host, port, concurrency, grace, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("ensure_admin")
        call_command("sync_tools", detect_versions=True)
        python = sys.executable
        manage = str(settings.BACKEND_DIR / "manage.py")
        celery = [python, "-m", "celery", "-A", "seculite_api"]
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
                "django_celery_beat.schedulers:DatabaseScheduler",
            ],
        }
        database = "SQLite (embedded)" if settings.USES_EMBEDDED_DATABASE else "PostgreSQL"
        broker = "embedded (filesystem)" if settings.USES_EMBEDDED_BROKER else "Redis"
        self.stdout.write(
            f"SecuLite: database {database}, broker {broker}.\n"
            f"Open http://{host}:{port}/  (API: /api/v1/, docs: /api/v1/docs/). Ctrl-C stops all."
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
                    cmd, cwd=settings.BACKEND_DIR, start_new_session=True
                )
            while not stopping:
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with code {proc.returncode}; stopping.")
                        stopping = True
                        crashed = name
                        break
                time.sleep(0.3)
        finally:
            self._terminate(procs, grace)
        self.stdout.write("SecuLite stopped.")
        if crashed:
            sys.exit(1)

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
