"""Parser of Nmap's XML report (`nmap -oX`), read with defusedxml.

Nmap's own XML starts with a bare `<!DOCTYPE nmaprun>`; that exact declaration is removed and
the rest is parsed with DTDs, entities and external references forbidden, so a tampered report
cannot expand entities or reach files.

One finding per open port. Severity, explicitly: an open port is `info`; services that should
rarely face a network are raised (see RISKY_SERVICES): unauthenticated-by-default stores and
remote shells are `high`, cleartext or administrative protocols and databases `medium`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from apps.tools.plugins.base import (
    Confidence,
    FindingData,
    ParseError,
    Severity,
    as_int,
    read_report,
)

NMAP_DOCTYPE = b"<!DOCTYPE nmaprun>"
MAX_HOSTS = 4096
MAX_PORTS_PER_HOST = 65536 * 2

_HIGH = "Exposes a service that commonly runs without authentication or sends credentials in clear."
_MEDIUM = "Exposes a service that should usually be reachable from trusted networks only."
#: nmap service name -> (severity, CWE, why it matters)
RISKY_SERVICES: dict[str, tuple[Severity, int | None, str]] = {
    "telnet": (Severity.HIGH, 319, _HIGH),
    "login": (Severity.HIGH, 319, _HIGH),  # rlogin
    "shell": (Severity.HIGH, 319, _HIGH),  # rsh
    "exec": (Severity.HIGH, 319, _HIGH),  # rexec
    "redis": (Severity.HIGH, 306, _HIGH),
    "mongodb": (Severity.HIGH, 306, _HIGH),
    "memcached": (Severity.HIGH, 306, _HIGH),
    "docker": (Severity.HIGH, 306, _HIGH),
    "elasticsearch": (Severity.HIGH, 306, _HIGH),
    "tftp": (Severity.HIGH, 306, _HIGH),
    "ftp": (Severity.MEDIUM, 319, _MEDIUM),
    "vnc": (Severity.MEDIUM, None, _MEDIUM),
    "ms-wbt-server": (Severity.MEDIUM, None, _MEDIUM),  # RDP
    "microsoft-ds": (Severity.MEDIUM, None, _MEDIUM),  # SMB
    "netbios-ssn": (Severity.MEDIUM, None, _MEDIUM),
    "msrpc": (Severity.MEDIUM, None, _MEDIUM),
    "rpcbind": (Severity.MEDIUM, None, _MEDIUM),
    "nfs": (Severity.MEDIUM, None, _MEDIUM),
    "snmp": (Severity.MEDIUM, None, _MEDIUM),
    "ldap": (Severity.MEDIUM, None, _MEDIUM),
    "mysql": (Severity.MEDIUM, None, _MEDIUM),
    "postgresql": (Severity.MEDIUM, None, _MEDIUM),
    "ms-sql-s": (Severity.MEDIUM, None, _MEDIUM),
    "oracle-tns": (Severity.MEDIUM, None, _MEDIUM),
    "couchdb": (Severity.MEDIUM, None, _MEDIUM),
}
#: nmap's service-detection confidence (0-10) onto SecuLite's scale.
CONFIDENCE = {10: Confidence.HIGH, 8: Confidence.HIGH, 7: Confidence.MEDIUM, 5: Confidence.MEDIUM}


def load_nmap_xml(stream: IO[bytes], max_bytes: int) -> Element:
    """The `<nmaprun>` root of a report; ParseError for anything else or any DTD/entity."""
    data = read_report(stream, max_bytes)
    if not data.strip():
        raise ParseError("report is empty")
    data = data.replace(NMAP_DOCTYPE, b"", 1)
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ParseError(f"nmap report refused: {type(exc).__name__}") from exc
    except SafeET.ParseError as exc:
        raise ParseError(f"nmap report is not well-formed XML: {exc}") from exc
    if root.tag != "nmaprun":
        raise ParseError(f"not an nmap report (root element <{root.tag[:50]}>)")
    return root


def scan_summary(root: Element) -> dict[str, Any]:
    """`runstats`: how the run ended and how many hosts were up."""
    finished = root.find("runstats/finished")
    hosts = root.find("runstats/hosts")
    return {
        "exit": finished.get("exit", "") if finished is not None else "",
        "errormsg": (finished.get("errormsg", "") if finished is not None else "")[:500],
        "up": (as_int(hosts.get("up")) or 0) if hosts is not None else 0,
        "total": (as_int(hosts.get("total")) or 0) if hosts is not None else 0,
    }


def parse_report(stream: IO[bytes], *, max_bytes: int, **_) -> Iterator[FindingData]:
    root = load_nmap_xml(stream, max_bytes)
    if root.find("runstats/finished") is None:
        raise ParseError("nmap report is truncated (no runstats)")
    hosts = root.findall("host")
    if len(hosts) > MAX_HOSTS:
        raise ParseError(f"nmap report has more than {MAX_HOSTS} hosts")
    for host in hosts:
        yield from _host_findings(host)


def _host_findings(host: Element) -> Iterator[FindingData]:
    status = host.find("status")
    if status is not None and status.get("state") not in (None, "up"):
        return
    address = _address(host)
    if not address:
        raise ParseError("nmap host without an address")
    names = [h.get("name", "")[:253] for h in host.findall("hostnames/hostname") if h.get("name")]
    # The name the scan was asked for (type "user") identifies the host better than its
    # current address, which DNS may change between scans.
    given = [
        h.get("name", "")[:253]
        for h in host.findall("hostnames/hostname")
        if h.get("type") == "user" and h.get("name")
    ]
    ports = host.findall("ports/port")
    if len(ports) > MAX_PORTS_PER_HOST:
        raise ParseError("nmap host with too many ports")
    for port in ports:
        state = port.find("state")
        if state is None or state.get("state") != "open":
            continue
        number = as_int(port.get("portid"))
        protocol = (port.get("protocol") or "").lower()
        if number is None or not 0 < number <= 65535 or protocol not in ("tcp", "udp", "sctp"):
            raise ParseError(f"nmap port with a bad id or protocol on {address}")
        yield _finding(
            given[0] if given else address,
            address,
            names,
            number,
            protocol,
            state,
            port.find("service"),
        )


def _address(host: Element) -> str:
    addresses = host.findall("address")
    for kind in ("ipv4", "ipv6"):
        for element in addresses:
            if element.get("addrtype") == kind and element.get("addr"):
                return element.get("addr", "")[:64]
    return ""


def _finding(
    host: str,
    address: str,
    hostnames: list[str],
    number: int,
    protocol: str,
    state: Element,
    service: Element | None,
) -> FindingData:
    attrs = dict(service.attrib) if service is not None else {}
    name = attrs.get("name", "")[:100]
    tunnel = attrs.get("tunnel", "")[:20]
    product = attrs.get("product", "")[:200]
    version = attrs.get("version", "")[:100]
    extrainfo = attrs.get("extrainfo", "")[:200]
    cpe_elements = service.findall("cpe") if service is not None else []
    cpes = [c.text.strip()[:200] for c in cpe_elements if c.text]  # <cpe/> has no text
    cpes = [c for c in cpes if c]
    severity, cwe, why = RISKY_SERVICES.get(name, (Severity.INFO, None, ""))
    if tunnel == "ssl" and name in ("ftp", "telnet", "ldap"):
        severity, cwe = Severity.LOW, None  # the TLS-wrapped variants are not cleartext
    label = f"{tunnel}/{name}" if tunnel else name
    detail = " ".join(part for part in (product, version) if part)
    where = f"[{host}]" if ":" in host else host
    title = f"Open port {number}/{protocol}"
    if label:
        title += f": {label}"
    if detail:
        title += f" ({detail})"
    description = (
        f"Port {number}/{protocol} on {host} is open ({state.get('reason', '')})."
        + (f" Service: {label}." if label else "")
        + (f" Product: {detail}" + (f", {extrainfo}" if extrainfo else "") + "." if detail else "")
        + (f"\n\n{why}" if why else "")
    )
    method = attrs.get("method", "")
    conf = as_int(attrs.get("conf"))
    return FindingData(
        title=f"{title} on {where}"[:300],
        severity=severity,
        rule_id=f"open-port/{name or 'unknown'}",
        confidence=CONFIDENCE.get(conf, Confidence.LOW) if method == "probed" else Confidence.LOW,
        description=description,
        cwe=cwe,
        package_name=product,
        package_version=version,
        remediation="Close the port or restrict it to trusted networks if it need not be public."
        if severity != Severity.INFO
        else "",
        extra={
            "host": host,
            "address": address,
            "hostnames": hostnames[:20],
            "port": number,
            "protocol": protocol,
            "service": name,
            "tunnel": tunnel,
            "product": product,
            "version": version,
            "extrainfo": extrainfo,
            "cpe": cpes[:10],
            "detection": method,
            "reason": state.get("reason", "")[:50],
        },
    )


__all__ = ["RISKY_SERVICES", "load_nmap_xml", "parse_report", "scan_summary"]
