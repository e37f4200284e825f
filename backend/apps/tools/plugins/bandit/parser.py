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
_SEVERITY_WORDS, _CONFIDENCE_WORDS = tuple(SEVERITY), tuple(CONFIDENCE)
_DEFAULT_SEVERITY, _DEFAULT_CONFIDENCE = Severity.MEDIUM, Confidence.UNKNOWN
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
    # Runs once per issue, and a report may hold a million: the usual values skip the helpers.
    if type(item) is not dict:
        item = expect(item, dict, "bandit result")
    get = item.get
    rule_id = as_text(get("test_id"))
    line_start = as_int(get("line_number"))
    line_range = [n for n in as_list(get("line_range")) if isinstance(n, int)]
    line_end = max(line_range) if line_range else line_start
    title = as_text(get("issue_text"), 1000)
    snippet = _flagged_lines(as_text(get("code")), line_start, line_end)
    secret_hash = ""
    if rule_id in PASSWORD_TESTS:
        match = _PASSWORD_RE.search(title)
        if match and match.group("secret"):
            secret = match.group("secret")
            secret_hash = hash_secret(secret)
            title = title.replace(secret, REDACTED)
            snippet = snippet.replace(secret, REDACTED)
    cwe, cwe_link = get("issue_cwe"), None
    if isinstance(cwe, dict):
        cwe, cwe_link = cwe.get("id"), cwe.get("link")
    test_name = as_text(get("test_name"))
    severity, confidence = get("issue_severity"), get("issue_confidence")
    return FindingData(
        title=title[:300] or test_name or rule_id,
        # Bandit's own words as they are (`in` a tuple: an unhashable value is just not there).
        severity=SEVERITY[severity]
        if severity in _SEVERITY_WORDS
        else severity_from(SEVERITY, severity, _DEFAULT_SEVERITY),
        confidence=CONFIDENCE[confidence]
        if confidence in _CONFIDENCE_WORDS
        else severity_from(CONFIDENCE, confidence, _DEFAULT_CONFIDENCE),
        rule_id=rule_id,
        description=f"{test_name}: {title}" if test_name else title,
        cwe=parse_cwe(cwe),
        file_path=relative_path(get("filename"), workspace),
        line_start=line_start,
        line_end=line_end,
        code_snippet=snippet,
        references=url_list([get("more_info"), cwe_link]),
        secret_hash=secret_hash,
        extra={
            "test_name": test_name,
            "col_offset": as_int(get("col_offset")),
            "end_col_offset": as_int(get("end_col_offset")),
        },
    )


def _flagged_lines(code: str, start: int | None, end: int | None) -> str:
    """Bandit's `code` is "<n> <text>" lines with context around the issue: keep the issue's own
    lines, so inserting or editing neighbouring lines does not change the snippet."""
    last = end or start
    kept = []
    for line in code.splitlines():
        # "<digits> <text>" split by hand; anything else goes through the regex.
        digits, _, text = line.partition(" ")
        if not digits.isdecimal():
            match = _CODE_LINE_RE.match(line)
            if not match:
                continue
            digits, text = match.groups()
        if len(digits) > 9:  # no line number: int() of a huge one is slow, past 4300 an error
            continue
        number = int(digits)
        if start is None or start <= number <= last:
            kept.append(text)
    return "\n".join(kept).rstrip()
