"""SARIF 2.1.0 reader: any tool's SARIF log as `FindingData`, streamed.

Two passes over the file: the first reads each run's tool (driver, rules, extensions), artifacts
and base URIs and checks the skeleton; the second decodes one result at a time. Two passes
because a run's `tool` may come after its `results` (SecuLite's own writer puts it there), and a
result needs its rule for severity and CWE.

Mapping: severity from the result's own `properties.severity`, then `security-severity`
(result, rule: CVSS-like, GitHub's bands), then a severity word in the rule's properties or
tags, then the SARIF level (error high, warning medium, note low, none info). The tool id is
`sarif:<driver name>` (lower-case, dashes), or the plugin slug of a log SecuLite wrote itself
(`driver.properties.seculiteToolId`), whose `seculiteFingerprint/v1` is then kept, so a CLI
upload matches the platform's own scans. Other results are fingerprinted from the rule, the
path and the tool's partial fingerprints, or the flagged code (or the message) when the tool
gives none: never from a line number.

Results of kind `pass` or `notApplicable`, suppressed results (a suppression that is not
`underReview` or `rejected`) and results whose `baselineState` is `absent` are not findings.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from apps.tools.plugins.base import (
    Confidence,
    FindingData,
    ParseError,
    Severity,
    as_int,
    as_text,
    expect,
    normalise_code,
    parse_cwe,
    relative_path,
    storable,
    url_list,
)

from .jsonstream import JsonReader

SARIF_VERSION = "2.1.0"
SECULITE_FINGERPRINT = "seculiteFingerprint/v1"
MAX_RULES = 100_000
MAX_ARTIFACTS = 500_000

_WORDS = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "error": Severity.HIGH,
    "medium": Severity.MEDIUM,
    "moderate": Severity.MEDIUM,
    "warning": Severity.MEDIUM,
    "low": Severity.LOW,
    "note": Severity.LOW,
    "recommendation": Severity.LOW,
    "info": Severity.INFO,
    "informational": Severity.INFO,
    "none": Severity.INFO,
}
_LEVELS = {
    "error": Severity.HIGH,
    "warning": Severity.MEDIUM,
    "note": Severity.LOW,
    "none": Severity.INFO,
}
_PRECISION = {
    "very-high": Confidence.HIGH,
    "high": Confidence.HIGH,
    "medium": Confidence.MEDIUM,
    "low": Confidence.LOW,
}
_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,49}$")
_HEX64_RE = re.compile(r"^[0-9a-f]{64}$")
_CWE_TAG_RE = re.compile(r"\bcwe[-/_: ]*0*(\d{1,7})\b", re.IGNORECASE)
_CVE_RE = re.compile(r"\b(CVE-\d{4}-\d{4,})\b", re.IGNORECASE)
_PLACEHOLDER_RE = re.compile(r"\{(\d{1,9})\}")
#: Placeholders some tools write instead of a fingerprint (Semgrep without a login).
_NOT_FINGERPRINTS = {"", "requires login", "null", "none"}
_PACKAGE_LINES = {
    "package": "package_name",
    "installed version": "package_version",
    "fixed version": "fixed_version",
}


def tool_id_for(name: str) -> str:
    """The tool id of a driver: "CodeQL" -> "sarif:codeql", "Semgrep OSS" -> "sarif:semgrep-oss".

    A name with letters outside ASCII also gets a short hash of itself: the slug alone would
    make "été" the same tool as "T", and every CJK name "unknown", so importing one would
    auto-resolve the findings of the other."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if name.isascii():
        return f"sarif:{slug[:44] or 'unknown'}"
    digest = hashlib.sha256(name.encode("utf-8", "replace")).hexdigest()[:8]
    return f"sarif:{(slug[:35] + '-') if slug else ''}{digest}"


@dataclass
class SarifRun:
    """What pass one learns about one run."""

    index: int
    name: str = ""
    version: str = ""
    tool_id: str = ""
    seculite: bool = False
    rules: list[dict] = field(default_factory=list)
    rules_by_id: dict[str, dict] = field(default_factory=dict)
    extension_rules: list[list[dict]] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)
    base_uris: dict[str, str] = field(default_factory=dict)
    result_count: int = 0
    #: Why the tool says it did not run successfully (invocations[].executionSuccessful false).
    failure: str = ""


