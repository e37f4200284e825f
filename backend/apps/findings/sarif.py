"""SARIF 2.1.0 writer: one run per tool, streamed as JSON text chunks.

The input is neutral: a finding is any object or dict with `FindingData`'s field names
(`title`, `severity`, `rule_id`, `file_path`, `line_start`, ..., `fingerprint`), so
`FindingData` records (the CLI) and `Finding` rows or `.values()` dicts (exports) both feed it.
Results are written as they are read, and each rule once, after its run's results (JSON member
order carries no meaning), so a large run is never held in memory twice.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import quote

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
#: The base id every relative artifact URI is resolved against (GitHub's convention).
SRCROOT = "SRCROOT"
#: partialFingerprints key holding SecuLite's own finding fingerprint.
FINGERPRINT_KEY = "seculiteFingerprint/v1"

#: SecuLite severity -> SARIF result level.
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
#: SecuLite severity -> GitHub's `security-severity` (critical > 9.0, high 7.0-8.9, medium
#: 4.0-6.9, low 0.1-3.9); info has none, so GitHub shows it as a plain note.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0"}
SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

#: Home pages of the scanners SecuLite runs (a plugin's `information_uri` wins when it has one).
TOOL_INFORMATION_URIS = {
    "bandit": "https://github.com/PyCQA/bandit",
    "checkov": "https://www.checkov.io/",
    "detect-secrets": "https://github.com/Yelp/detect-secrets",
    "eslint": "https://github.com/eslint-community/eslint-plugin-security",
    "gitleaks": "https://github.com/gitleaks/gitleaks",
    "hadolint": "https://github.com/hadolint/hadolint",
    "nmap": "https://nmap.org/",
    "pip-audit": "https://github.com/pypa/pip-audit",
    "semgrep": "https://semgrep.dev/",
    "shellcheck": "https://www.shellcheck.net/",
    "sslyze": "https://github.com/nabla-c0d3/sslyze",
    "trivy": "https://trivy.dev/",
    "wapiti": "https://wapiti-scanner.github.io/",
    "zap": "https://www.zaproxy.org/",
}

_SEMVER_RE = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
_MAX_RULE_TEXT = 1000
_MAX_MESSAGE = 5000


@dataclass
class SarifTool:
    """The tool of one run: its slug, display name, version and home page."""

    slug: str
    name: str = ""
    version: str = ""
    information_uri: str = ""

    @classmethod
    def from_plugin(cls, plugin: Any, version: str = "") -> SarifTool:
        slug = plugin.slug
        uri = getattr(plugin, "information_uri", "") or TOOL_INFORMATION_URIS.get(slug, "")
        name = getattr(plugin, "label", "") or slug
        return cls(slug=slug, name=name, version=version, information_uri=uri)


@dataclass
class SarifRun:
    """One tool's run: its findings (any iterable, read once) and how the execution went.

    `src_root` (a directory or a URI) becomes SRCROOT in `originalUriBaseIds`; without it the
    consumer resolves SRCROOT itself (GitHub uses the checkout).
    """

    tool: SarifTool
    findings: Iterable[Any] = ()
    src_root: Path | str | None = None
    execution_successful: bool = True
    exit_code: int | None = None
    error: str = ""
    notices: list[str] = field(default_factory=list)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    properties: dict[str, Any] = field(default_factory=dict)


def write_sarif(runs: Iterable[SarifRun], stream: IO[str]) -> None:
    """Write a SARIF log of `runs` to a text stream, chunk by chunk."""
    for chunk in iter_sarif(runs):
        stream.write(chunk)


def iter_sarif(runs: Iterable[SarifRun]) -> Iterator[str]:
    """The SARIF log as JSON text chunks (one per result, plus the framing)."""
    yield f'{{"$schema": {_dump(SARIF_SCHEMA_URI)}, "version": "{SARIF_VERSION}", "runs": ['
    for index, run in enumerate(runs):
        yield ",\n" if index else "\n"
        yield from _iter_run(run)
    yield "\n]}\n"


def sarif_document(runs: Iterable[SarifRun]) -> dict[str, Any]:
    """The whole log as a dict (small logs and tests)."""
    return json.loads("".join(iter_sarif(runs)))


def runs_by_tool(
    findings: Iterable[Any],
    tool_for: Callable[[str], SarifTool],
    *,
    tool_field: str = "tool_id",
    **run_kwargs: Any,
) -> Iterator[SarifRun]:
    """One run per tool from findings ordered by `tool_field` (e.g. a queryset `.order_by`).

    Consecutive findings of a tool form a run, so each run must be consumed before the next is
    asked for (as `iter_sarif` does).
    """
    for slug, group in itertools.groupby(findings, key=lambda f: str(_get(f, tool_field) or "")):
        yield SarifRun(tool=tool_for(slug), findings=group, **run_kwargs)


# --- one run --------------------------------------------------------------------------------------


@dataclass
class _Rule:
    id: str
    title: str
    description: str = ""
    remediation: str = ""
    help_uri: str = ""
    cwe: int | None = None
    severity: str = "info"

    def absorb(self, finding: Any) -> None:
        """Keep the highest severity seen and fill what the first finding lacked."""
        severity = _severity(finding)
        if SEVERITY_RANK[severity] > SEVERITY_RANK[self.severity]:
            self.severity = severity
        self.cwe = self.cwe or _cwe(finding)
        self.help_uri = self.help_uri or _help_uri(finding)
        self.description = self.description or _text(_get(finding, "description"))
        self.remediation = self.remediation or _text(_get(finding, "remediation"))

    def to_sarif(self) -> dict[str, Any]:
        rule: dict[str, Any] = {
            "id": self.id,
            "shortDescription": {"text": _clip(self.title or self.id, _MAX_RULE_TEXT)},
        }
        if self.description:
            rule["fullDescription"] = {"text": _clip(self.description, _MAX_RULE_TEXT)}
        if self.remediation:
            rule["help"] = {"text": _clip(self.remediation, _MAX_MESSAGE)}
        help_uri = self.help_uri or (
            f"https://cwe.mitre.org/data/definitions/{self.cwe}.html" if self.cwe else ""
        )
        if help_uri:
            rule["helpUri"] = help_uri
        rule["defaultConfiguration"] = {"level": LEVELS[self.severity]}
        tags = ["security"]
        if self.cwe:
            tags += [f"CWE-{self.cwe}", f"external/cwe/cwe-{self.cwe:03d}"]
        properties: dict[str, Any] = {"tags": tags, "severity": self.severity}
        if self.severity in SECURITY_SEVERITY:
            properties["security-severity"] = SECURITY_SEVERITY[self.severity]
        rule["properties"] = properties
        return rule


def _iter_run(run: SarifRun) -> Iterator[str]:
    rules: dict[str, int] = {}
    rule_list: list[_Rule] = []
    yield '{"results": ['
    count = 0
    for finding in run.findings:
        rule_id = _rule_id(finding, run.tool.slug)
        index = rules.get(rule_id)
        if index is None:
            index = rules[rule_id] = len(rule_list)
            rule_list.append(_Rule(id=rule_id, title=_text(_get(finding, "title"))))
        rule_list[index].absorb(finding)
        yield (",\n" if count else "\n") + _dump(_result(finding, rule_id, index, run.src_root))
        count += 1
    yield "\n], "
    driver: dict[str, Any] = {"name": run.tool.name or run.tool.slug}
    if run.tool.version:
        driver["version"] = run.tool.version
        if _SEMVER_RE.match(run.tool.version):
            driver["semanticVersion"] = run.tool.version
    if run.tool.information_uri:
        driver["informationUri"] = run.tool.information_uri
    driver["rules"] = [rule.to_sarif() for rule in rule_list]
    driver["properties"] = {"seculiteToolId": run.tool.slug}
    tail: dict[str, Any] = {"tool": {"driver": driver}, "invocations": [_invocation(run)]}
    root = _root_uri(run.src_root)
    if root:
        tail["originalUriBaseIds"] = {SRCROOT: {"uri": root}}
    tail["columnKind"] = "unicodeCodePoints"
    properties = {"resultCount": count, **run.properties}
    tail["properties"] = properties
    yield _dump(tail)[1:]  # the members after "results", without the opening brace


def _invocation(run: SarifRun) -> dict[str, Any]:
    invocation: dict[str, Any] = {"executionSuccessful": bool(run.execution_successful)}
    if run.exit_code is not None:
        invocation["exitCode"] = int(run.exit_code)
    if run.started_at is not None:
        invocation["startTimeUtc"] = _timestamp(run.started_at)
    if run.finished_at is not None:
        invocation["endTimeUtc"] = _timestamp(run.finished_at)
    notifications = []
    if run.error:
        notifications.append({"level": "error", "message": {"text": _clip(run.error, 5000)}})
    for notice in run.notices:
        notifications.append({"level": "note", "message": {"text": _clip(notice, 5000)}})
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation


def _result(finding: Any, rule_id: str, rule_index: int, src_root: Path | str | None) -> dict:
    severity = _severity(finding)
    title = _text(_get(finding, "title")) or rule_id
    result: dict[str, Any] = {
        "ruleId": rule_id,
        "ruleIndex": rule_index,
        "level": LEVELS[severity],
        "message": {"text": _clip(title, _MAX_MESSAGE)},
    }
    location = _location(finding, src_root)
    if location:
        result["locations"] = [location]
    fingerprint = _text(_get(finding, "fingerprint"))
    if fingerprint:
        result["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint}
    properties: dict[str, Any] = {"severity": severity}
    confidence = _text(_get(finding, "confidence"))
    if confidence:
        properties["confidence"] = confidence
    cwe = _cwe(finding)
    if cwe:
        properties["cwe"] = f"CWE-{cwe}"
    for name, key in (("cve", "cve"), ("url", "url"), ("parameter", "parameter")):
        value = _text(_get(finding, name))
        if value:
            properties[key] = value
    package = {
        key: value
        for key, name in (
            ("name", "package_name"),
            ("version", "package_version"),
            ("fixedVersion", "fixed_version"),
        )
        if (value := _text(_get(finding, name)))
    }
    if package:
        properties["package"] = package
    references = [r for r in _get(finding, "references") or [] if isinstance(r, str) and r]
    if references:
        properties["references"] = references[:20]
    result["properties"] = properties
    return result


def _location(finding: Any, src_root: Path | str | None) -> dict[str, Any] | None:
    path = _text(_get(finding, "file_path"))
    if path:
        artifact = _artifact_location(path, src_root)
    else:
        url = _text(_get(finding, "url"))
        if not url.startswith(("http://", "https://")):
            return None
        artifact = {"uri": quote(url, safe=":/?#[]@!$&'()*+,;=%~")}
    physical: dict[str, Any] = {"artifactLocation": artifact}
    start = _positive_int(_get(finding, "line_start"))
    if start:
        region: dict[str, Any] = {"startLine": start}
        end = _positive_int(_get(finding, "line_end"))
        if end and end >= start:
            region["endLine"] = end
        snippet = _text(_get(finding, "code_snippet"))
        if snippet:
            region["snippet"] = {"text": _clip(snippet, _MAX_MESSAGE)}
        physical["region"] = region
    return {"physicalLocation": physical}


def _artifact_location(path: str, src_root: Path | str | None) -> dict[str, Any]:
    """A relative POSIX path under SRCROOT, percent-encoded; an absolute path outside the root
    becomes a file: URI of its own."""
    posix = path.replace("\\", "/")
    if posix.startswith("/"):
        root = str(src_root).replace("\\", "/").rstrip("/") + "/" if src_root else ""
        if not (root.startswith("/") and posix.startswith(root)):
            return {"uri": PurePosixPath(posix).as_uri()}
        posix = posix[len(root) :]
    parts = [p for p in PurePosixPath(posix).parts if p not in ("", ".", "/")]
    return {"uri": quote("/".join(parts), safe="/"), "uriBaseId": SRCROOT}


def _root_uri(src_root: Path | str | None) -> str:
    if not src_root:
        return ""
    if isinstance(src_root, str) and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", src_root):
        uri = src_root
    else:
        uri = Path(src_root).resolve().as_uri()
    return uri if uri.endswith("/") else uri + "/"


# --- reading a finding (FindingData, ORM row or dict) ---------------------------------------------


def _get(finding: Any, name: str, default: Any = None) -> Any:
    if isinstance(finding, Mapping):
        return finding.get(name, default)
    return getattr(finding, name, default)


def _severity(finding: Any) -> str:
    value = str(_get(finding, "severity") or "").lower()
    return value if value in LEVELS else "info"


def _rule_id(finding: Any, tool_slug: str) -> str:
    return _text(_get(finding, "rule_id")) or _text(_get(finding, "cve")) or tool_slug


def _cwe(finding: Any) -> int | None:
    value = _get(finding, "cwe")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str):
        digits = value.upper().removeprefix("CWE-").strip()
        return int(digits) if digits.isdigit() and int(digits) > 0 else None
    return None


def _help_uri(finding: Any) -> str:
    for reference in _get(finding, "references") or []:
        if isinstance(reference, str) and reference.startswith(("http://", "https://")):
            if " " not in reference:
                return reference
    return ""


def _positive_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def _text(value: Any) -> str:
    """A field as text: empty for None, enum members as their value."""
    if value is None:
        return ""
    if hasattr(value, "value") and not isinstance(value, str):
        value = value.value
    return str(value)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _dump(value: Any) -> str:
    """Compact JSON; a lone surrogate (an undecodable file name, say) becomes U+FFFD, so the
    text always encodes as UTF-8."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return text


__all__ = [
    "FINGERPRINT_KEY",
    "LEVELS",
    "SECURITY_SEVERITY",
    "SarifRun",
    "SarifTool",
    "iter_sarif",
    "runs_by_tool",
    "sarif_document",
    "write_sarif",
]
