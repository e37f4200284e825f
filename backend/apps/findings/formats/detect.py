"""Which format a report is in, from its first kilobytes (never the file name).

The head is read with a tolerant JSON walk that records the root's type, its keys and the keys of
the first element of each array: enough to tell the formats apart even when a big value (Bandit's
`metrics`, detect-secrets' `plugins_used`) pushes the rest past the head. XML is recognised by
its root element name. A format is only offered when its plugin is installed."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apps.tools.plugins.base import ParseError

from .jsonstream import JsonReader

HEAD_BYTES = 64 * 1024
SARIF = "sarif"
_XML_ROOT_RE = re.compile(
    rb"^(?:\s|<\?[^>]*\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[[^\]]*\])?\s*>)*<([A-Za-z_][\w.:-]*)",
    re.DOTALL,
)


#: What the reader says when the bytes run out (jsonstream): in a head cut at HEAD_BYTES, that is
#: where the head ends, not a fault of the document.
_END_OF_HEAD = ("the end of the report", "ends in the middle of a value", "not valid JSON")


@dataclass
class Shape:
    """What the head shows of a JSON report."""

    root: str = ""  # object, array
    keys: list[str] = field(default_factory=list)
    scalars: dict[str, Any] = field(default_factory=dict)
    #: For an object root: the kind of each key's value; for arrays, the keys of element 0.
    kinds: dict[str, str] = field(default_factory=dict)
    first_item_keys: dict[str, set[str]] = field(default_factory=dict)
    #: Why the JSON could not be read past what was seen (not the end of a head cut at
    #: HEAD_BYTES inside the document, which is no error).
    error: str = ""
    #: For an array root: the keys of its first element (None when it is empty).
    item_keys: set[str] | None = None
    empty: bool = False


def read_head(path: Path) -> bytes:
    with path.open("rb") as stream:
        return stream.read(HEAD_BYTES)


def sniff(head: bytes) -> Shape | str | None:
    """A Shape for JSON, `"xml:<root element>"` for XML, or None for anything else."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        return None
    if stripped[:1] == b"<":
        match = _XML_ROOT_RE.match(stripped)
        return f"xml:{match.group(1).decode('ascii', 'replace')}" if match else "xml:"
    if stripped[:1] not in (b"{", b"["):
        return None
    shape = Shape()
    reader = JsonReader(io.BytesIO(stripped), max_value_chars=HEAD_BYTES)
    try:
        if reader.kind() == "object":
            shape.root = "object"
            for key in reader.iter_object():
                shape.keys.append(key)
                kind = reader.kind()
                shape.kinds[key] = kind
                if kind in ("string", "number", "literal"):
                    shape.scalars[key] = reader.read_value()
                elif kind == "array":
                    for index in reader.iter_array():
                        if index == 0 and reader.kind() == "object":
                            shape.first_item_keys[key] = set(_keys(reader))
                        else:
                            reader.skip_value()
                elif kind == "object":
                    shape.first_item_keys[key] = set(_keys(reader))
        else:
            shape.root = "array"
            for index in reader.iter_array():
                if index == 0:
                    shape.item_keys = set(_keys(reader)) if reader.kind() == "object" else set()
                break
            shape.empty = shape.item_keys is None
    except ParseError as exc:
        cut = len(head) >= HEAD_BYTES and any(m in str(exc) for m in _END_OF_HEAD)
        if not cut:
            shape.error = str(exc)
        # else the head ends inside the document: keep what was seen
    return shape


def _keys(reader: JsonReader) -> list[str]:
    keys = []
    for key in reader.iter_object():
        keys.append(key)
        reader.skip_value()
    return keys


def detect(head: bytes, available: set[str]) -> str | None:
    """The format slug ("sarif" or a plugin slug) of a report's head, or None."""
    shape = sniff(head)
    if shape is None:
        return None
    if isinstance(shape, str):
        root = shape.removeprefix("xml:")
        if root == "nmaprun" and "nmap" in available:
            return "nmap"
        if root == "OWASPZAPReport" and "zap" in available:
            return "zap"
        return None
    for slug, rule in _RULES:
        if not rule(shape):
            continue
        if slug == "trivy":
            return _trivy(shape, available)
        if slug == "zap":
            return next((s for s in ("zap-baseline", "zap") if s in available), None)
        if slug == SARIF or slug in available:
            return slug
    return None