class SarifReport:
    """`prepare()` reads the runs' tools (pass one); `records()` yields (tool id, finding)."""

    def __init__(self, path: Path):
        self.path = path
        self.runs: list[SarifRun] = []

    # --- pass one ------------------------------------------------------------------------------
    def prepare(self) -> list[SarifRun]:
        with self.path.open("rb") as stream:
            reader = JsonReader(stream)
            if reader.kind() != "object":
                raise ParseError("a SARIF log is a JSON object")
            version = schema = None
            has_runs = False
            seen: set[str] = set()
            for key in reader.iter_object():
                _once(key, seen, "the SARIF log")
                if key == "version":
                    version = reader.read_value()
                elif key == "$schema":
                    schema = reader.read_value()
                elif key == "runs":
                    has_runs = True
                    for index in reader.iter_array():
                        self.runs.append(self._read_run(reader, index))
            reader.finish()
        if version is None and not (isinstance(schema, str) and SARIF_VERSION in schema):
            raise ParseError("the SARIF log has no version")
        if version is not None and version != SARIF_VERSION:
            raise ParseError(f"SARIF version {str(version)[:20]!r} is not supported (only 2.1.0)")
        if not has_runs:
            raise ParseError("the SARIF log has no runs")
        return self.runs

    def _read_run(self, reader: JsonReader, index: int) -> SarifRun:
        run = SarifRun(index=index)
        if reader.kind() != "object":
            raise ParseError(f"runs[{index}] is not an object")
        has_tool = has_results = False
        seen: set[str] = set()
        for key in reader.iter_object():
            _once(key, seen, f"runs[{index}]")
            if key == "tool":
                has_tool = True
                self._read_tool(run, expect(reader.read_value(), dict, f"runs[{index}].tool"))
            elif key == "results":
                if reader.kind() == "literal":
                    if reader.read_value() is not None:
                        raise ParseError(f"runs[{index}].results is not an array")
                    continue
                has_results = True
                for position in reader.iter_array():
                    expect(reader.read_value(), dict, f"runs[{index}].results[{position}]")
                    run.result_count += 1
            elif key == "artifacts":
                for position in reader.iter_array():
                    artifact = reader.read_value()
                    if position < MAX_ARTIFACTS:
                        location = artifact.get("location") if isinstance(artifact, dict) else None
                        uri = location.get("uri") if isinstance(location, dict) else None
                        run.artifacts.append(uri if isinstance(uri, str) else "")
            elif key == "invocations":
                run.failure = _failure(reader.read_value())
            elif key == "originalUriBaseIds":
                bases = reader.read_value()
                for name, value in bases.items() if isinstance(bases, dict) else ():
                    uri = value.get("uri") if isinstance(value, dict) else None
                    if isinstance(uri, str):
                        run.base_uris[str(name)] = uri
        if not has_tool:
            raise ParseError(f"runs[{index}] has no tool")
        if not has_results and not run.failure:
            # SARIF 2.1.0 (3.14.23): results null (or absent) means the tool produced none, not
            # that it found nothing ([]); taken for a clean run, it would resolve everything.
            run.failure = "the SARIF run has no results (null or absent): the tool produced none"
        return run

    def _read_tool(self, run: SarifRun, tool: dict) -> None:
        where = f"runs[{run.index}].tool"
        driver = expect(tool.get("driver"), dict, f"{where}.driver")
        name = driver.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ParseError(f"{where}.driver has no name")
        run.name = storable(name.strip()[:200])
        run.version = storable(as_text(driver.get("semanticVersion") or driver.get("version"), 100))
        properties = driver.get("properties")
        own = properties.get("seculiteToolId") if isinstance(properties, dict) else None
        if isinstance(own, str) and _SLUG_RE.match(own):
            run.tool_id, run.seculite = own, True
        else:
            run.tool_id = tool_id_for(run.name)
        run.rules = _rules(driver.get("rules"), f"{where}.driver.rules")
        for rule in run.rules:
            if isinstance(rule.get("id"), str):
                run.rules_by_id.setdefault(rule["id"], rule)
        extensions = tool.get("extensions")
        for position, extension in enumerate(extensions if isinstance(extensions, list) else []):
            rules = _rules(
                extension.get("rules") if isinstance(extension, dict) else None,
                f"{where}.extensions[{position}].rules",
            )
            run.extension_rules.append(rules)
            for rule in rules:
                if isinstance(rule.get("id"), str):
                    run.rules_by_id.setdefault(rule["id"], rule)

    # --- pass two ------------------------------------------------------------------------------
    def records(self) -> Iterator[tuple[SarifRun, FindingData]]:
        """(run, finding) for every result that is a finding. The fingerprint is set for
        SecuLite's own logs; for others the caller fingerprints `FINGERPRINT_FIELDS`."""
        with self.path.open("rb") as stream:
            reader = JsonReader(stream)
            for key in reader.iter_object():
                if key != "runs":
                    continue
                for index in reader.iter_array():
                    run = self.runs[index]
                    for run_key in reader.iter_object():
                        if run_key != "results" or reader.kind() != "array" or run.failure:
                            continue
                        for position in reader.iter_array():
                            result = reader.read_value()
                            finding = _finding(result, run, f"runs[{index}].results[{position}]")
                            if finding is not None:
                                yield run, finding


