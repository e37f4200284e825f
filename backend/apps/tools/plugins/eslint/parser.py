"""Parser of ESLint's JSON report (`eslint -f json`): one entry per file with its messages.

Every rule runs as a warning in SecuLite's config, so the severity comes from the table below,
not from ESLint. Fatal parse errors (no ruleId) are not findings.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO

from apps.tools.plugins.base import (
    Confidence,
    FindingData,
    ParseError,
    Severity,
    SourceLines,
    as_int,
    as_text,
    expect,
    load_json,
    optional,
    relative_path,
)

H, M, L = Severity.HIGH, Severity.MEDIUM, Severity.LOW
#: rule -> (severity, confidence, CWE)
RULES: dict[str, tuple[Severity, Confidence, int | None]] = {
    "security/detect-eval-with-expression": (H, Confidence.MEDIUM, 95),
    "security/detect-child-process": (H, Confidence.MEDIUM, 78),
    "security/detect-non-literal-fs-filename": (M, Confidence.LOW, 22),
    "security/detect-non-literal-require": (M, Confidence.LOW, 829),
    "security/detect-non-literal-regexp": (L, Confidence.LOW, 1333),
    "security/detect-unsafe-regex": (M, Confidence.MEDIUM, 1333),
    "security/detect-object-injection": (L, Confidence.LOW, 915),
    "security/detect-possible-timing-attacks": (L, Confidence.LOW, 208),
    "security/detect-pseudoRandomBytes": (M, Confidence.MEDIUM, 338),
    "security/detect-buffer-noassert": (M, Confidence.MEDIUM, 125),
    "security/detect-new-buffer": (M, Confidence.LOW, None),
    "security/detect-disable-mustache-escape": (H, Confidence.HIGH, 79),
    "security/detect-no-csrf-before-method-override": (M, Confidence.MEDIUM, 352),
    "security/detect-bidi-characters": (H, Confidence.HIGH, None),
    "no-implied-eval": (H, Confidence.MEDIUM, 95),
    "no-new-func": (M, Confidence.MEDIUM, 95),
    "no-script-url": (M, Confidence.MEDIUM, 79),
}
DEFAULT_RULE = (Severity.LOW, Confidence.UNKNOWN, None)
PLUGIN_DOCS = "https://github.com/eslint-community/eslint-plugin-security/blob/main/docs/rules/"


def parse_report(
    stream: IO[bytes], *, workspace: Path | None = None, max_bytes: int
) -> Iterator[FindingData]:
    files = load_json(stream, max_bytes)
    if not isinstance(files, list):
        raise ParseError(f"eslint report: expected a list, got {type(files).__name__}")
    sources = SourceLines(workspace)
    for entry in files:
        entry = expect(entry, dict, "eslint file result")
        path = relative_path(entry.get("filePath"), workspace)
        source = entry.get("source")
        lines = source.splitlines() if isinstance(source, str) else None
        for message in optional(entry.get("messages"), list, f"eslint messages of {path}"):
            message = expect(message, dict, "eslint message")
            if not message.get("ruleId") or message.get("fatal"):
                continue
            yield _finding(message, path, lines, sources)


def _finding(message: dict, path: str, lines, sources: SourceLines) -> FindingData:
    rule_id = as_text(message.get("ruleId"))
    severity, confidence, cwe = RULES.get(rule_id, DEFAULT_RULE)
    line = as_int(message.get("line"))
    end_line = as_int(message.get("endLine")) or line
    if lines is not None and line:
        last = min(end_line or line, line + SourceLines.max_snippet_lines - 1, len(lines))
        snippet = "\n".join(text[:500] for text in lines[line - 1 : last])
    else:
        snippet = sources.snippet(path, line, end_line)
    if rule_id.startswith("security/"):
        reference = f"{PLUGIN_DOCS}{rule_id.removeprefix('security/')}.md"
    else:
        reference = f"https://eslint.org/docs/latest/rules/{rule_id}"
    text = as_text(message.get("message"))
    return FindingData(
        title=text[:200] or rule_id,
        severity=severity,
        confidence=confidence,
        rule_id=rule_id,
        description=text,
        cwe=cwe,
        file_path=path,
        line_start=line,
        line_end=end_line,
        code_snippet=snippet,
        references=[reference],
        extra={
            "column": as_int(message.get("column")),
            "end_column": as_int(message.get("endColumn")),
        },
    )
