"""The scanner-plugin contract: what every plugin declares and the plain records it returns.

A plugin describes one scanner: how to find and version its binary, the argument list to run it
with, how to judge its exit, and how to turn its report into `FindingData` records. It never
touches the database; ingestion (apps.scans / apps.findings) turns the records into rows.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import stat
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, ClassVar
from urllib.parse import SplitResult, parse_qsl, urlsplit

import jsonschema
from django.conf import settings


class Severity(StrEnum):
    """SecuLite's severity scale; every parser maps its tool's own scale onto it explicitly."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    UNKNOWN = ""


class Category(StrEnum):
    SAST = "sast"
    SCA = "sca"
    SECRETS = "secrets"
    IAC = "iac"
    DAST = "dast"
    CONTAINER = "container"
    LINT = "lint"


class TargetType(StrEnum):
    GIT_REPOSITORY = "git_repository"
    URL = "url"
    DOCKER_IMAGE = "docker_image"
    IP_ADDRESS = "ip_address"
    DOMAIN_NAME = "domain_name"
    FILE_UPLOAD = "file_upload"


#: Target types whose workspace is a tree of files on disk.
FILE_TARGET_TYPES = frozenset({TargetType.GIT_REPOSITORY, TargetType.FILE_UPLOAD})

#: Rank of each severity, info = 0 ... critical = 4 (for thresholds such as --fail-on).
SEVERITY_ORDER = {s: i for i, s in enumerate(reversed(list(Severity)))}


class ParseError(ValueError):
    """A report is malformed, truncated, too large or not what the tool should have written."""


class NothingToScan(Exception):
    """Raised by `build_command` when the workspace has nothing this tool can scan."""


