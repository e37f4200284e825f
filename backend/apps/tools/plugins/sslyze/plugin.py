"""SSLyze: TLS configuration of a server (`url` and `domain_name` targets), offline.

SSLyze exits 1 when the server fails Mozilla's "intermediate" profile and **0 when it cannot
connect at all**: success is decided from the report (`connectivity_status`). Its JSON holds the
raw scan results, not the profile verdict, so the parser applies the profile's checks itself.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from apps.tools.plugins.base import (
    Category,
    Command,
    NothingToScan,
    Outcome,
    ParseError,
    ScanContext,
    ScannerPlugin,
    TargetType,
    as_text,
    load_json,
)

from .parser import parse_report

#: Every check the Mozilla profile needs, plus HSTS; the list is explicit so that a scan is the
#: same whatever sslyze's defaults become.
SCAN_COMMANDS = (
    "--certinfo",
    "--sslv2",
    "--sslv3",
    "--tlsv1",
    "--tlsv1_1",
    "--tlsv1_2",
    "--tlsv1_3",
    "--elliptic_curves",
    "--compression",
    "--heartbleed",
    "--openssl_ccs",
    "--robot",
    "--reneg",
    "--fallback",
    "--ems",
)
HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$"
)


def tls_endpoint(target: str, target_type: str, port: int | None) -> tuple[str, int]:
    """(host, port) to scan, or NothingToScan for a malformed target or an http:// URL."""
    target = (target or "").strip()
    if target_type == TargetType.URL:
        if re.search(r"[\x00-\x20\x7f\\]", target):
            raise NothingToScan("malformed URL")
        try:
            parts = urlsplit(target)
        except ValueError as exc:  # "https://[::1": an IPv6 host never closed
            raise NothingToScan(f"malformed URL: {exc}") from None
        if parts.scheme == "http":
            raise NothingToScan("sslyze scans TLS: an http:// URL has no TLS to test")
        if parts.scheme != "https" or not parts.hostname:
            raise NothingToScan(f"sslyze needs an https:// URL, not {target[:100]!r}")
        try:
            url_port = parts.port
        except ValueError as exc:
            raise NothingToScan(f"invalid port in {target[:100]!r}") from exc
        host = parts.hostname
        port = port or url_port or 443
    else:
        host, port = target, port or 443
    if not _valid_host(host):
        raise NothingToScan(f"{host[:100]!r} is not a host name or IP address")
    return host, port


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return bool(HOSTNAME_RE.match(host))


def sslyze_server_string(host: str, port: int) -> str:
    try:
        if ipaddress.ip_address(host).version == 6:
            return f"[{host}]:{port}"
    except ValueError:
        pass
    return f"{host}:{port}"


class SslyzePlugin(ScannerPlugin):
    slug = "sslyze"
    label = "SSLyze"
    category = Category.DAST
    target_types = frozenset({TargetType.URL, TargetType.DOMAIN_NAME})
    output_format = "json"
    binary = "sslyze"
    fingerprint_fields = ("extra.host", "extra.port", "rule_id")
    default_timeout = 900
    #: sslyze has no --version; its help starts with "SSLyze version X".
    version_args = ("--help",)
    overrides_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "port": {
                "type": "integer",
                "minimum": 1,
                "maximum": 65535,
                "description": "TLS port (default: the URL's port, else 443).",
            },
            "check_hsts": {
                "type": "boolean",
                "default": True,
                "description": "Also fetch / over HTTPS and check the HSTS header.",
            },
            "slow_connection": {
                "type": "boolean",
                "default": False,
                "description": "Fewer parallel connections, for fragile or rate-limited servers.",
            },
        },
    }

    def parse_version(self, output: str) -> str:
        match = re.search(r"SSLyze version (\d+\.\d+(?:\.\d+)?)", output)
        return match.group(1) if match else super().parse_version(output)

    def build_command(self, ctx: ScanContext) -> Command:
        overrides = ctx.overrides
        host, port = tls_endpoint(ctx.target, ctx.target_type, overrides.get("port"))
        output = ctx.output_dir / "sslyze.json"
        argv = [ctx.binary, f"--json_out={output}", "--quiet", *SCAN_COMMANDS]
        if overrides.get("check_hsts", True):
            argv.append("--http_headers")
        if overrides.get("slow_connection"):
            argv.append("--slow_connection")
        argv += ["--mozilla_config=intermediate", "--", sslyze_server_string(host, port)]
        return Command(argv=argv, cwd=ctx.workspace, output_path=output)

    def interpret(self, exit_code: int, output_path: Path, stderr: str) -> Outcome:
        # 0 = compliant (or unreachable!), 1 = not compliant with the Mozilla profile.
        if exit_code not in (0, 1):
            return Outcome(False, f"sslyze exited {exit_code}: {_last_line(stderr)}")
        try:
            with output_path.open("rb") as stream:
                report = load_json(stream, self.max_report_bytes)
        except (OSError, ParseError):
            return Outcome(False, f"sslyze wrote no report: {_last_line(stderr)}")
        if not isinstance(report, dict):
            return Outcome(False, "sslyze report is not an object")
        invalid = report.get("invalid_server_strings")
        if isinstance(invalid, list) and invalid:
            first = invalid[0] if isinstance(invalid[0], dict) else {}
            return Outcome(
                False, f"sslyze refused the target: {as_text(first.get('error_message'), 300)}"
            )
        results = report.get("server_scan_results")
        if not isinstance(results, list) or not results:
            return Outcome(False, "sslyze report has no server results")
        for result in results:
            if not isinstance(result, dict):
                return Outcome(False, "sslyze server result is not an object")
            if result.get("connectivity_status") != "COMPLETED":
                trace = as_text(result.get("connectivity_error_trace"), 50_000)
                return Outcome(False, f"sslyze could not connect: {_last_line(trace)}")
        return Outcome(True)

    def parse(self, stream: IO[bytes], *, workspace: Path | None = None):
        return parse_report(stream, max_bytes=self.max_report_bytes)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1][:500] if lines else "no error output"
