"""Nmap: open ports and service versions of a host (`ip_address` and `domain_name` targets).

Nmap comes from Debian (`apt-get install nmap`), not from `make tools`. It exits 0 even for a
target that does not resolve or is down: success is decided from the XML report
(`runstats/finished[@exit="success"]` and at least one host up). It runs as an unprivileged
connect scan (`-sT --unprivileged`) so the worker needs no raw sockets, without reverse DNS
(`-n`), on a short port list by default, with light version detection.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import IO

from apps.tools.plugins.base import (
    Category,
    Command,
    Location,
    NothingToScan,
    Outcome,
    ParseError,
    ScanContext,
    ScannerPlugin,
    TargetType,
)

from .parser import load_nmap_xml, parse_report, scan_summary

#: Ports scanned unless the configuration says otherwise: common services and the ones most
#: often exposed by mistake (databases, caches, remote desktops, container APIs).
DEFAULT_PORTS = (
    "21,22,23,25,53,80,110,111,135,139,143,389,443,445,465,587,636,993,995,1433,1521,2049,"
    "2375,2376,3306,3389,5432,5900,5984,6379,8000,8080,8443,8888,9000,9200,11211,27017"
)
HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$"
)
PORT_SPEC_RE = r"^[0-9]{1,5}(-[0-9]{1,5})?$"


def scan_target(target: str, target_type: str) -> tuple[str, bool]:
    """(target, is_ipv6) for one host; NothingToScan for ranges, CIDRs or malformed names."""
    target = (target or "").strip()
    if target_type == TargetType.IP_ADDRESS:
        try:
            address = ipaddress.ip_address(target)
        except ValueError as exc:
            raise NothingToScan(f"{target[:100]!r} is not a single IP address") from exc
        return str(address), address.version == 6
    if not HOSTNAME_RE.match(target) or target.replace(".", "").isdigit():
        raise NothingToScan(f"{target[:100]!r} is not a host name")
    return target, False


class NmapPlugin(ScannerPlugin):
    slug = "nmap"
    label = "Nmap"
    category = Category.DAST
    target_types = frozenset({TargetType.IP_ADDRESS, TargetType.DOMAIN_NAME})
    output_format = "xml"
    binary = "nmap"
    fingerprint_fields = ("extra.host", "extra.protocol", "extra.port", "extra.service")
    default_timeout = 1800
    max_report_bytes = 64 * 1024 * 1024
    overrides_schema = {
        "type": "object",
        "additionalProperties": False,
        "not": {"required": ["ports", "top_ports"]},
        "properties": {
            "ports": {
                "type": "array",
                "description": 'Ports or ranges to scan, e.g. ["22", "8000-8100"] '
                "(default: a short list of common and risky services).",
                "items": {"type": "string", "pattern": PORT_SPEC_RE},
                "minItems": 1,
                "maxItems": 200,
                "uniqueItems": True,
            },
            "top_ports": {
                "type": "integer",
                "minimum": 1,
                "maximum": 1000,
                "description": "Scan nmap's N most common ports instead of a list.",
            },
            "service_detection": {
                "type": "boolean",
                "default": True,
                "description": "Probe open ports for the service and its version (-sV).",
            },
            "skip_host_discovery": {
                "type": "boolean",
                "default": False,
                "description": "Scan even if the host does not answer discovery probes (-Pn).",
            },
            "timing": {
                "enum": [2, 3, 4],
                "description": "Timing template: 2 polite, 3 normal, 4 aggressive (default 4).",
            },
        },
    }

    def locate(self) -> Location:
        location = super().locate()
        if location.available:
            return location
        return Location(
            reason="nmap not found on PATH: install Debian's nmap package (apt-get install "
            "nmap); `make tools` installs only the Python and npm scanners"
        )

    def build_command(self, ctx: ScanContext) -> Command:
        target, ipv6 = scan_target(ctx.target, ctx.target_type)
        overrides = ctx.overrides
        output = ctx.output_dir / "nmap.xml"
        argv = [
            ctx.binary,
            "-n",
            "-sT",
            "--unprivileged",
            f"-T{overrides.get('timing', 4)}",
            "--max-retries=2",
            "--host-timeout=20m",
            "-oX",
            str(output),
        ]
        if ipv6:
            argv.append("-6")
        if "top_ports" in overrides:
            argv.append(f"--top-ports={overrides['top_ports']}")
        else:
            ports = overrides.get("ports")
            for spec in ports or ():
                low, _, high = spec.partition("-")
                if not 0 < int(low) <= int(high or low) <= 65535:
                    raise NothingToScan(f"invalid port range {spec!r}")
            argv.append(f"-p{','.join(ports) if ports else DEFAULT_PORTS}")
        if overrides.get("service_detection", True):
            argv += ["-sV", "--version-light"]
        if overrides.get("skip_host_discovery"):
            argv.append("-Pn")
        argv += ["--", target]
        return Command(argv=argv, cwd=ctx.workspace, output_path=output)

    def interpret(self, exit_code: int, output_path: Path, stderr: str) -> Outcome:
        if exit_code != 0:
            return Outcome(False, f"nmap exited {exit_code}: {_last_line(stderr)}")
        try:
            with output_path.open("rb") as stream:
                root = load_nmap_xml(stream, self.max_report_bytes)
        except (OSError, ParseError) as exc:
            return Outcome(False, f"nmap report unreadable: {exc}")
        summary = scan_summary(root)
        if summary["exit"] != "success":
            reason = summary["errormsg"] or _last_line(stderr)
            return Outcome(False, f"nmap did not finish: {reason}")
        if summary["total"] == 0:
            return Outcome(False, f"nmap scanned no host: {_last_line(stderr)}")
        if summary["up"] == 0:
            return Outcome(
                False,
                "the host seems down (no answer to discovery probes); "
                "set skip_host_discovery if it blocks them",
            )
        return Outcome(True)

    def parse(self, stream: IO[bytes], *, workspace: Path | None = None):
        return parse_report(stream, max_bytes=self.max_report_bytes)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1][:500] if lines else "no error output"
