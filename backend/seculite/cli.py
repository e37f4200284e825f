"""`seculite scan PATH`: SecuLite's scanner plugins on a local directory, for CI pipelines.

The same plugins and runner as the platform, without a server, database or broker: Django is set
up with `seculite_api.settings.cli`, which holds only the scanner settings. Tools run in
parallel threads (each scanner is its own process group with a time limit); the report goes to
stdout or --output, errors to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apps.tools.plugins.base import FindingData, ScannerPlugin
    from apps.tools.runner import RunResult

CLI_SETTINGS = "seculite_api.settings.cli"
SEVERITIES = ("critical", "high", "medium", "low", "info")
FORMATS = ("table", "json", "sarif")

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_TOOL_ERROR = 3
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """\
exit codes:
  0    no finding at or above --fail-on (or no --fail-on), and every tool ran
  1    a finding at or above --fail-on exists (wins over 3)
  2    usage error: bad option, PATH not a directory, unknown tool, output folder missing,
       --upload without --project or without $SECULITE_API_KEY
  3    a tool failed or timed out, a tool named in --tools is not installed, the scan
       could not run at all, or --upload failed (errors on stderr; the other tools'
       findings are still reported)
  130  interrupted (Ctrl-C or SIGTERM); running scanners are stopped
"""

SCAN_EXAMPLES = """\
examples:
  python -m seculite scan . --fail-on high
  python -m seculite scan src --tools bandit,semgrep --format sarif --output seculite.sarif
  SECULITE_API_KEY=slk_... python -m seculite scan . --upload https://seculite.example.org \\
      --project 12
