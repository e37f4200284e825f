"""Parser of hadolint's JSON report (`hadolint -f json`): a list of rule violations.

hadolint's levels rate Dockerfile hygiene, not exploitability: error -> medium, warning -> low,
info and style -> info; a few rules with a direct security impact are raised.
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
#: rule -> (severity, CWE) for rules that are about security rather than style.
SECURITY_RULES = {
    "DL3002": (Severity.MEDIUM, 250),  # last USER is root
    "DL3004": (Severity.MEDIUM, 250),  # sudo in RUN
    "DL3020": (Severity.LOW, 494),  # ADD instead of COPY (remote fetch without checksum)
    "DL3007": (Severity.LOW, 1104),  # image tag latest
    "DL3006": (Severity.LOW, 1104),  # image without tag
}


def parse_report(
    stream: IO[bytes], *, workspace: Path | None = None, max_bytes: int
) -> Iterator[FindingData]:
    items = load_json(stream, max_bytes)
    if not isinstance(items, list):
        raise ParseError(f"hadolint report: expected a list, got {type(items).__name__}")
    sources = SourceLines(workspace)
    return (_finding(expect(item, dict, "hadolint item"), workspace, sources) for item in items)


def _finding(item: dict, workspace: Path | None, sources: SourceLines) -> FindingData:
    code = as_text(item.get("code"))
    if not code:
        raise ParseError("hadolint item without a rule code")
    message = as_text(item.get("message"))
    path = relative_path(item.get("file"), workspace)
    line = as_int(item.get("line"))
    severity = severity_from(LEVELS, item.get("level"), Severity.LOW)
    cwe = None
    if code in SECURITY_RULES:
        severity, cwe = SECURITY_RULES[code]
    if code.startswith("SC"):
        reference = f"https://www.shellcheck.net/wiki/{code}"
    else:
        reference = f"https://github.com/hadolint/hadolint/wiki/{code}"
    return FindingData(
        title=message.splitlines()[0][:200] if message else code,
        severity=severity,
        rule_id=code,
        description=message,
        cwe=cwe,
        file_path=path,
        line_start=line,
        line_end=line,
        code_snippet=sources.snippet(path, line, line),
        references=[reference],
        extra={"level": as_text(item.get("level")), "column": as_int(item.get("column"))},
    )
