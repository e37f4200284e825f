"""Parser of ShellCheck's json1 report (`shellcheck -f json1`): {"comments": [...]}.

ShellCheck rates correctness, not exploitability: error -> medium, warning -> low, info and style
-> info. Word splitting of unquoted variables (SC2086 & co.) can inject arguments or globs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO

from apps.tools.plugins.base import (
    FindingData,
    ParseError,
    Severity,
    SourceLines,
    as_int,
    as_text,
    expect,
    load_json,
    relative_path,
    severity_from,
)

LEVELS = {
    "ERROR": Severity.MEDIUM,
    "WARNING": Severity.LOW,
    "INFO": Severity.INFO,
    "STYLE": Severity.INFO,
}
#: Codes whose finding is an injection risk rather than style: (severity, CWE).
SECURITY_CODES = {
    2086: (Severity.LOW, 88),  # unquoted variable: word splitting / globbing
    2046: (Severity.LOW, 88),  # unquoted command substitution
    2115: (Severity.MEDIUM, 73),  # rm -rf "$VAR/" with VAR possibly empty
    2216: (Severity.LOW, 88),
}


def parse_report(
    stream: IO[bytes], *, workspace: Path | None = None, max_bytes: int
) -> Iterator[FindingData]:
    report = load_json(stream, max_bytes)
    if not isinstance(report, dict) or "comments" not in report:
        raise ParseError("shellcheck json1 report has no comments list")
    comments = expect(report["comments"], list, "shellcheck comments")
    sources = SourceLines(workspace)
    return (_finding(expect(c, dict, "shellcheck comment"), workspace, sources) for c in comments)


def _finding(comment: dict, workspace: Path | None, sources: SourceLines) -> FindingData:
    code = as_int(comment.get("code"))
    if code is None:
        raise ParseError("shellcheck comment without a numeric code")
    rule_id = f"SC{code}"
    path = relative_path(comment.get("file"), workspace)
    line = as_int(comment.get("line"))
    end_line = as_int(comment.get("endLine")) or line
    message = as_text(comment.get("message"))
    severity = severity_from(LEVELS, comment.get("level"), Severity.LOW)
    cwe = None
    if code in SECURITY_CODES:
        severity, cwe = SECURITY_CODES[code]
    return FindingData(
        title=message[:200] or rule_id,
        severity=severity,
        rule_id=rule_id,
        description=message,
        cwe=cwe,
        file_path=path,
        line_start=line,
        line_end=end_line,
        code_snippet=sources.snippet(path, line, end_line),
        references=[f"https://www.shellcheck.net/wiki/{rule_id}"],
        extra={
            "level": as_text(comment.get("level")),
            "column": as_int(comment.get("column")),
            "end_column": as_int(comment.get("endColumn")),
            "has_fix": isinstance(comment.get("fix"), dict),
        },
    )
