"""`make verify`: suites that prove, with figures, what SecuLite survives (faults, load, hostile
input, access, its own scan). Each test records rows with the `figures` fixture; the session
prints them as one table at the end and writes them to JSON (VERIFY_FIGURES, default
var/verify-figures.json) for docs/reliability.md.

VERIFY_SCALE=full (make verify) runs every suite at the sizes the issue names; VERIFY_SCALE=ci
(make verify-ci) runs the same code at sizes that fit CI's time budget."""

import json
import os
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

SCALE = os.environ.get("VERIFY_SCALE", "ci")
if SCALE not in ("ci", "full"):
    raise pytest.UsageError("VERIFY_SCALE is ci or full")
FULL = SCALE == "full"


def scaled(ci, full):
    """A size for this run: `full` under make verify, `ci` under make verify-ci."""
    return full if FULL else ci


@dataclass
class Figure:
    suite: str
    tried: str
    times: str
    held: str
    ok: bool


class Figures:
    def __init__(self):
        self.rows: list[Figure] = []

    def add(self, suite: str, tried: str, times, held: str, ok: bool) -> None:
        """One row of the table: what was tried, how often (a count or a duration), what held
        (the measured figure in words), and whether it met what the issue asks."""
        self.rows.append(Figure(suite, tried, str(times), held, bool(ok)))


_FIGURES = Figures()


@pytest.fixture(scope="session")
def figures() -> Figures:
    return _FIGURES


@pytest.fixture(scope="session")
def start_nginx_stack(
    request, tmp_path_factory, postgres_params, redis_url, nginx_binary, spa_dist
):
    """`start_nginx_stack(name, workers=..., beat=..., **env)`: a context manager running a copy
    of the session's migrated template database behind nginx (verify.load_stack.nginx_stack)."""
    from verify.load_stack import migrated_template, nginx_stack

    template = migrated_template(
        request.config,
        postgres_params=postgres_params,
        redis_url=redis_url,
        tmp=tmp_path_factory.mktemp("template"),
    )

    def start(name: str, **kwargs):
        return nginx_stack(
            tmp_path_factory.mktemp(name),
            template=template,
            postgres_params=postgres_params,
            redis_url=redis_url,
            nginx_binary=nginx_binary,
            spa_dist=spa_dist,
            **kwargs,
        )

    return start


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    rows = _FIGURES.rows
    if not rows:
        return
    widths = [
        max(len("suite"), *(len(r.suite) for r in rows)),
        max(len("tried"), *(len(r.tried) for r in rows)),
        max(len("times"), *(len(r.times) for r in rows)),
    ]
    write = terminalreporter.write_line
    write("")
    write(f"SecuLite verification figures (scale {SCALE}, {os.cpu_count()} cores)")
    write(f"{'suite':{widths[0]}}  {'tried':{widths[1]}}  {'times':>{widths[2]}}  held  result")
    for r in rows:
        mark = "ok" if r.ok else "FAILED"
        cells = f"{r.suite:{widths[0]}}  {r.tried:{widths[1]}}  {r.times:>{widths[2]}}"
        write(f"{cells}  {r.held}  {mark}")
    out = Path(
        os.environ.get(
            "VERIFY_FIGURES", Path(__file__).parent.parent / "var" / "verify-figures.json"
        )
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "measured_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                "scale": SCALE,
                "machine": {"cores": os.cpu_count(), "platform": platform.platform()},
                "rows": [asdict(r) for r in rows],
            },
            indent=2,
        )
    )
    write(f"figures written to {out}")