@dataclass
class FindingData:
    """One finding as a plain record: no ORM, no "N/A" filler (empty means unknown)."""

    title: str
    severity: Severity
    rule_id: str = ""
    confidence: Confidence = Confidence.UNKNOWN
    description: str = ""
    cwe: int | None = None
    cve: str = ""
    file_path: str = ""
    line_start: int | None = None
    line_end: int | None = None
    code_snippet: str = ""
    package_name: str = ""
    package_version: str = ""
    fixed_version: str = ""
    url: str = ""
    parameter: str = ""
    remediation: str = ""
    references: list[str] = field(default_factory=list)
    secret_hash: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""

    def fingerprint_material(self, fields: Iterable[str]) -> list[Any]:
        """The normalised values of `fields` (FindingData names or `extra.<key>`)."""
        material: list[Any] = []
        for name in fields:
            if name.startswith("extra."):
                value = self.extra.get(name.removeprefix("extra."), "")
            else:
                value = getattr(self, name)
            if name == "code_snippet":
                value = normalise_code(value)
            material.append(value)
        return material

    def compute_fingerprint(self, fields: Iterable[str], *, salt: str = "") -> str:
        """SHA-256 over the named fields, so unrelated edits (line shifts) leave it unchanged."""
        blob = json.dumps([salt, *self.fingerprint_material(fields)], sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["severity"] = str(self.severity)
        data["confidence"] = str(self.confidence)
        return data


FINDING_FIELDS = frozenset(f.name for f in dataclasses.fields(FindingData))


def normalise_code(code: str) -> str:
    """Whitespace-insensitive code context: indentation and blank lines do not matter."""
    return "\n".join(filter(None, [" ".join(line.split()) for line in code.splitlines()]))


def assign_fingerprints(slug: str, findings: list[FindingData], fields: Iterable[str]) -> None:
    """Fill `fingerprint` on each finding; identical ones in one report get an occurrence index.

    Two `eval(x)` calls in one file have the same rule, path and code: the index (in report
    order, which a line shift does not change) keeps them apart without using line numbers.
    """
    fields = tuple(fields)
    seen: dict[str, int] = {}
    for finding in findings:
        base = finding.compute_fingerprint(fields, salt=slug)
        count = seen.get(base, 0)
        seen[base] = count + 1
        if count:
            blob = f"{base}:{count}".encode()
            finding.fingerprint = hashlib.sha256(blob).hexdigest()
        else:
            finding.fingerprint = base


def hash_secret(secret: str) -> str:
    """SHA-256 of a secret value: lets findings be matched without storing the secret."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class ScanContext:
    """Everything a plugin needs to build its command for one tool run on one target.

    `workspace` is the scanned tree for file targets (it may be read-only) and the working
    directory of the tool; `output_dir` is writable and keeps the raw report; `scratch_dir` is a
    private writable folder (HOME, TMPDIR, generated config) that is not kept.
    """

    workspace: Path
    output_dir: Path
    target_type: TargetType = TargetType.GIT_REPOSITORY
    target: str = ""
    overrides: dict[str, Any] = field(default_factory=dict)
    binary: str = ""
    scratch_dir: Path | None = None

    @property
    def scratch(self) -> Path:
        return self.scratch_dir or (self.output_dir / ".scratch")


@dataclass
class Command:
    """An argument list (never a shell string) and where its report ends up."""

    argv: list[str]
    cwd: Path
    output_path: Path
    #: The tool prints its report on stdout: the runner streams stdout into `output_path`.
    stdout_is_report: bool = False
    #: Keep stdout's head for the excerpt; False sends it to /dev/null (a copy of the report).
    capture_stdout: bool = True
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Location:
    """Where a plugin's binary is, or why it is unavailable."""

    path: str = ""
    reason: str = ""

    @property
    def available(self) -> bool:
        return bool(self.path)


@dataclass(frozen=True)
class Outcome:
    """The verdict on one finished run, decided from the report, not only the exit code."""

    ok: bool
    error: str = ""


class ScannerPlugin(ABC):
    """Base class of every scanner plugin (one per folder under apps/tools/plugins/)."""

    slug: ClassVar[str]
    label: ClassVar[str]
    category: ClassVar[Category]
    target_types: ClassVar[frozenset[TargetType]]
    output_format: ClassVar[str]
    binary: ClassVar[str]
    #: FindingData fields (or `extra.<key>`) that identify a finding across scans.
    fingerprint_fields: ClassVar[tuple[str, ...]]
    #: JSON Schema of the per-tool overrides a scan configuration may set.
    overrides_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {},
        "additionalProperties": False,
    }
    #: Folder under SECULITE_TOOLS_DIR holding the binary (default: the slug), and its bin dir.
    install_dir: ClassVar[str] = ""
    bin_subdir: ClassVar[str] = "bin"
    version_args: ClassVar[tuple[str, ...]] = ("--version",)
    #: Extra environment variables for this tool (merged into the runner's minimal env).
    env: ClassVar[dict[str, str]] = {}
    default_timeout: ClassVar[int] = 1800
    #: Largest report the parser accepts; the runner stops a tool whose report grows past it.
    max_report_bytes: ClassVar[int] = 256 * 1024 * 1024

    # --- the binary -----------------------------------------------------------------------
    def tools_dir(self) -> Path:
        return Path(settings.SECULITE_TOOLS_DIR)

    def locate(self) -> Location:
        """The binary in SECULITE_TOOLS_DIR/<install_dir>/bin, else on PATH, else a reason."""
        folder = self.tools_dir() / (self.install_dir or self.slug) / self.bin_subdir
        candidate = folder / self.binary
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return Location(path=str(candidate))
        on_path = shutil.which(self.binary)
        if on_path:
            return Location(path=on_path)
        return Location(
            reason=f"{self.binary} not found in {folder} or on PATH: run `make tools` "
            "(scripts/install-tools.sh)"
        )

    def version_command(self, binary: str) -> list[str]:
        return [binary, *self.version_args]

    def parse_version(self, output: str) -> str:
        match = re.search(r"(\d+\.\d+(?:\.\d+)?(?:[.-]?\w+)?)", output)
        return match.group(1) if match else output.strip()[:50]

    def detect_version(self, binary: str) -> str:
        """Run `<binary> --version` (through the runner's sandboxed spawn) and extract it."""
        from apps.tools.runner import capture_output

        output = capture_output(self, self.version_command(binary), timeout=60)
        return self.parse_version(output) if output else ""

    # --- configuration --------------------------------------------------------------------
    def validate_overrides(self, overrides: dict[str, Any] | None) -> dict[str, Any]:
        """Check overrides against `overrides_schema`; raises jsonschema.ValidationError."""
        overrides = overrides or {}
        jsonschema.validate(
            overrides, self.overrides_schema, format_checker=jsonschema.FormatChecker()
        )
        return overrides

    def supports(self, target_type: str) -> bool:
        return target_type in self.target_types

    # --- one run --------------------------------------------------------------------------
    @abstractmethod
    def build_command(self, ctx: ScanContext) -> Command:
        """The argument list for one run; raises NothingToScan when there is nothing to do."""

    def interpret(self, exit_code: int, output_path: Path, stderr: str) -> Outcome:
        """Decide success from the report; the default needs a non-empty report file."""
        if not output_path.is_file() or output_path.stat().st_size == 0:
            return Outcome(False, f"{self.binary} exited {exit_code} without writing a report")
        return Outcome(True)

    @abstractmethod
    def parse(self, stream: IO[bytes], *, workspace: Path | None = None) -> Iterator[FindingData]:
        """Turn the raw report into findings; raises ParseError on malformed input."""

    def parse_file(self, path: Path, *, workspace: Path | None = None) -> list[FindingData]:
        with path.open("rb") as stream:
            return list(self.parse(stream, workspace=workspace))

    def fingerprint(self, findings: list[FindingData]) -> list[FindingData]:
        assign_fingerprints(self.slug, findings, self.fingerprint_fields)
        return findings

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.slug}>"


