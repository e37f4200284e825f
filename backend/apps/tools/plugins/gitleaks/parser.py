"""Parser of Gitleaks' JSON report (`gitleaks detect --report-format json`, gitleaks v8).

The report is a list of findings. Gitleaks gives no severity: every finding is a hard-coded
credential (CWE-798) and recorded as `high`. The secret itself never reaches a FindingData: it
is hashed with `hash_secret` (the fingerprint uses the hash, so a moved or re-indented secret is
the same finding) and replaced by a marker in every text that is kept (match, line, message).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from apps.tools.plugins.base import (
    REDACTED,
    FindingData,
    ParseError,
    Severity,
    as_int,
    as_list,
    as_text,
    expect,
    hash_secret,
    load_json,
    relative_path,
    url_list,
)

SEVERITY = Severity.HIGH
CWE_HARD_CODED_CREDENTIALS = 798
#: What gitleaks writes instead of the secret with --redact.
GITLEAKS_REDACTED = {"REDACTED", "REDACT"}
MAX_FINDINGS = 100_000


def parse_report(
    stream: IO[bytes], *, workspace: Path | None = None, max_bytes: int
) -> Iterator[FindingData]:
    report = expect(load_json(stream, max_bytes), list, "gitleaks report")
    if len(report) > MAX_FINDINGS:
        raise ParseError(f"gitleaks report has more than {MAX_FINDINGS} findings")
    return (_finding(expect(item, dict, "gitleaks finding"), workspace) for item in report)


def _finding(item: dict, workspace: Path | None) -> FindingData:
    rule_id = as_text(item.get("RuleID"), 200)
    if not rule_id:
        raise ParseError("gitleaks finding without a RuleID")
    secret = _secret_text(item.get("Secret"))
    known = bool(secret) and secret not in GITLEAKS_REDACTED
    description = as_text(item.get("Description"), 1000)
    file_path = relative_path(item.get("File"), workspace)
    match = _clean(item.get("Match"), secret if known else "", 2000)
    line = _clean(item.get("Line"), secret if known else "", 2000)
    start = as_int(item.get("StartLine"))
    end = as_int(item.get("EndLine"))
    commit = as_text(item.get("Commit"), 80)
    title = description or rule_id
    return FindingData(
        title=f"{title} in {file_path}"[:300] if file_path else title[:300],
        severity=SEVERITY,
        rule_id=rule_id,
        description=(
            f"{description or rule_id}: hard-coded credential in "
            f"{file_path or 'the scanned tree'}{f' (commit {commit})' if commit else ''}. "
            "Rotate it, then remove it from the code and its history."
        ),
        cwe=CWE_HARD_CODED_CREDENTIALS,
        file_path=file_path,
        line_start=start,
        line_end=end if end is not None else start,
        code_snippet=(line or match)[:2000],
        remediation="Revoke and rotate the secret; load it from the environment or a vault "
        "store instead of the code.",
        references=url_list(item.get("Link")),
        secret_hash=hash_secret(secret) if known else "",
        extra=_extra(item, secret if known else ""),
    )


def _extra(item: dict, secret: str) -> dict[str, Any]:
    return {
        "commit": as_text(item.get("Commit"), 80),
        "author": as_text(item.get("Author"), 200),
        "date": as_text(item.get("Date"), 50),
        "message": _clean(item.get("Message"), secret, 1000),
        "tags": [t[:100] for t in as_list(item.get("Tags")) if isinstance(t, str)][:20],
        "entropy": item.get("Entropy") if isinstance(item.get("Entropy"), (int, float)) else None,
        "start_column": as_int(item.get("StartColumn")),
        "end_column": as_int(item.get("EndColumn")),
        "gitleaks_fingerprint": _clean(item.get("Fingerprint"), secret, 500),
    }


def _secret_text(value: Any) -> str:
    """The secret as it appears in the scanned text. Gitleaks writes a string; a number is read
    in its JSON form (123 -> "123"), so it is redacted and hashed like the string would be.
    Anything else (null, true, a list) is no usable secret."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return json.dumps(value)
    return ""


def _clean(value: Any, secret: str, limit: int) -> str:
    """A text field with the secret replaced by a marker, before it is shortened (a cut in the
    middle of the secret would otherwise leave part of it)."""
    if isinstance(value, str) and secret:
        value = value.replace(secret, REDACTED)
    return as_text(value, limit)


__all__ = ["parse_report"]