"""
#: The environment variable holding the API key that --upload sends.
API_KEY_ENV = "SECULITE_API_KEY"


class UsageError(Exception):
    """A problem with the command line: reported with the usage, exit code 2."""


def setup_django() -> None:
    """Configure Django with the CLI settings unless settings are already loaded (tests).

    DJANGO_SETTINGS_MODULE from the environment is overridden on purpose: the platform's settings
    create var/ folders and expect a database, and the CLI needs neither.
    """
    import django
    from django.conf import settings

    if settings.configured:
        return
    os.environ["DJANGO_SETTINGS_MODULE"] = CLI_SETTINGS
    django.setup()


# --- the command line -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seculite",
        description="SecuLite command-line scans (no server, database or broker needed).",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    scan = commands.add_parser(
        "scan",
        help="scan a directory with SecuLite's scanner plugins",
        description="Scan a directory with SecuLite's scanner plugins and report the findings.",
        epilog=f"{SCAN_EXAMPLES}\n{EXIT_CODES_HELP}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    scan.add_argument("path", metavar="PATH", help="directory to scan")
    scan.add_argument(
        "--tools",
        action="append",
        metavar="TOOL[,TOOL...]",
        help="comma-separated plugin slugs (repeatable); default: every installed plugin "
        "that scans code",
    )
    scan.add_argument(
        "--format", choices=FORMATS, default="table", help="report format (default: table)"
    )
    scan.add_argument(
        "--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout"
    )
    scan.add_argument(
        "--fail-on",
        type=str.lower,
        choices=SEVERITIES,
        metavar="SEVERITY",
        help=f"exit 1 when a finding of this severity or higher exists ({', '.join(SEVERITIES)})",
    )
    scan.add_argument(
        "--timeout",
        type=_positive_float,
        metavar="SECONDS",
        help="time limit of each tool (default: SECULITE_TOOL_TIMEOUT, 1800)",
    )
    scan.add_argument(
        "--upload",
        metavar="URL",
        help="also send the report to this SecuLite server (its base URL) as an import of "
        f"--project, with the API key in ${API_KEY_ENV}",
    )
    scan.add_argument(
        "--project",
        type=_positive_int,
        metavar="ID",
        help="the project that --upload imports into",
    )
    scan.add_argument(
        "--jobs",
        "-j",
        type=_positive_int,
        default=min(4, os.cpu_count() or 1),
        metavar="N",
        help="tools run at the same time (default: min(4, CPU count) = %(default)s)",
    )
    return parser


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {value!r}")
    return number


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value!r}")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on errors, 0 for --help
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        return scan_command(args)
    except UsageError as exc:
        print(f"seculite scan: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception:
        # Never the 1 of an uncaught exception: CI would read it as "findings found".
        traceback.print_exc()
        print("seculite scan: error: the scan could not run (see above)", file=sys.stderr)
        return EXIT_TOOL_ERROR


# --- scanning -------------------------------------------------------------------------------------


@dataclass
class ToolRun:
    """One selected tool and what its run produced."""

    plugin: ScannerPlugin
    result: RunResult
    requested: bool

    @property
    def failed(self) -> bool:
        from apps.tools.runner import RunStatus

        if self.result.status in (RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.CANCELLED):
            return True
        # A tool the user named but that is not installed must not pass silently.
        return self.requested and self.result.status == RunStatus.SKIPPED and self.unavailable

    @property
    def unavailable(self) -> bool:
        return not self.plugin.locate().available


def scan_command(args: argparse.Namespace) -> int:
    root = Path(args.path).expanduser()
    if not root.exists():
        raise UsageError(f"PATH {args.path!r} does not exist")
    if not root.is_dir():
        raise UsageError(f"PATH {args.path!r} is not a directory")
    root = root.resolve()
    output = Path(args.output).expanduser() if args.output else None
    if output is not None:
        if output.is_dir():
            raise UsageError(f"--output {args.output!r} is a directory")
        if not output.parent.is_dir():
            raise UsageError(f"--output folder {str(output.parent)!r} does not exist")

    api_key = ""
    if args.upload or args.project:
        if not (args.upload and args.project):
            raise UsageError("--upload and --project go together")
        if not args.upload.startswith(("http://", "https://")):
            raise UsageError(f"--upload {args.upload!r} is not an http(s) URL")
        api_key = os.environ.get(API_KEY_ENV, "").strip()
        if not api_key:
            raise UsageError(f"--upload needs an API key in ${API_KEY_ENV}")

    setup_django()
    plugins, requested = select_plugins(args.tools)
    if not plugins:
        print(
            "seculite scan: error: no scanner is installed (run `make tools`, or name tools "
            "with --tools)",
            file=sys.stderr,
        )
        return EXIT_TOOL_ERROR

    from django.conf import settings

    timeout = args.timeout or float(getattr(settings, "SECULITE_TOOL_TIMEOUT", 1800))
    started = datetime.now(UTC)
    clock = time.monotonic()
    try:
        runs = run_tools(plugins, root, timeout=timeout, jobs=args.jobs, requested=requested)
    except KeyboardInterrupt:
        print("seculite scan: interrupted; scanners stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    duration = round(time.monotonic() - clock, 3)

    code = exit_code(runs, args.fail_on)
    report = Report(
        root=root,
        runs=runs,
        fail_on=args.fail_on,
        exit_code=code,
        started_at=started,
        duration=duration,
    )
    for run in runs:
        if run.failed:
            print(f"seculite scan: {run.plugin.slug}: {_error_text(run)}", file=sys.stderr)
    with _open_output(output) as stream:
        if args.format == "json":
            write_json(report, stream)
        elif args.format == "sarif":
            write_sarif_report(report, stream)
        else:
            write_table(report, stream)
    if args.format != "table" or output is not None:
        print(f"seculite scan: {report.summary_line()}", file=sys.stderr)
    if args.upload:
        try:
            scan = upload_report(report, args.upload, args.project, api_key)
        except UploadError as exc:
            print(f"seculite scan: upload failed: {exc}", file=sys.stderr)
            return code if code == EXIT_FINDINGS else EXIT_TOOL_ERROR
        print(
            f"seculite scan: uploaded to project {args.project}: import scan {scan.get('id')} "
            f"({scan.get('status')})",
            file=sys.stderr,
        )
    return code


# --- uploading ------------------------------------------------------------------------------------


class UploadError(Exception):
    """The server refused the report or could not be reached."""


def import_url(base: str, project: int) -> str:
    """`https://host[/prefix]` (with or without /api/v1) -> the project's imports endpoint."""
    base = base.rstrip("/")
    base = base.removesuffix("/api/v1")
    return f"{base}/api/v1/projects/{project}/imports/"


