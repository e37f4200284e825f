"""Parser of Semgrep's JSON report (`semgrep scan --json`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO

from apps.tools.plugins.base import (
    CREDENTIAL_CWES,
    Confidence,
    FindingData,
    ParseError,
    Severity,
    SourceLines,
    as_int,
    as_text,
    expect,
    hash_secret,
    load_json,
    optional,
    parse_cwe,
    redact_literals,
    relative_path,
    severity_from,
    url_list,
)

# Semgrep has two scales: the classic ERROR/WARNING/INFO and the newer CRITICAL..LOW.
SEVERITY = {
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "ERROR": Severity.HIGH,
    "MEDIUM": Severity.MEDIUM,
    "WARNING": Severity.MEDIUM,
    "LOW": Severity.LOW,
    "INFO": Severity.INFO,
}
CONFIDENCE = {"HIGH": Confidence.HIGH, "MEDIUM": Confidence.MEDIUM, "LOW": Confidence.LOW}
RULE_PREFIX = "seculite."
PLACEHOLDER_LINES = {"requires login", ""}


def short_rule_id(check_id: str) -> str:
    """Semgrep prefixes rule ids with the dotted folder of the rule file; ours start "seculite."."""
    marker = f".{RULE_PREFIX}"
    if marker in check_id:
        return check_id[check_id.index(marker) + 1 :]
    return check_id


def parse_report(
    stream: IO[bytes], *, workspace: Path | None = None, max_bytes: int
) -> Iterator[FindingData]:
    report = expect(load_json(stream, max_bytes), dict, "semgrep report")
    if "results" not in report:
        raise ParseError("semgrep report has no results list")
    results = expect(report.get("results"), list, "semgrep results")
    sources = SourceLines(workspace)
    return (_finding(item, workspace, sources) for item in results)


def _finding(item, workspace: Path | None, sources: SourceLines) -> FindingData:
    item = expect(item, dict, "semgrep result")
    extra = optional(item.get("extra"), dict, "semgrep result extra")
    metadata = extra.get("metadata") if isinstance(extra.get("metadata"), dict) else {}
    start = item.get("start") if isinstance(item.get("start"), dict) else {}
    end = item.get("end") if isinstance(item.get("end"), dict) else {}
    rule_id = short_rule_id(as_text(item.get("check_id")))
    path = relative_path(item.get("path"), workspace)
    line_start = as_int(start.get("line"))
    line_end = as_int(end.get("line")) or line_start
    snippet = sources.snippet(path, line_start, line_end)
    if not snippet and as_text(extra.get("lines")) not in PLACEHOLDER_LINES:
        snippet = as_text(extra.get("lines"), 5000)
    message = as_text(extra.get("message"))
    cwe_raw = metadata.get("cwe")
    cwe = parse_cwe(cwe_raw)
    secret_hash = ""
    if cwe in CREDENTIAL_CWES:
        snippet, secret = redact_literals(snippet)
        secret_hash = hash_secret(secret) if secret else ""
    cve = next((c for c in _strings(metadata.get("cve")) if c.upper().startswith("CVE-")), "")
    return FindingData(
        title=_first_sentence(message) or rule_id,
        severity=severity_from(SEVERITY, extra.get("severity"), Severity.MEDIUM),
        confidence=severity_from(CONFIDENCE, metadata.get("confidence"), Confidence.UNKNOWN),
        rule_id=rule_id,
        description=message,
        cwe=cwe,
        cve=cve,
        file_path=path,
        line_start=line_start,
        line_end=line_end,
        code_snippet=snippet,
        remediation=as_text(extra.get("fix")),
        references=url_list(metadata.get("references")),
        secret_hash=secret_hash,
        extra={
            "cwe_names": _strings(cwe_raw),
            "category": as_text(metadata.get("category")),
            "column_start": as_int(start.get("col")),
            "column_end": as_int(end.get("col")),
        },
    )


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _first_sentence(text: str) -> str:
    sentence = text.split(". ", 1)[0].strip().rstrip(".")
    return sentence[:200]