#: FindingData fields that make up the fingerprint of a result without SecuLite's own.
FINGERPRINT_FIELDS = ("rule_id", "file_path", "extra.fingerprint_basis")


def _failure(invocations: Any) -> str:
    """The error of an invocation that did not succeed, or "" when all did."""
    for invocation in _list_of_dicts(invocations):
        if invocation.get("executionSuccessful") is False:
            for note in _list_of_dicts(invocation.get("toolExecutionNotifications")):
                text = as_text(_dict(note.get("message")).get("text"), 500)
                if text and note.get("level", "error") == "error":
                    return text
            return "no reason given"
    return ""


def _once(key: str, seen: set[str], where: str) -> None:
    """A key the log repeats: JSON readers differ on which value wins (the first, the last,
    both), so the log is refused rather than read one way here and another way elsewhere."""
    if key in seen:
        raise ParseError(f"{where} has the key {key[:100]!r} twice")
    seen.add(key)


def _rules(value: Any, where: str) -> list[dict]:
    if value is None:
        return []
    rules = expect(value, list, where)
    if len(rules) > MAX_RULES:
        raise ParseError(f"{where} has more than {MAX_RULES} rules")
    return [rule if isinstance(rule, dict) else {} for rule in rules]


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any, where: str) -> list:
    if value is None:
        return []
    return expect(value, list, where)


def _message_text(message: Any, rule: dict, where: str) -> str:
    if message is None:
        return ""
    message = expect(message, dict, f"{where}.message")
    text = message.get("text")
    if not isinstance(text, str) or not text:
        text = message.get("markdown") if isinstance(message.get("markdown"), str) else ""
    if not text and isinstance(message.get("id"), str):
        strings = _dict(rule.get("messageStrings"))
        template = _dict(strings.get(message["id"]))
        text = template.get("text") if isinstance(template.get("text"), str) else ""
    arguments = message.get("arguments")
    if text and isinstance(arguments, list) and arguments:

        def _argument(match: re.Match) -> str:
            position = int(match.group(1))
            if position < len(arguments):
                return as_text(arguments[position], 500)
            return match.group(0)

        text = _PLACEHOLDER_RE.sub(_argument, text)
    return text.strip()


def _rule_for(result: dict, run: SarifRun) -> tuple[str, dict]:
    reference = _dict(result.get("rule"))
    rule_id = result.get("ruleId") if isinstance(result.get("ruleId"), str) else ""
    rule_id = rule_id or (reference.get("id") if isinstance(reference.get("id"), str) else "")
    index = as_int(result.get("ruleIndex"))
    if index is None:
        index = as_int(reference.get("index"))
    component = as_int(_dict(reference.get("toolComponent")).get("index"))
    rules = run.rules
    if component is not None and 0 <= component < len(run.extension_rules):
        rules = run.extension_rules[component]
    rule: dict = {}
    if index is not None and 0 <= index < len(rules):
        rule = rules[index]
    elif rule_id:
        rule = run.rules_by_id.get(rule_id, {})
    if not rule_id and isinstance(rule.get("id"), str):
        rule_id = rule["id"]
    return rule_id, rule


def _severity(result: dict, rule: dict, properties: dict, rule_properties: dict) -> Severity:
    word = properties.get("severity")
    if isinstance(word, str) and word.lower() in _WORDS:
        return _WORDS[word.lower()]
    for source in (properties, rule_properties):
        score = _score(source.get("security-severity"))
        if score is not None:
            if score >= 9.0:
                return Severity.CRITICAL
            if score >= 7.0:
                return Severity.HIGH
            if score >= 4.0:
                return Severity.MEDIUM
            return Severity.LOW if score > 0 else Severity.INFO
    for key in ("severity", "problem.severity"):
        word = rule_properties.get(key)
        if isinstance(word, str) and word.lower() in _WORDS:
            return _WORDS[word.lower()]
    if result.get("kind") == "informational":
        return Severity.INFO
    level = result.get("level")
    if not isinstance(level, str):
        level = _dict(rule.get("defaultConfiguration")).get("level")
    if isinstance(level, str) and level in _LEVELS:
        return _LEVELS[level]
    return Severity.MEDIUM  # SARIF's default level is "warning"


