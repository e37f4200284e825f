"""Parser of Bandit's JSON report (`bandit -f json`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from apps.tools.plugins.base import (
    REDACTED,
    Confidence,
    FindingData,
    ParseError,
    Severity,
    as_int,
    as_list,
    as_text,
    expect,
    hash_secret,
    load_json,
    parse_cwe,
    relative_path,
    severity_from,
    url_list,
)

SEVERITY = {
    "HIGH": Severity.HIGH,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
    "UNDEFINED": Severity.INFO,
}
CONFIDENCE = {"HIGH": Confidence.HIGH, "MEDIUM": Confidence.MEDIUM, "LOW": Confidence.LOW}
# Hard-coded password tests put the literal in issue_text and code: hash and redact it.
PASSWORD_TESTS = {"B105", "B106", "B107"}
_PASSWORD_RE = re.compile(r"Possible hardcoded password: '(?P<secret>.*)'\s*$", re.DOTALL)
_CODE_LINE_RE = re.compile(r"^(\d+) ?(.*)$")


def parse_report(
    stream: IO[bytes], *, workspace: Path | None = None, max_bytes: int
) -> Iterator[FindingData]:
    report = expect(load_json(stream, max_bytes), dict, "bandit report")
    if "results" not in report:
        raise ParseError("bandit report has no results list")
    results = expect(report.get("results"), list, "bandit results")
    return (_finding(item, workspace) for item in results)


def _finding(item, workspace: Path | None) -> FindingData:
    item = expect(item, dict, "bandit result")
    rule_id = as_text(item.get("test_id"))
    line_start = as_int(item.get("line_number"))
    line_range = [n for n in as_list(item.get("line_range")) if isinstance(n, int)]
    line_end = max(line_range) if line_range else line_start
    title = as_text(item.get("issue_text"), 1000)
    snippet = _flagged_lines(as_text(item.get("code")), line_start, line_end)
    secret_hash = ""
    if rule_id in PASSWORD_TESTS:
        match = _PASSWORD_RE.search(title)
        if match and match.group("secret"):
            secret = match.group("secret")
            secret_hash = hash_secret(secret)
            title = title.replace(secret, REDACTED)
            snippet = snippet.replace(secret, REDACTED)
    cwe_info = item.get("issue_cwe")
    test_name = as_text(item.get("test_name"))
    return FindingData(
        title=title[:300] or test_name or rule_id,
        severity=severity_from(SEVERITY, item.get("issue_severity"), Severity.MEDIUM),
        confidence=severity_from(CONFIDENCE, item.get("issue_confidence"), Confidence.UNKNOWN),
        rule_id=rule_id,
        description=f"{test_name}: {title}" if test_name else title,
        cwe=parse_cwe(cwe_info),
        file_path=relative_path(item.get("filename"), workspace),
        line_start=line_start,
        line_end=line_end,
        code_snippet=snippet,
        references=url_list(
            [item.get("more_info"), cwe_info.get("link") if isinstance(cwe_info, dict) else None]
        ),
        secret_hash=secret_hash,
        extra={
            "test_name": test_name,
            "col_offset": as_int(item.get("col_offset")),
            "end_col_offset": as_int(item.get("end_col_offset")),
        },
    )


def _flagged_lines(code: str, start: int | None, end: int | None) -> str:
    """Bandit's `code` is "<n> <text>" lines with context around the issue: keep the issue's own
    lines, so inserting or editing neighbouring lines does not change the snippet."""
    kept = []
    for line in code.splitlines():
        match = _CODE_LINE_RE.match(line)
        if not match:
            continue
        number = int(match.group(1))
        if start is None or start <= number <= (end or start):
            kept.append(match.group(2))
    return "\n".join(kept).rstrip()
