"""Parser of detect-secrets' JSON baseline (`detect-secrets scan`).

The report holds only a SHA-1 of each secret. The parser finds the secret on its line again
(the substring whose SHA-1 matches), records SHA-256 of it as `secret_hash` and puts the line in
the snippet with the secret replaced. The secret itself is never kept.
"""

from __future__ import annotations

import hashlib
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
    SourceLines,
    as_int,
    as_text,
    expect,
    hash_secret,
    load_json,
    relative_path,
)

H, M, L = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW
#: secret type -> (severity, confidence). Provider-specific detectors match a precise format;
#: keyword and entropy detectors guess.
SECRET_TYPES: dict[str, tuple[Severity, Confidence]] = {
    "AWS Access Key": (Severity.HIGH, H),
    "Private Key": (Severity.HIGH, H),
    "GitHub Token": (Severity.HIGH, H),
    "GitLab Token": (Severity.HIGH, H),
    "Slack Token": (Severity.HIGH, H),
    "Stripe Access Key": (Severity.HIGH, H),
    "OpenAI Token": (Severity.HIGH, H),
    "PyPI Token": (Severity.HIGH, H),
    "NPM tokens": (Severity.HIGH, H),
    "SendGrid API Key": (Severity.HIGH, H),
    "Twilio API Key": (Severity.HIGH, H),
    "Telegram Bot Token": (Severity.HIGH, H),
    "Discord Bot Token": (Severity.HIGH, H),
    "Mailchimp Access Key": (Severity.HIGH, H),
    "Square OAuth Secret": (Severity.HIGH, H),
    "Azure Storage Account access key": (Severity.HIGH, H),
    "IBM Cloud IAM Key": (Severity.HIGH, M),
    "IBM COS HMAC Credentials": (Severity.HIGH, M),
    "Artifactory Credentials": (Severity.HIGH, M),
    "Cloudant Credentials": (Severity.HIGH, M),
    "SoftLayer Credentials": (Severity.HIGH, M),
    "Basic Auth Credentials": (Severity.HIGH, M),
    "JSON Web Token": (Severity.MEDIUM, M),
    "Secret Keyword": (Severity.MEDIUM, L),
    "Base64 High Entropy String": (Severity.MEDIUM, L),
    "Hex High Entropy String": (Severity.MEDIUM, L),
    "Public IP (ipv4)": (Severity.INFO, L),
}
DEFAULT_TYPE = (Severity.HIGH, M)
MAX_LINE_CHARS = 4000
#: Substrings are tried between these boundaries first (cheap), then exhaustively on short lines.
_BOUNDARY_RE = re.compile(r"""[\s"'`=:,;()\[\]{}<>|]""")
EXHAUSTIVE_MAX_CHARS = 300


def parse_report(
    stream: IO[bytes], *, workspace: Path | None = None, max_bytes: int
) -> Iterator[FindingData]:
    report = expect(load_json(stream, max_bytes), dict, "detect-secrets report")
    results = report.get("results")
    if results is None:
        raise ParseError("detect-secrets report has no results")
    results = expect(results, dict, "detect-secrets results")
    sources = SourceLines(workspace)
    for filename, secrets in results.items():
        for item in expect(secrets, list, f"detect-secrets results[{filename!r}]"):
            yield _finding(
                expect(item, dict, "detect-secrets secret"), filename, workspace, sources
            )


def _finding(item: dict, filename: str, workspace: Path | None, sources: SourceLines):
    secret_type = as_text(item.get("type")) or "Secret"
    path = relative_path(item.get("filename") or filename, workspace)
    line = as_int(item.get("line_number"))
    sha1 = as_text(item.get("hashed_secret")).lower()
    if not re.fullmatch(r"[0-9a-f]{40}", sha1):
        raise ParseError(f"detect-secrets secret in {path!r} has no valid hashed_secret")
    text = sources.snippet(path, line, line)
    secret = find_secret(text, sha1) if text else ""
    if secret:
        secret_hash = hash_secret(secret)
        snippet = text.replace(secret, REDACTED)
    else:
        # The line changed or is unreadable: identify by the tool's hash, show no code at all.
        secret_hash = hashlib.sha256(f"detect-secrets-sha1:{sha1}".encode()).hexdigest()
        snippet = ""
    severity, confidence = SECRET_TYPES.get(secret_type, DEFAULT_TYPE)
    verified = item.get("is_verified") is True
    return FindingData(
        title=f"{secret_type} in {path}" if path else secret_type,
        severity=severity,
        confidence=Confidence.HIGH if verified else confidence,
        rule_id=secret_type,
        description=(
            f"detect-secrets found what looks like a {secret_type} in {path} line {line}. "
            "Secrets in source code are readable by anyone with access to the repository and its "
            "history."
        ),
        cwe=798,
        file_path=path,
        line_start=line,
        line_end=line,
        code_snippet=snippet,
        remediation=(
            "Revoke and rotate the secret, remove it from the code (and the history), and read it "
            "from the environment or a secret store."
        ),
        references=["https://cwe.mitre.org/data/definitions/798.html"],
        secret_hash=secret_hash,
        extra={"is_verified": verified, "secret_located": bool(secret)},
    )


def find_secret(line: str, sha1: str) -> str:
    """The substring of `line` whose SHA-1 is `sha1` (detect-secrets' hashed_secret), or ""."""
    line = line[:MAX_LINE_CHARS]
    bounds = sorted(
        {0, len(line)}
        | {m.start() for m in _BOUNDARY_RE.finditer(line)}
        | {m.end() for m in _BOUNDARY_RE.finditer(line)}
    )
    for i, start in enumerate(bounds):
        for end in bounds[i + 1 :]:
            if _sha1(line[start:end]) == sha1:
                return line[start:end]
    if len(line) <= EXHAUSTIVE_MAX_CHARS:
        for start in range(len(line)):
            for end in range(start + 1, len(line) + 1):
                if _sha1(line[start:end]) == sha1:
                    return line[start:end]
    return ""


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()
