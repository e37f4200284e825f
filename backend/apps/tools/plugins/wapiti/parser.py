"""Parser of Wapiti's JSON report (`wapiti -f json`, wapiti 3.x).

The report groups items by category name under `vulnerabilities`, `anomalies` and
`additionals`; `classifications` holds each category's description, solution and references
(whose titles carry the CWE). Each item has a `level` on wapiti's own scale, mapped explicitly:
4 critical, 3 high, 2 medium, 1 low, 0 info.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO
from urllib.parse import urljoin

from apps.tools.plugins.base import (
    FindingData,
    ParseError,
    Severity,
    as_int,
    as_list,
    as_text,
    expect,
    load_json,
    parse_cwe,
    stable_url_path,
    url_list,
)

LEVELS = {
    4: Severity.CRITICAL,
    3: Severity.HIGH,
    2: Severity.MEDIUM,
    1: Severity.LOW,
    0: Severity.INFO,
}
#: Severity of an item without a usable level, per section.
SECTION_DEFAULTS = {
    "vulnerabilities": Severity.MEDIUM,
    "anomalies": Severity.LOW,
    "additionals": Severity.INFO,
}
MAX_ITEMS = 10_000
MAX_REQUEST_CHARS = 4000


def parse_report(stream: IO[bytes], *, max_bytes: int, **_) -> Iterator[FindingData]:
    report = expect(load_json(stream, max_bytes), dict, "wapiti report")
    infos = expect(report.get("infos"), dict, "wapiti infos")
    if "vulnerabilities" not in report:
        raise ParseError("wapiti report has no vulnerabilities section")
    target = as_text(infos.get("target"), 2048)
    classifications = report.get("classifications")
    classifications = classifications if isinstance(classifications, dict) else {}
    count = 0
    for section, default in SECTION_DEFAULTS.items():
        if section not in report and section != "vulnerabilities":
            continue
        # Wapiti writes every section as an object, empty when clean: a null one is not a clean
        # run (it would resolve every open finding).
        groups = expect(report[section], dict, f"wapiti {section}")
        for category, items in groups.items():
            info = classifications.get(category)
            info = info if isinstance(info, dict) else {}
            for item in expect(items, list, f"wapiti {section}.{category}"):
                count += 1
                if count > MAX_ITEMS:
                    raise ParseError(f"wapiti report has more than {MAX_ITEMS} items")
                item = expect(item, dict, f"wapiti {section}.{category} item")
                yield _finding(item, str(category), section, default, info, target)


def _finding(
    item: dict, category: str, section: str, default: Severity, info: dict, target: str
) -> FindingData:
    level = as_int(item.get("level"))
    severity = LEVELS.get(level, default) if level is not None else default
    path = as_text(item.get("path"), 2048)
    url = _absolute(target, path)
    parameter = as_text(item.get("parameter"), 500)
    message = as_text(item.get("info"), 2000)
    refs = info.get("ref")
    ref_titles = list(refs) if isinstance(refs, dict) else []
    ref_urls = list(refs.values()) if isinstance(refs, dict) else []
    wstg = [w for w in as_list(item.get("wstg")) if isinstance(w, str)]
    description = as_text(info.get("desc"))
    if message:
        description = f"{message}\n\n{description}" if description else message
    return FindingData(
        title=f"{category}: {message}"[:300] if message else category[:300],
        severity=severity,
        rule_id=category[:200],
        description=description,
        cwe=parse_cwe(ref_titles),
        url=url,
        parameter=parameter,
        remediation=as_text(info.get("sol")),
        references=url_list(ref_urls),
        code_snippet=as_text(item.get("http_request"), MAX_REQUEST_CHARS),
        extra={
            "section": section,
            "module": as_text(item.get("module"), 100),
            "method": as_text(item.get("method"), 20).upper(),
            "url_path": stable_url_path(url) if url else "",
            "wstg": wstg[:20],
            "curl_command": as_text(item.get("curl_command"), MAX_REQUEST_CHARS),
            "level": level,
        },
    )


def _absolute(target: str, path: str) -> str:
    if path.startswith(("http://", "https://")):
        return path
    if not target:
        return path
    try:
        return urljoin(target, path) if path else target
    except ValueError:  # a target urllib cannot parse ("http://[::1/"): keep the path as written
        return path or target


__all__ = ["LEVELS", "parse_report"]