def upload_report(report: Report, base_url: str, project: int, api_key: str) -> dict:
    """Send the report as SARIF (one run per tool, SecuLite's fingerprints kept) to the
    server's import endpoint, streamed from a temporary file; returns the import's scan."""
    import http.client
    import ssl
    import uuid
    from urllib.parse import urlsplit

    url = urlsplit(import_url(base_url, project))
    with tempfile.TemporaryFile() as sarif:
        text = _TextSink(sarif)
        write_sarif_report(report, text)
        size = sarif.tell()
        sarif.seek(0)
        boundary = uuid.uuid4().hex
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="format"\r\n\r\nsarif\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="seculite-{report.root.name or "scan"}.sarif"\r\n'
            "Content-Type: application/sarif+json\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        if url.scheme == "https":
            connection = http.client.HTTPSConnection(
                url.netloc, timeout=300, context=ssl.create_default_context()
            )
        else:
            connection = http.client.HTTPConnection(url.netloc, timeout=300)
        try:
            connection.putrequest("POST", url.path)
            connection.putheader("Authorization", f"Token {api_key}")
            connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
            connection.putheader("Content-Length", str(len(head) + size + len(tail)))
            connection.putheader("Accept", "application/json")
            connection.endheaders()
            connection.send(head)
            while chunk := sarif.read(1 << 20):
                connection.send(chunk)
            connection.send(tail)
            response = connection.getresponse()
            raw = response.read()
        except OSError as exc:
            raise UploadError(f"{url.netloc}: {exc}") from None
        finally:
            connection.close()
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        body = {"detail": raw[:200].decode("utf-8", "replace")}
    if response.status != 202:
        detail = body.get("detail") if isinstance(body, dict) else None
        raise UploadError(f"HTTP {response.status}: {detail or 'no detail'}")
    return body


class _TextSink:
    """A text stream over a binary file (UTF-8), for write_sarif."""

    def __init__(self, binary):
        self.binary = binary

    def write(self, text: str) -> int:
        self.binary.write(text.encode("utf-8", "replace"))
        return len(text)


def select_plugins(tools: list[str] | None) -> tuple[list[ScannerPlugin], bool]:
    """The plugins to run and whether the user named them; unknown names are a usage error."""
    from apps.tools.plugins.base import TargetType
    from apps.tools.plugins.registry import registry

    code_plugins = registry.for_target_type(TargetType.GIT_REPOSITORY)
    if not tools:
        return [p for p in code_plugins if p.locate().available], False
    names: list[str] = []
    for item in tools:
        for name in item.split(","):
            name = name.strip()
            if name and name not in names:
                names.append(name)
    if not names:
        raise UsageError("--tools names no tool")
    known = {p.slug for p in code_plugins}
    choose = f"choose from: {', '.join(sorted(known))}"
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise UsageError(f"unknown tool(s) {', '.join(unknown)}; {choose}")
    not_code = [n for n in names if n not in known]
    if not_code:
        raise UsageError(f"{', '.join(not_code)} cannot scan a directory; {choose}")
    return [registry.get(n) for n in names], True