# --- helpers shared by parsers --------------------------------------------------------------


def read_report(stream: IO[bytes], max_bytes: int) -> bytes:
    """Read a whole report, refusing one larger than `max_bytes` (no unbounded reads)."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ParseError(f"report is larger than {max_bytes} bytes")
    return data


def load_json(stream: IO[bytes], max_bytes: int) -> Any:
    """Parse a JSON report with a size limit; malformed or truncated JSON is a ParseError."""
    data = read_report(stream, max_bytes)
    if not data.strip():
        raise ParseError("report is empty")
    try:
        return json.loads(data, parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(f"report is not valid JSON: {exc}") from exc


def _no_constant(name: str) -> Any:
    """NaN, Infinity and -Infinity: Python's json accepts them, JSON does not (and the streamed
    readers refuse them), so no reader lets them through."""
    raise ParseError(f"report is not valid JSON: {name} is not a JSON value")


def expect(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    """Type-check one piece of untrusted report structure."""
    if not isinstance(value, kind):
        raise ParseError(f"{where}: expected {_kind_name(kind)}, got {type(value).__name__}")
    return value


def optional(value: Any, kind: type, where: str) -> Any:
    """Like `expect`, but a missing (None) value becomes an empty `kind`."""
    return kind() if value is None else expect(value, kind, where)


def as_list(value: Any) -> list:
    """A list field where a wrong type counts as absent (for lists of optional extras)."""
    return value if isinstance(value, list) else []


def _kind_name(kind: type | tuple[type, ...]) -> str:
    if isinstance(kind, tuple):
        return " or ".join(k.__name__ for k in kind)
    return kind.__name__


def as_int(value: Any) -> int | None:
    """An int, or a string of ASCII digits ("42"); anything else (a float, "4.2", superscript
    digits such as "²", which str.isdigit accepts and int() refuses, more than 18 digits, which
    no line number or id has) is unknown."""
    if type(value) is int:
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        digits = value.strip()
        if 0 < len(digits) <= 18 and digits.isascii() and digits.isdigit():
            return int(digits)
    return None


def storable(text: str) -> str:
    """Text the database takes as it is: no NUL (PostgreSQL refuses it), no lone surrogate
    (not encodable as UTF-8)."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text if text.isascii() else utf8_safe(text)


def utf8_safe(text: str) -> str:
    """The text with any lone surrogate (which UTF-8 cannot encode) replaced by "?"."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def as_text(value: Any, limit: int = 20_000) -> str:
    """A string field, empty for missing values and tools' own filler ("N/A", "None")."""
    if type(value) is str:
        text = value.strip()
    elif value is None or isinstance(value, (dict, list)):
        return ""
    else:
        text = str(value).strip()
    if text.upper() in {"N/A", "NA", "NONE", "NULL", "UNDEFINED"}:
        return ""
    return text[:limit]


_CWE_RE = re.compile(r"CWE-(\d{1,9})(?!\d)", re.IGNORECASE)


def parse_cwe(value: Any) -> int | None:
    """The first CWE number in an int, "CWE-79: ...", {"id": 79} or a list of those."""
    if type(value) is int:
        return value if value > 0 else None
    if isinstance(value, list):
        for item in value:
            cwe = parse_cwe(item)
            if cwe is not None:
                return cwe
        return None
    if isinstance(value, dict):
        return parse_cwe(value.get("id"))
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str):
        match = _CWE_RE.search(value)
        if match:
            return int(match.group(1))
        return as_int(value)
    return None


