"""pip-audit: known vulnerabilities of pinned Python dependencies, queried from an OSV-style
service whose URL is the SECULITE_PIP_AUDIT_OSV_URL setting (a mirror for air-gapped sites).

`--no-deps --disable-pip` audits the requirements files as written: without them pip-audit
creates a virtualenv and pip-installs into it, which fails offline (and runs setup code).
"""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from django.conf import settings

from apps.tools.plugins.base import (
    FILE_TARGET_TYPES,
    Category,
    Command,
    Location,
    NothingToScan,
    Outcome,
    ParseError,
    ScanContext,
    ScannerPlugin,
    files_matching,
    load_json,
)

from .parser import parse_report

MAX_FILES = 50
PROBE_SECONDS = 3.0
PROBE_CACHE_SECONDS = 60.0
_probe_cache: dict[str, tuple[float, str]] = {}


def service_problem(url: str) -> str:
    """Why the vulnerability service at `url` cannot be reached ("" when it can). A TCP connect,
    cached for a minute: without its service pip-audit cannot judge anything."""
    now = time.monotonic()
    cached = _probe_cache.get(url)
    if cached and now - cached[0] < PROBE_CACHE_SECONDS:
        return cached[1]
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    problem = ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problem = f"SECULITE_PIP_AUDIT_OSV_URL={url!r} is not an http(s) URL"
    else:
        try:
            with socket.create_connection((parts.hostname, port), timeout=PROBE_SECONDS):
                pass
        except OSError as exc:
            problem = (
                f"its vulnerability service {parts.scheme}://{parts.hostname}:{port} is "
                f"unreachable ({exc.__class__.__name__}); set SECULITE_PIP_AUDIT_OSV_URL to a "
                "reachable OSV-compatible mirror"
            )
    _probe_cache[url] = (now, problem)
    return problem


def is_requirements_file(path: Path) -> bool:
    """requirements*.txt anywhere, and *.txt inside a folder named requirements/."""
    name = path.name.lower()
    if path.parent.name.lower() == "requirements" and name.endswith(".txt"):
        return True
    return name.startswith("requirements") and name.endswith(".txt")


class PipAuditPlugin(ScannerPlugin):
    slug = "pip-audit"
    label = "pip-audit"
    category = Category.SCA
    target_types = FILE_TARGET_TYPES
    output_format = "json"
    binary = "pip-audit"
    fingerprint_fields = ("package_name", "package_version", "rule_id")
    overrides_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "requirements_files": {
                "type": "array",
                "description": "Requirements files to audit, relative to the scanned root "
                "(default: every requirements*.txt found).",
                # Relative, inside the workspace, not an option.
                "items": {"type": "string", "pattern": r"^(?![-/])(?!.*\.\.)[^\x00-\x1f]{1,300}$"},
                "maxItems": MAX_FILES,
                "uniqueItems": True,
            },
            "ignore_vulns": {
                "type": "array",
                "items": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._:-]{2,80}$"},
                "maxItems": 500,
                "uniqueItems": True,
                "description": "Advisory ids (PYSEC-..., GHSA-..., CVE-...) to ignore.",
            },
        },
    }

    def locate(self) -> Location:
        """Available only with its binary AND its vulnerability service: offline, a scan records
        pip-audit as skipped with the reason instead of failing."""
        location = super().locate()
        if not location.available:
            return location
        problem = service_problem(settings.SECULITE_PIP_AUDIT_OSV_URL)
        return Location(reason=f"pip-audit: {problem}") if problem else location

    def build_command(self, ctx: ScanContext) -> Command:
        overrides = ctx.overrides
        files = overrides.get("requirements_files") or files_matching(
            ctx.workspace, is_requirements_file, limit=MAX_FILES
        )
        files = [f for f in files if (ctx.workspace / f).is_file()]
        if not files:
            raise NothingToScan("no requirements files in the workspace")
        output = ctx.output_dir / "pip-audit.json"
        argv = [
            ctx.binary,
            "--vulnerability-service=osv",
            f"--osv-url={settings.SECULITE_PIP_AUDIT_OSV_URL}",
            "--no-deps",
            "--disable-pip",
            "--format=json",
            f"--output={output}",
            "--progress-spinner=off",
            f"--cache-dir={ctx.scratch / 'pip-audit-cache'}",
            "--timeout=30",
        ]
        for vuln in overrides.get("ignore_vulns", []):
            argv.append(f"--ignore-vuln={vuln}")
        for name in files:
            argv.append(f"--requirement=./{name}")
        return Command(argv=argv, cwd=ctx.workspace, output_path=output)

    def interpret(self, exit_code: int, output_path: Path, stderr: str) -> Outcome:
        # 1 means "vulnerabilities found" and also "any error": only the report tells them apart.
        if exit_code not in (0, 1):
            return Outcome(False, f"pip-audit exited {exit_code}: {_error_line(stderr)}")
        try:
            with output_path.open("rb") as stream:
                report = load_json(stream, self.max_report_bytes)
        except (OSError, ParseError):
            return Outcome(False, f"pip-audit failed: {_error_line(stderr)}")
        if not isinstance(report, dict) or not isinstance(report.get("dependencies"), list):
            return Outcome(False, "pip-audit report has no dependencies list")
        return Outcome(True)

    def parse(self, stream: IO[bytes], *, workspace: Path | None = None):
        return parse_report(stream, max_bytes=self.max_report_bytes)


def _error_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR" in line or "Error" in line]
    return (errors or lines or ["no error output"])[-1][:500]