def run_tools(
    plugins: list[ScannerPlugin], root: Path, *, timeout: float, jobs: int, requested: bool
) -> list[ToolRun]:
    """Run every plugin on `root` in a thread pool; Ctrl-C or SIGTERM stops every scanner."""
    from apps.tools.plugins.base import ScanContext, TargetType
    from apps.tools.runner import run_plugin

    cancel = threading.Event()
    with (
        tempfile.TemporaryDirectory(prefix="seculite-cli-") as tmp,
        _sigterm_as_interrupt(),
        ThreadPoolExecutor(max_workers=max(1, min(jobs, len(plugins)))) as pool,
    ):
        futures: dict[Future, ScannerPlugin] = {}
        try:
            for plugin in plugins:
                ctx = ScanContext(
                    workspace=root,
                    output_dir=Path(tmp) / plugin.slug,
                    target_type=TargetType.GIT_REPOSITORY,
                    target=str(root),
                    scratch_dir=Path(tmp) / f"{plugin.slug}.scratch",
                )
                future = pool.submit(run_plugin, plugin, ctx, timeout=timeout, cancel=cancel)
                futures[future] = plugin
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in done:
                    _progress(future.result())
        except KeyboardInterrupt:
            # Before the pool's exit waits for the threads: each runner sees the event within
            # a poll and kills its scanner's process group.
            cancel.set()
            wait(futures)
            raise
        runs = [ToolRun(futures[f], f.result(), requested) for f in futures]
    return sorted(runs, key=lambda run: run.plugin.slug)