def url_list(values: Any, limit: int = 20) -> list[str]:
    """http(s) URLs from a list (or one string), de-duplicated, order kept."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list):
        return []
    urls: list[str] = []
    for value in values:
        if isinstance(value, dict):
            value = value.get("url")
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            if value not in urls:
                urls.append(value.strip())
        if len(urls) >= limit:
            break
    return urls


def relative_path(raw: Any, workspace: Path | None) -> str:
    """A report path as a POSIX path relative to the scanned root ("./a.py", "/abs/a.py" -> "a.py").

    Paths outside the workspace stay absolute-free: their leading "/" and any ".." are kept out.
    """
    if not isinstance(raw, str) or not raw:
        return ""
    path = raw.replace("\\", "/")
    if workspace is not None:
        root = str(workspace.resolve()).replace("\\", "/").rstrip("/") + "/"
        root_plain = str(workspace).replace("\\", "/").rstrip("/") + "/"
        for prefix in (root, root_plain):
            if path.startswith(prefix):
                path = path[len(prefix) :]
                break
    parts = [p for p in path.split("/") if p and p != "." and p != ".."]
    if path[:2] == "//" and path[2:3] != "/":
        # As PurePosixPath(path).parts (used here before) had it, since fingerprints hash this
        # path: exactly two leading slashes stay, as a "//" root.
        parts.insert(0, "//")
    return "/".join(parts)


class SourceLines:
    """Reads lines of scanned files for snippets, with a cache and size limits.

    Several tools do not put the code in their report (semgrep says "requires login"), so the
    parser reads it from the workspace, never following a path out of it.
    """

    max_file_bytes = 5 * 1024 * 1024
    max_snippet_lines = 20
    max_line_chars = 500

    def __init__(self, workspace: Path | None):
        self.workspace = workspace.resolve() if workspace else None
        self._cache: dict[str, list[str] | None] = {}

    def lines(self, rel_path: str) -> list[str] | None:
        if self.workspace is None or not rel_path:
            return None
        if rel_path not in self._cache:
            self._cache[rel_path] = self._read(rel_path)
        return self._cache[rel_path]

    def _read(self, rel_path: str) -> list[str] | None:
        if self.workspace is None:
            return None
        try:
            path = (self.workspace / rel_path).resolve()
            if not path.is_relative_to(self.workspace) or not path.is_file():
                return None
            if path.stat().st_size > self.max_file_bytes:
                return None
            return path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return None

    def snippet(self, rel_path: str, start: int | None, end: int | None = None) -> str:
        lines = self.lines(rel_path)
        if not lines or not start or start < 1:
            return ""
        end = end if end and end >= start else start
        end = min(end, start + self.max_snippet_lines - 1, len(lines))
        return "\n".join(line[: self.max_line_chars] for line in lines[start - 1 : end])


_UNSAFE_URL_CHARS = re.compile(r"[\x00-\x20\x7f\\]")


def web_target(target: str, tool: str) -> SplitResult:
    """The parts of a target that is an http(s) URL with a host, without spaces or control
    characters (a scanner's command line takes nothing else), else NothingToScan."""
    if not target or len(target) > 2048 or _UNSAFE_URL_CHARS.search(target):
        raise NothingToScan(f"{tool} needs an http(s) URL without spaces or control characters")
    try:
        parts = urlsplit(target)
    except ValueError as exc:  # "http://[::1": an IPv6 host never closed
        raise NothingToScan(f"{tool} needs a valid URL, not {target[:100]!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NothingToScan(f"{tool} scans http(s) URLs, not {target[:100]!r}")
    return parts


def stable_url_path(url: str) -> str:
    """A URL's path plus its query parameter names, for fingerprints of web findings: attack
    payloads in the values do not count. A URL urllib cannot split ("http://[::1/x") stands
    for itself."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    path = parts.path or "/"
    names = sorted({name for name, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return f"{path}?{'&'.join(names)}" if names else path


def severity_from(mapping: dict[str, Severity], value: Any, default: Severity) -> Severity:
    """Map a tool's own severity word onto SecuLite's scale (case-insensitive)."""
    if isinstance(value, str):
        return mapping.get(value.strip().upper(), default)
    return default


def max_scanned_file_bytes() -> int:
    """Files larger than SECULITE_SCAN_MAX_FILE_MB are left out of scans: a scanner that reads
    files whole would spend the worker's memory on one (a sparse 10 GB file costs its author
    nothing)."""
    return int(getattr(settings, "SECULITE_SCAN_MAX_FILE_MB", 50)) * 1024 * 1024


def unsafe_files(workspace: Path, *, max_bytes: int | None = None) -> list[str]:
    """Relative POSIX paths of the files under `workspace` that a scanner must not open:
    symlinks (a scanned repository must not lead a tool to files outside its tree, such as
    /etc/shadow) and files larger than `max_bytes` (default: max_scanned_file_bytes()).
    Directory symlinks are not descended into; .git is skipped."""
    limit = max_scanned_file_bytes() if max_bytes is None else max_bytes
    found: list[str] = []
    for root, dirs, files in os.walk(workspace, followlinks=False):
        found += [
            (Path(root) / d).relative_to(workspace).as_posix()
            for d in dirs
            if (Path(root) / d).is_symlink()
        ]
        dirs[:] = sorted(d for d in dirs if d != ".git" and not (Path(root) / d).is_symlink())
        for name in sorted(files):
            path = Path(root) / name
            try:
                st = path.lstat()
            except OSError:
                continue
            if stat.S_ISLNK(st.st_mode) or st.st_size > limit:
                found.append(path.relative_to(workspace).as_posix())
    return found


def files_matching(
    workspace: Path,
    predicate,
    *,
    limit: int,
    skip_dirs: frozenset[str] = frozenset(
        {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache"}
    ),
) -> list[str]:
    """Relative POSIX paths of files under `workspace` for which predicate(path) is true.

    Symlinks are not followed (a scanned repo must not lead a tool outside its tree) and files
    over max_scanned_file_bytes() are left out; the walk stops at `limit` matches so a huge tree
    cannot produce an unbounded argument list.
    """
    found: list[str] = []
    max_bytes = max_scanned_file_bytes()
    for root, dirs, files in os.walk(workspace, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in skip_dirs)
        for name in sorted(files):
            path = Path(root) / name
            if path.is_symlink() or not path.is_file():
                continue
            if path.stat().st_size > max_bytes:
                continue
            if predicate(path):
                found.append(path.relative_to(workspace).as_posix())
                if len(found) >= limit:
                    return found
    return found


# --- pieces of override schemas shared by several plugins -------------------------------------

EXCLUDE_PATHS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "description": "Paths or glob patterns (relative to the scanned root) to leave out.",
    # No leading "-" (a value must never be read as an option) and no "," (bandit's separator).
    "items": {"type": "string", "maxLength": 300, "pattern": r"^[^\-\x00-\x1f,][^\x00-\x1f,]*$"},
    "maxItems": 100,
    "uniqueItems": True,
}

IGNORE_INLINE_SUPPRESSIONS_SCHEMA: dict[str, Any] = {
    "type": "boolean",
    "description": "Report findings even where the code suppresses them inline (# nosec, ...).",
    "default": False,
}


def rule_ids_schema(pattern: str, description: str) -> dict[str, Any]:
    return {
        "type": "array",
        "description": description,
        "items": {"type": "string", "pattern": pattern},
        "maxItems": 500,
        "uniqueItems": True,
    }


# --- secrets in code snippets ------------------------------------------------------------------

#: CWEs of hard-coded credentials: findings with these get their string literals redacted.
CREDENTIAL_CWES = frozenset({259, 321, 798, 256, 522})
REDACTED = "***REDACTED***"
_LITERAL_RE = re.compile(r"""(?P<q>["'`])(?P<value>(?:\\.|(?!(?P=q)).){4,}?)(?P=q)""")


def redact_literals(code: str) -> tuple[str, str]:
    """Replace quoted string literals in `code` by a marker; returns (code, first literal).

    Used when a SAST rule flags a hard-coded credential: the snippet must not carry it, and the
    first literal's hash still identifies the finding.
    """
    first = ""

    def _sub(match: re.Match) -> str:
        nonlocal first
        if not first:
            first = match.group("value")
        return f"{match.group('q')}{REDACTED}{match.group('q')}"

    return _LITERAL_RE.sub(_sub, code), first
