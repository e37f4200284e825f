"""Wapiti: black-box web application scanner (DAST) for `url` targets.

Wapiti exits 0 whatever happens, even when the target is down: success is decided from the
report (`infos.crawled_pages_nbr`). Its out-of-band checks (SSRF, XXE, Log4Shell) make the target
call an endpoint on the internet by default; they are pointed at a closed loopback port instead,
and crash reports are never uploaded (`--no-bugreport`). Session and configuration databases live
in the scan's private scratch folder, flushed on every run.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from apps.tools.plugins.base import (
    Category,
    Command,
    NothingToScan,
    Outcome,
    ParseError,
    ScanContext,
    ScannerPlugin,
    TargetType,
    load_json,
    web_target,
)

from .parser import parse_report

#: Wapiti 3.2's attack modules (`wapiti --list-modules`).
MODULES = (
    "backup",
    "brute_login_form",
    "buster",
    "cookieflags",
    "crlf",
    "csp",
    "csrf",
    "exec",
    "file",
    "htaccess",
    "http_headers",
    "https_redirect",
    "ldap",
    "log4shell",
    "methods",
    "nikto",
    "permanentxss",
    "redirect",
    "shellshock",
    "spring4shell",
    "sql",
    "ssl",
    "ssrf",
    "timesql",
    "upload",
    "xss",
    "xxe",
)
#: Wapiti's own default set ("used by default" in --list-modules), spelled out so an upgrade of
#: wapiti does not silently change what a scan does.
DEFAULT_MODULES = (
    "cookieflags",
    "csp",
    "exec",
    "file",
    "http_headers",
    "permanentxss",
    "redirect",
    "sql",
    "ssl",
    "ssrf",
    "upload",
    "xss",
)
#: Out-of-band callbacks go to a closed port on loopback: nothing leaves the machine.
OFFLINE_ENDPOINT = "http://127.0.0.1:9/"
OFFLINE_DNS_ENDPOINT = "127.0.0.1"
DEFAULT_MAX_SCAN_TIME = 900


def validate_url(target: str) -> str:
    """The target URL if it is a plain http(s) URL with a host, else NothingToScan."""
    parts = web_target(target, "wapiti")
    if parts.username or parts.password:
        raise NothingToScan("credentials in the target URL are not supported")
    try:
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError as exc:
        raise NothingToScan(f"invalid port in {target[:100]!r}") from exc
    return target


class WapitiPlugin(ScannerPlugin):
    slug = "wapiti"
    label = "Wapiti"
    category = Category.DAST
    target_types = frozenset({TargetType.URL})
    output_format = "json"
    binary = "wapiti"
    fingerprint_fields = ("rule_id", "extra.url_path", "parameter", "extra.method")
    default_timeout = DEFAULT_MAX_SCAN_TIME + 300
    overrides_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "modules": {
                "type": "array",
                "description": "Attack modules to run (default: wapiti's default set).",
                "items": {"enum": list(MODULES)},
                "minItems": 1,
                "uniqueItems": True,
            },
            "scope": {
                "enum": ["url", "page", "folder", "domain"],
                "description": "How far from the target URL wapiti may go (default: folder).",
            },
            "max_scan_time": {
                "type": "integer",
                "minimum": 10,
                "maximum": 7200,
                "description": "Seconds after which wapiti stops and reports what it found.",
            },
            "max_attack_time": {
                "type": "integer",
                "minimum": 5,
                "maximum": 3600,
                "description": "Seconds each attack module may run.",
            },
            "depth": {
                "type": "integer",
                "minimum": 0,
                "maximum": 40,
                "description": "How many links deep the crawler follows.",
            },
            "max_links_per_page": {"type": "integer", "minimum": 1, "maximum": 1000},
            "timeout": {
                "type": "number",
                "minimum": 1,
                "maximum": 120,
                "description": "Seconds to wait for one HTTP response.",
            },
        },
    }

    def build_command(self, ctx: ScanContext) -> Command:
        url = validate_url(ctx.target)
        overrides = ctx.overrides
        output = ctx.output_dir / "wapiti.json"
        state = ctx.scratch / "wapiti-state"
        state.mkdir(parents=True, exist_ok=True)
        modules = overrides.get("modules") or DEFAULT_MODULES
        argv = [
            ctx.binary,
            "--no-bugreport",
            "--flush-session",
            f"--store-session={state}",
            f"--store-config={state}",
            f"--endpoint={OFFLINE_ENDPOINT}",
            f"--dns-endpoint={OFFLINE_DNS_ENDPOINT}",
            f"--max-scan-time={overrides.get('max_scan_time', DEFAULT_MAX_SCAN_TIME)}",
            f"--scope={overrides.get('scope', 'folder')}",
            f"--module={','.join(modules)}",
            "--format=json",
            f"--output={output}",
            "--verbose=0",
        ]
        for key, flag in (
            ("max_attack_time", "--max-attack-time"),
            ("depth", "--depth"),
            ("max_links_per_page", "--max-links-per-page"),
            ("timeout", "--timeout"),
        ):
            if key in overrides:
                argv.append(f"{flag}={overrides[key]}")
        # The target is one argument of its own form: `--url=VALUE` cannot be read as an option.
        argv.append(f"--url={url}")
        return Command(argv=argv, cwd=ctx.workspace, output_path=output)

    def interpret(self, exit_code: int, output_path: Path, stderr: str) -> Outcome:
        # Always 0, even with the target down: only the report tells.
        try:
            with output_path.open("rb") as stream:
                report = load_json(stream, self.max_report_bytes)
        except (OSError, ParseError) as exc:
            return Outcome(False, f"wapiti exited {exit_code} without a readable report: {exc}")
        infos = report.get("infos") if isinstance(report, dict) else None
        if not isinstance(infos, dict):
            return Outcome(False, "wapiti report has no infos section")
        crawled = infos.get("crawled_pages_nbr")
        if not isinstance(crawled, int) or crawled < 1:
            return Outcome(
                False,
                f"wapiti reached no page of {str(infos.get('target'))[:200]} "
                "(target down, refused or redirected out of scope)",
            )
        return Outcome(True)

    def parse(self, stream: IO[bytes], *, workspace: Path | None = None):
        return parse_report(stream, max_bytes=self.max_report_bytes)