def _progress(result: RunResult) -> None:
    """One line per finished tool on stderr, so a long CI scan shows it is alive."""
    count = len(result.findings)
    detail = f"{count} finding{'s' if count != 1 else ''}" if not result.error else result.error
    print(
        f"seculite scan: {result.tool} {result.status} in {result.duration:.1f}s: "
        f"{_one_line(detail, 200)}",
        file=sys.stderr,
        flush=True,
    )


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """A CI job that is cancelled sends SIGTERM: stop the scanners as for Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def severity_of(finding: FindingData) -> str:
    """The finding's severity on SecuLite's scale (an unknown value counts as info)."""
    value = str(finding.severity).lower()
    return value if value in SEVERITIES else "info"


def exit_code(runs: list[ToolRun], fail_on: str | None) -> int:
    """1 for a finding at or above `fail_on`, else 3 for a failed tool, else 0."""
    if fail_on is not None:
        threshold = SEVERITIES.index(fail_on)
        for run in runs:
            if any(SEVERITIES.index(severity_of(f)) <= threshold for f in run.result.findings):
                return EXIT_FINDINGS
    if any(run.failed for run in runs):
        return EXIT_TOOL_ERROR
    return EXIT_OK


def _error_text(run: ToolRun) -> str:
    status = str(run.result.status)
    if run.unavailable and run.requested:
        status = "not installed"
    return f"{status}: {run.result.error or 'no error message'}"


# --- reports --------------------------------------------------------------------------------------


@dataclass
class Report:
    root: Path
    runs: list[ToolRun]
    fail_on: str | None
    exit_code: int
    started_at: datetime
    duration: float

    def findings(self) -> list[tuple[str, FindingData]]:
        """(tool slug, finding), most severe first, then by tool, path, line and rule."""
        pairs = [(run.plugin.slug, f) for run in self.runs for f in run.result.findings]
        return sorted(pairs, key=lambda pair: _finding_sort_key(*pair))

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(SEVERITIES, 0)
        for run in self.runs:
            for finding in run.result.findings:
                counts[severity_of(finding)] += 1
        return counts

    def summary_line(self) -> str:
        counts = self.counts()
        total = sum(counts.values())
        detail = ", ".join(f"{counts[s]} {s}" for s in SEVERITIES)
        failed = [run.plugin.slug for run in self.runs if run.failed]
        tools = f"; failed: {', '.join(failed)}" if failed else ""
        return (
            f"{total} finding{'s' if total != 1 else ''} ({detail}) from {len(self.runs)} "
            f"tool{'s' if len(self.runs) != 1 else ''} in {self.duration:.1f}s{tools}; "
            f"exit code {self.exit_code}"
        )


def _finding_sort_key(tool: str, finding: FindingData) -> tuple:
    return (
        SEVERITIES.index(severity_of(finding)),
        tool,
        finding.file_path,
        finding.line_start or 0,
        finding.rule_id,
        finding.title,
    )


def _location_text(finding: FindingData) -> str:
    where = finding.file_path or finding.url or finding.package_name
    if finding.file_path and finding.line_start:
        where += f":{finding.line_start}"
    elif finding.package_name and finding.package_version and not finding.file_path:
        where += f"=={finding.package_version}"
    return where


def write_table(report: Report, stream: IO[str]) -> None:
    """Human-readable: one status line per tool, then findings by severity rank."""
    stream.write(f"SecuLite scan of {report.root}\n\n")
    rows = [("TOOL", "VERSION", "STATUS", "FINDINGS", "TIME", "")]
    for run in report.runs:
        result = run.result
        note = _error_text(run) if run.unavailable and run.requested else result.error
        rows.append(
            (
                run.plugin.slug,
                result.tool_version or "-",
                str(result.status),
                str(len(result.findings)),
                f"{result.duration:.1f}s",
                _one_line(note, 120),
            )
        )
    _write_rows(stream, rows, right_aligned={3, 4})
    findings = report.findings()
    if findings:
        stream.write("\n")
        rows = [("SEVERITY", "TOOL", "RULE", "LOCATION", "TITLE")]
        for tool, finding in findings:
            rows.append(
                (
                    severity_of(finding).upper(),
                    tool,
                    _one_line(finding.rule_id, 60),
                    _one_line(_location_text(finding), 80),
                    _one_line(finding.title, 120),
                )
            )
        _write_rows(stream, rows)
    stream.write(f"\n{report.summary_line()}\n")


def _write_rows(stream: IO[str], rows: list[tuple[str, ...]], right_aligned=frozenset()) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [
            cell.rjust(widths[i]) if i in right_aligned else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        stream.write("  ".join(cells).rstrip() + "\n")


def _one_line(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def write_json(report: Report, stream: IO[str]) -> None:
    """Machine-readable: per-tool status, version, duration and error; findings as dicts."""
    document: dict[str, Any] = {
        "path": str(report.root),
        "started_at": report.started_at.isoformat(),
        "duration": report.duration,
        "fail_on": report.fail_on,
        "exit_code": report.exit_code,
        "summary": {**report.counts(), "total": sum(report.counts().values())},
        "tools": [
            {
                "tool": run.plugin.slug,
                "label": run.plugin.label,
                "category": str(run.plugin.category),
                "status": str(run.result.status),
                "version": run.result.tool_version,
                "duration": run.result.duration,
                "exit_code": run.result.exit_code,
                "findings_count": len(run.result.findings),
                "failed": run.failed,
                "error": run.result.error,
            }
            for run in report.runs
        ],
        "findings": [{"tool": tool, **finding.to_dict()} for tool, finding in report.findings()],
    }
    json.dump(document, stream, indent=2, ensure_ascii=False)
    stream.write("\n")


def write_sarif_report(report: Report, stream: IO[str]) -> None:
    """SARIF 2.1.0, one run per tool (apps.findings.sarif)."""
    from apps.findings.sarif import SarifRun, SarifTool, write_sarif

    runs = []
    for run in report.runs:
        result = run.result
        findings = sorted(result.findings, key=lambda f: _finding_sort_key(run.plugin.slug, f))
        notices = [] if run.failed or not result.error else [f"{result.status}: {result.error}"]
        runs.append(
            SarifRun(
                tool=SarifTool.from_plugin(run.plugin, result.tool_version),
                findings=findings,
                src_root=report.root,
                execution_successful=not run.failed,
                exit_code=result.exit_code,
                error=_error_text(run) if run.failed else "",
                notices=notices,
                started_at=result.started_at,
                finished_at=result.finished_at,
                properties={"status": str(result.status), "durationSeconds": result.duration},
            )
        )
    write_sarif(runs, stream)


@contextlib.contextmanager
def _open_output(output: Path | None) -> Iterator[IO[str]]:
    """stdout as UTF-8, or FILE written in full before it replaces any old one."""
    if output is None:
        stream = sys.stdout
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="replace")
        yield stream
        stream.flush()
        return
    if output.exists() and not output.is_file():
        # A device or a pipe (/dev/null, /dev/stdout, a FIFO): write to it, never replace it.
        with output.open("w", encoding="utf-8", errors="replace", newline="\n") as stream:
            yield stream
        return
    fd, tmp_name = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace", newline="\n") as stream:
            yield stream
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)
