"""OWASP ZAP baseline scan (`zap-baseline.py`): passive DAST of a `url` target.

ZAP is a Java application that is not installable on the development machines; the plugin runs
where `zap-baseline.py` exists (the ZAP container images ship it in /zap). The script writes its
reports relative to its working folder, or to /zap/wrk when it detects a container: SecuLite runs
it in the run's output folder with a relative report name, so inside a ZAP image that folder must
be the one mounted on /zap/wrk. Exit codes: 0 pass, 1 at least one FAIL, 2 at least one WARN,
3 any other failure; findings are read from the JSON report (`-J`), never from the exit code.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO

from apps.tools.plugins.base import (
    Category,
    Command,
    Location,
    Outcome,
    ParseError,
    ScanContext,
    ScannerPlugin,
    TargetType,
    load_json,
)

from .parser import parse_report, validate_url

REPORT_NAME = "zap-report.json"
UNAVAILABLE = (
    "zap-baseline.py not found in {folder} or on PATH. OWASP ZAP is not installed by `make tools` "
    "(a Java application, no Debian or PyPI package): run the worker from a ZAP container image "
    "or put ZAP's zap-baseline.py on PATH."
)


class ZapBaselinePlugin(ScannerPlugin):
    slug = "zap-baseline"
    label = "OWASP ZAP baseline"
    category = Category.DAST
    target_types = frozenset({TargetType.URL})
    output_format = "json"
    binary = "zap-baseline.py"
    install_dir = "zap"
    version_args = ("-h",)
    fingerprint_fields = ("rule_id", "extra.url_path", "parameter", "extra.method")
    default_timeout = 3600
    overrides_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "spider_minutes": {
                "type": "integer",
                "minimum": 1,
                "maximum": 60,
                "description": "Minutes the spider may crawl (default 1).",
            },
            "max_minutes": {
                "type": "integer",
                "minimum": 1,
                "maximum": 120,
                "description": "Minutes to wait for ZAP to start and passive scanning to end.",
            },
            "ajax_spider": {
                "type": "boolean",
                "default": False,
                "description": "Also crawl with the Ajax spider (a headless browser).",
            },
            "include_alpha_rules": {
                "type": "boolean",
                "default": False,
                "description": "Include ZAP's alpha passive scan rules.",
            },
        },
    }

    def locate(self) -> Location:
        location = super().locate()
        if location.available:
            return location
        folder = self.tools_dir() / self.install_dir / self.bin_subdir
        return Location(reason=UNAVAILABLE.format(folder=folder))

    def parse_version(self, output: str) -> str:
        """zap-baseline.py has no version flag; its help names no ZAP version either, so only
        an explicit "ZAP x.y.z" counts (never the zapv2 client's version in the usage text)."""
        match = re.search(r"\bZAP[ _-]?(?:version[ :]*)?(\d+\.\d+\.\d+)", output, re.IGNORECASE)
        return match.group(1) if match else ""

    def build_command(self, ctx: ScanContext) -> Command:
        url = validate_url(ctx.target)
        overrides = ctx.overrides
        argv = [
            ctx.binary,
            "-t",
            url,  # getopt: the value of -t, never read as an option (it starts with http)
            "-J",
            REPORT_NAME,
            "-I",
            "-m",
            str(overrides.get("spider_minutes", 1)),
            "-T",
            str(overrides.get("max_minutes", 30)),
        ]
        if overrides.get("ajax_spider"):
            argv.append("-j")
        if overrides.get("include_alpha_rules"):
            argv.append("-a")
        return Command(argv=argv, cwd=ctx.output_dir, output_path=ctx.output_dir / REPORT_NAME)

    def interpret(self, exit_code: int, output_path: Path, stderr: str) -> Outcome:
        if exit_code not in (0, 1, 2):
            return Outcome(False, f"zap-baseline.py exited {exit_code}: {_last_line(stderr)}")
        try:
            with output_path.open("rb") as stream:
                report = load_json(stream, self.max_report_bytes)
        except (OSError, ParseError):
            # The script writes no report when the spider found no URL.
            return Outcome(
                False, f"ZAP wrote no report (target not reached?): {_last_line(stderr)}"
            )
        if not isinstance(report, dict) or not isinstance(report.get("site"), list):
            return Outcome(False, "ZAP report has no site list")
        return Outcome(True)

    def parse(self, stream: IO[bytes], *, workspace: Path | None = None):
        return parse_report(stream, max_bytes=self.max_report_bytes)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1][:500] if lines else "no error output"
