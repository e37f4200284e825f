"""Parser of ZAP's traditional JSON report (`zap-baseline.py -J`, `zap.core.jsonreport()`).

`site[]` holds the scanned sites, each with `alerts[]`; an alert has the rule (`pluginid`, and
since ZAP 2.10 `alertRef`, which tells apart the variants of one rule), its risk and confidence
codes, HTML-formatted description, solution and references, and `instances[]` (URI, method,
parameter, evidence). One finding per distinct (rule, method, URL, parameter).

Severity from `riskcode`, explicitly: 3 high, 2 medium, 1 low, 0 info. Confidence from
`confidence`: 4 (user confirmed) and 3 high, 2 medium, 1 low; 0 means the alert was marked a
false positive in ZAP, and such alerts are dropped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import IO, Any

from apps.tools.plugins.base import (
    Confidence,
    FindingData,
    ParseError,
    Severity,
    as_int,
    as_text,
    expect,
    load_json,
    optional,
    parse_cwe,
    stable_url_path,
    web_target,
)

RISK = {3: Severity.HIGH, 2: Severity.MEDIUM, 1: Severity.LOW, 0: Severity.INFO}
CONFIDENCE = {4: Confidence.HIGH, 3: Confidence.HIGH, 2: Confidence.MEDIUM, 1: Confidence.LOW}
FALSE_POSITIVE = 0
MAX_INSTANCES_PER_ALERT = 1000
MAX_FINDINGS = 50_000
_TAG_RE = re.compile(r"<[^>]{0,2000}>")
_PARAGRAPH_RE = re.compile(r"</p>\s*<p>|<br\s*/?>", re.IGNORECASE)
_URL_RE = re.compile(r"https?://[^\s<>\"']+")


def validate_url(target: str) -> str:
    """An http(s) URL with a host, else NothingToScan (zap-baseline.py takes nothing else)."""
    web_target(target, "ZAP")
    return target


def parse_report(stream: IO[bytes], *, max_bytes: int, **_) -> Iterator[FindingData]:
    report = expect(load_json(stream, max_bytes), dict, "ZAP report")
    if "site" not in report:
        raise ParseError("ZAP report has no site list")
    sites = report["site"]
    if isinstance(sites, dict):  # one site is sometimes an object, not a list
        sites = [sites]
    sites = expect(sites, list, "ZAP site")
    if not sites:
        # A clean run still names its site (with no alerts); no site at all scanned nothing.
        raise ParseError("ZAP report names no scanned site")
    seen: set[tuple[str, str, str, str]] = set()
    for site in sites:
        site = expect(site, dict, "ZAP site entry")
        name = as_text(site.get("@name"), 2048)
        for alert in optional(site.get("alerts"), list, f"ZAP alerts of {name}"):
            alert = expect(alert, dict, "ZAP alert")
            for finding in _alert_findings(alert, name):
                key = (
                    finding.rule_id,
                    finding.extra["method"],
                    finding.extra["url_path"],
                    finding.parameter,
                )
                if key in seen:  # the same alert on the same path and parameter
                    continue
                seen.add(key)
                if len(seen) > MAX_FINDINGS:
                    raise ParseError(f"ZAP report has more than {MAX_FINDINGS} findings")
                yield finding


def _alert_findings(alert: dict, site: str) -> Iterator[FindingData]:
    plugin_id = as_text(alert.get("pluginid"), 50)
    rule_id = as_text(alert.get("alertRef"), 50) or plugin_id
    if not rule_id:
        raise ParseError("ZAP alert without pluginid or alertRef")
    confidence = as_int(alert.get("confidence"))
    if confidence == FALSE_POSITIVE:
        return
    risk = as_int(alert.get("riskcode"))
    name = as_text(alert.get("name") or alert.get("alert"), 300) or rule_id
    instances = optional(alert.get("instances"), list, f"ZAP instances of {rule_id}")
    if not instances:
        instances = [{"uri": site}]
    common = {
        "title": name,
        "severity": RISK.get(risk, Severity.INFO) if risk is not None else Severity.INFO,
        "rule_id": rule_id,
        "confidence": CONFIDENCE.get(confidence, Confidence.UNKNOWN),
        "description": _text(alert.get("desc")),
        "cwe": parse_cwe(alert.get("cweid")),
        "remediation": _text(alert.get("solution")),
        "references": _references(alert.get("reference")),
    }
    for instance in instances[:MAX_INSTANCES_PER_ALERT]:
        instance = expect(instance, dict, f"ZAP instance of {rule_id}")
        uri = as_text(instance.get("uri"), 2048) or site
        evidence = as_text(instance.get("evidence"), 2000)
        yield FindingData(
            **common,
            url=uri,
            parameter=as_text(instance.get("param"), 500),
            code_snippet=evidence,
            extra={
                "plugin_id": plugin_id,
                "site": site,
                "method": as_text(instance.get("method"), 20).upper() or "GET",
                "url_path": stable_url_path(uri),
                "attack": as_text(instance.get("attack"), 2000),
                "other_info": _text(instance.get("otherinfo") or alert.get("otherinfo")),
                "wasc_id": as_int(alert.get("wascid")),
                "risk_description": as_text(alert.get("riskdesc"), 100),
                "instance_count": as_int(alert.get("count")),
            },
        )


def _text(value: Any) -> str:
    """ZAP's HTML fragments as plain text, paragraphs on their own lines."""
    text = as_text(value, 50_000)
    if not text:
        return ""
    text = _PARAGRAPH_RE.sub("\n", text)
    text = html.unescape(_TAG_RE.sub("", text))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())[:20_000]


def _references(value: Any) -> list[str]:
    text = html.unescape(as_text(value, 20_000))
    urls: list[str] = []
    for url in _URL_RE.findall(text):
        if url not in urls:
            urls.append(url)
        if len(urls) >= 20:
            break
    return urls


__all__ = ["RISK", "parse_report", "validate_url"]
