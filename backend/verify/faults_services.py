"""Private services for the Faults suite, which stops and breaks them on purpose: a PostgreSQL
cluster and a Redis server of its own on free loopback ports (never the shared ones), and a
size-limited tmpfs for the media directory."""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from conftest import missing_service
from tests.processes import ProcessGroup, base_env, free_port

PG_ROOT = Path("/usr/lib/postgresql")


def postgres_bin() -> Path:
    """The newest installed PostgreSQL server's bin directory (initdb, pg_ctl)."""
    found = sorted(
        (p / "bin" for p in PG_ROOT.glob("*") if (p / "bin" / "pg_ctl").is_file()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not found:
        missing_service(
            f"no PostgreSQL server binaries under {PG_ROOT} (apt-get install postgresql)"
        )
    return found[-1]


def _as_postgres(argv: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    """PostgreSQL refuses to run as root: run its tools as the `postgres` OS user."""
    if os.geteuid() == 0:
        argv = ["runuser", "-u", "postgres", "--", *argv]
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


class PrivatePostgres:
    """A throw-away cluster: trust authentication on 127.0.0.1:<free port>, no fsync."""

    def __init__(self, root: Path):
        self.bin = postgres_bin()
        self.root = root
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.port = free_port()
        root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")

    @property
    def params(self) -> dict:
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "user": "postgres",
            "password": "",
            "dbname": "postgres",
        }

    def init(self) -> None:
        done = _as_postgres(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        )
        assert done.returncode == 0, done.stdout + done.stderr
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nport = {self.port}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "shared_buffers = 32MB\nmax_connections = 200\n"
            )

    def start(self) -> None:
        done = _as_postgres(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        assert done.returncode == 0, done.stdout + done.stderr + self.log_tail()

    def stop(self, mode: str = "fast") -> None:
        done = _as_postgres(
            [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"]
        )
        assert done.returncode == 0, done.stdout + done.stderr + self.log_tail()

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def log_tail(self, size: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-size:] if self.log.exists() else ""


class PrivateRedis:
    """redis-server without persistence: killing it loses every queued message."""

    def __init__(self, root: Path):
        self.binary = shutil.which("redis-server") or missing_service(
            "redis-server is not installed (apt-get install redis-server)"
        )
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.group = ProcessGroup(root)
        self.port = free_port()
        self.proc = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 20) -> None:
        self.starts += 1
        argv = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.root),
        ]
        self.proc = self.group.start(f"redis-{self.starts}", argv, base_env())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ping():
                return
            if self.proc.popen.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError("redis-server did not start:\n" + self.proc.output()[-2000:])

    def kill(self) -> None:
        """SIGKILL: no shutdown save, every message in memory is gone."""
        self.proc.popen.send_signal(signal.SIGKILL)
        self.proc.popen.wait(timeout=10)

    def ping(self) -> bool:
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        self.group.kill_all()


class Tmpfs:
    """A tmpfs of `size` mounted over `path` (which keeps its name: running processes that
    resolve the path afterwards write into the small filesystem)."""

    def __init__(self, path: Path, size: str):
        self.path = path
        self.size = size
        self.mounted = False

    def mount(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={self.size},mode=0755", "tmpfs", str(self.path)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if done.returncode != 0:
            missing_service(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        self.mounted = True

    def free_bytes(self) -> int:
        stat = os.statvfs(self.path)
        return stat.f_bavail * stat.f_frsize

    def unmount(self) -> None:
        if self.mounted:
            # Lazy: a process that still has a file open there must not block the test's end.
            subprocess.run(["umount", "-l", str(self.path)], check=True, timeout=30)
            self.mounted = False