def _score(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if 0 <= number <= 10 else None


def _cwe(result: dict, rule: dict, properties: dict, rule_properties: dict) -> int | None:
    for source in (properties, rule_properties):
        cwe = parse_cwe(source.get("cwe"))
        if cwe:
            return cwe
    for taxon in _list_of_dicts(result.get("taxa")):
        if _is_cwe_component(taxon.get("toolComponent")):
            cwe = parse_cwe(taxon.get("id")) or parse_cwe(f"CWE-{taxon.get('id')}")
            if cwe:
                return cwe
    for relationship in _list_of_dicts(rule.get("relationships")):
        target = _dict(relationship.get("target"))
        if _is_cwe_component(target.get("toolComponent")):
            cwe = parse_cwe(target.get("id")) or parse_cwe(f"CWE-{target.get('id')}")
            if cwe:
                return cwe
    for source in (properties, rule_properties):
        tags = source.get("tags")
        for tag in tags if isinstance(tags, list) else []:
            if isinstance(tag, str):
                match = _CWE_TAG_RE.search(tag)
                if match and int(match.group(1)) > 0:
                    return int(match.group(1))
    return None


def _is_cwe_component(component: Any) -> bool:
    name = _dict(component).get("name")
    return isinstance(name, str) and name.strip().upper() == "CWE"


def _list_of_dicts(value: Any) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _location(result: dict, run: SarifRun, where: str) -> dict[str, Any]:
    """path or url, lines, snippet and logical location of the first location."""
    out: dict[str, Any] = {}
    locations = _list(result.get("locations"), f"{where}.locations")
    first = locations[0] if locations else None
    if first is None:
        return out
    first = expect(first, dict, f"{where}.locations[0]")
    physical = _dict(first.get("physicalLocation"))
    artifact = _dict(physical.get("artifactLocation"))
    uri = artifact.get("uri") if isinstance(artifact.get("uri"), str) else ""
    index = as_int(artifact.get("index"))
    if not uri and index is not None and 0 <= index < len(run.artifacts):
        uri = run.artifacts[index]
    if uri:
        if uri.startswith(("http://", "https://")):
            out["url"] = uri[:2000]
        else:
            out["file_path"] = _path(uri, artifact.get("uriBaseId"), run)
    region = _dict(physical.get("region"))
    start = as_int(region.get("startLine"))
    if start is not None and start > 0:
        out["line_start"] = start
        end = as_int(region.get("endLine"))
        out["line_end"] = end if end is not None and end >= start else start
    snippet = _dict(region.get("snippet")).get("text")
    if isinstance(snippet, str):
        out["code_snippet"] = snippet[:20_000]
    logical = _list_of_dicts(first.get("logicalLocations"))
    if logical:
        name = logical[0].get("fullyQualifiedName") or logical[0].get("name")
        if isinstance(name, str):
            out["logical_location"] = name[:500]
    return out


def _path(uri: str, base_id: Any, run: SarifRun) -> str:
    """A relative POSIX path: percent-decoded, the base URI (or a file: root) taken off."""
    path = _uri_path(uri)
    named = run.base_uris.get(base_id) if isinstance(base_id, str) else None
    for base in (named, *run.base_uris.values()):
        if not base:
            continue
        base_path = _uri_path(base)
        base_path = base_path.rstrip("/") + "/"
        if base_path != "/" and path.startswith(base_path):
            path = path[len(base_path) :]
            break
    return relative_path(path, None)[:1000]


def _uri_path(uri: str) -> str:
    """The percent-decoded path of a file: URI (or of a relative reference). A URI that urllib
    cannot split ("file://[bad/x.py": an IPv6 host never closed) is taken as a path."""
    if uri.startswith("file:"):
        try:
            return unquote(urlparse(uri).path)
        except ValueError:
            return unquote(uri[len("file:") :].lstrip("/"))
    return unquote(uri)


def _suppressed(result: dict) -> bool:
    for suppression in _list_of_dicts(result.get("suppressions")):
        if suppression.get("status") not in ("underReview", "rejected"):
            return True
    return False


def _finding(result: Any, run: SarifRun, where: str) -> FindingData | None:
    result = expect(result, dict, where)
    kind = result.get("kind")
    if kind in ("pass", "notApplicable") or _suppressed(result):
        return None
    if result.get("baselineState") == "absent":
        return None
    rule_id, rule = _rule_for(result, run)
    properties = _dict(result.get("properties"))
    rule_properties = _dict(rule.get("properties"))
    message = _message_text(result.get("message"), rule, where)
    rule_title = as_text(_dict(rule.get("shortDescription")).get("text"), 500) or as_text(
        rule.get("name"), 500
    )
    location = _location(result, run, where)
    title = message.splitlines()[0].strip() if message else ""
    title = title[:300] or rule_title[:300] or rule_id or f"{run.name} finding"
    description = message
    full = as_text(_dict(rule.get("fullDescription")).get("text"))
    if full and full not in description:
        description = f"{description}\n\n{full}".strip()
    help_block = _dict(rule.get("help"))
    remediation = as_text(help_block.get("text")) or as_text(help_block.get("markdown"))
    references = url_list(
        [
            rule.get("helpUri"),
            *_strings(properties.get("references")),
            *_strings(rule_properties.get("references")),
        ]
    )
    package = _dict(properties.get("package"))
    fields: dict[str, Any] = {
        "package_name": as_text(package.get("name"), 300),
        "package_version": as_text(package.get("version"), 100),
        "fixed_version": as_text(package.get("fixedVersion"), 100),
    }
    if not fields["package_name"] and "Package:" in message:
        for line in message.splitlines():
            label, _, value = line.partition(":")
            name = _PACKAGE_LINES.get(label.strip().lower())
            if name and value.strip():
                fields[name] = value.strip()[:300]
    cve = as_text(properties.get("cve"), 50)
    if not cve:
        match = _CVE_RE.search(rule_id) or _CVE_RE.search(as_text(rule.get("name"), 200))
        cve = match.group(1).upper() if match else ""
    confidence = _PRECISION.get(str(rule_properties.get("precision", "")).lower())
    if confidence is None:
        word = properties.get("confidence")
        confidence = _PRECISION.get(word.lower()) if isinstance(word, str) else None
    snippet = location.get("code_snippet", "")
    extra: dict[str, Any] = {"sarif_tool": run.name}
    if rule.get("name") and isinstance(rule.get("name"), str):
        extra["rule_name"] = rule["name"][:200]
    if location.get("logical_location"):
        extra["logical_location"] = location["logical_location"]
    finding = FindingData(
        title=title,
        severity=_severity(result, rule, properties, rule_properties),
        rule_id=rule_id[:300],
        confidence=confidence or Confidence.UNKNOWN,
        description=description[:20_000],
        cwe=_cwe(result, rule, properties, rule_properties),
        cve=cve,
        file_path=location.get("file_path", ""),
        line_start=location.get("line_start"),
        line_end=location.get("line_end"),
        code_snippet=snippet,
        url=location.get("url", "") or as_text(properties.get("url"), 2000),
        parameter=as_text(properties.get("parameter"), 300),
        remediation=remediation,
        references=references,
        extra=extra,
        **fields,
    )
    own = _dict(result.get("partialFingerprints")).get(SECULITE_FINGERPRINT)
    if run.seculite and isinstance(own, str) and _HEX64_RE.match(own):
        finding.fingerprint = own
    else:
        finding.extra["fingerprint_basis"] = _basis(result, finding, message)
    return finding


def _basis(result: dict, finding: FindingData, message: str) -> str:
    """What identifies a result besides rule and path: the tool's own (partial) fingerprints,
    else the flagged code, else the message and logical location. Never a line number."""
    prints = []
    for key in ("partialFingerprints", "fingerprints"):
        values = _dict(result.get(key))
        prints += [
            f"{k}={v}"
            for k, v in sorted(values.items())
            if isinstance(v, (str, int)) and str(v).strip().lower() not in _NOT_FINGERPRINTS
        ]
    if prints:
        return "\n".join(prints)[:2000]
    if finding.code_snippet.strip():
        return "code:" + normalise_code(finding.code_snippet)[:2000]
    logical = finding.extra.get("logical_location", "")
    return f"message:{message[:1000]}\n{logical}\n{finding.url}"


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