def _trivy(shape: Shape, available: set[str]) -> str | None:
    """Trivy's three plugins share one format: the artifact type and the kind of results
    tell which one wrote it."""
    if shape.scalars.get("ArtifactType") == "container_image":
        choice = "trivy-image"
    elif "Misconfigurations" in shape.first_item_keys.get("Results", set()):
        choice = "trivy-config"
    else:
        choice = "trivy-fs"
    for slug in (choice, "trivy-fs", "trivy-config", "trivy-image", "trivy"):
        if slug in available:
            return slug
    return None


def describe(head: bytes) -> str:
    """A short description of what the head looks like, for error messages."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "it is UTF-16 text: save it as UTF-8"
    shape = sniff(head)
    if shape is None:
        stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if stripped[:1] in (b'"', b"-", b"t", b"f", b"n") or stripped[:1].isdigit():
            return "a single JSON value, not an object or a list"
        return "it is neither JSON nor XML"
    if isinstance(shape, str):
        return f"an XML document with root element <{shape.removeprefix('xml:')}>"
    if shape.error:
        return f"it is not valid JSON: {shape.error[:300]}"
    if shape.root == "object":
        keys = ", ".join(shape.keys[:8]) or "no keys"
        return f"a JSON object with keys {keys}"
    if shape.empty:
        return "an empty JSON list"
    return f"a JSON list of {'objects' if shape.item_keys else 'values'}"


def _obj(shape: Shape) -> bool:
    return shape.root == "object"


def _has(shape: Shape, *keys: str) -> bool:
    return all(k in shape.keys for k in keys)


def _any(shape: Shape, *keys: str) -> bool:
    return any(k in shape.keys for k in keys)


def _items(shape: Shape, *keys: str) -> bool:
    return shape.root == "array" and bool(shape.item_keys) and set(keys) <= shape.item_keys


def _sarif(s: Shape) -> bool:
    schema = s.scalars.get("$schema")
    if _obj(s) and isinstance(schema, str) and "sarif" in schema.lower():
        return True
    return _obj(s) and _has(s, "version", "runs")


def _detect_secrets(s: Shape) -> bool:
    return _obj(s) and _has(s, "plugins_used") and _any(s, "results", "version")


def _bandit(s: Shape) -> bool:
    return (
        _obj(s)
        and _any(s, "metrics", "generated_at")
        and _any(s, "results", "errors", "metrics")
        and not _any(s, "plugins_used", "runs")
    )


def _semgrep(s: Shape) -> bool:
    if not _obj(s) or not _has(s, "results"):
        return "check_id" in s.first_item_keys.get("results", set())
    return _any(s, "paths", "version", "errors") and "metrics" not in s.keys


def _checkov(s: Shape) -> bool:
    if _obj(s):
        if _has(s, "check_type"):
            return True
        return _any(s, "checkov_version") or _has(s, "passed", "failed", "parsing_errors")
    return _items(s, "check_type")


_RULES = [
    (SARIF, _sarif),
    ("detect-secrets", _detect_secrets),
    ("bandit", _bandit),
    ("trivy", lambda s: _has(s, "SchemaVersion") and _any(s, "Results", "ArtifactName")),
    ("zap", lambda s: _obj(s) and _has(s, "site") and _any(s, "@version", "@programName")),
    ("wapiti", lambda s: _has(s, "vulnerabilities") and _any(s, "classifications", "infos")),
    ("sslyze", lambda s: _obj(s) and _has(s, "server_scan_results")),
    ("pip-audit", lambda s: _obj(s) and _has(s, "dependencies")),
    ("shellcheck", lambda s: _obj(s) and _has(s, "comments")),
    ("checkov", _checkov),
    ("semgrep", _semgrep),
    ("hadolint", lambda s: _items(s, "code", "level")),
    ("eslint", lambda s: _items(s, "filePath", "messages")),
    ("gitleaks", lambda s: _items(s, "RuleID")),
]
