"""Report formats an import accepts: SARIF 2.1.0 from any tool, and each scanner plugin's
native format through the plugin's own parser (so an imported report and a platform scan of the
same tool give the same findings). `open_report(path, fmt)` gives a reader whose `prepare()`
names the tools in the report and whose `records()` yields fingerprinted findings, streamed for
SARIF and Bandit JSON; other native formats are parsed whole, up to
SECULITE_IMPORT_MAX_UNSTREAMED_MB."""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from json.encoder import c_make_encoder, encode_basestring_ascii
from pathlib import Path

from django.conf import settings

from apps.tools.plugins.base import FindingData, ParseError, ScannerPlugin, normalise_code
from apps.tools.plugins.registry import registry

from .detect import SARIF, describe, detect, read_head
from .jsonstream import JsonReader
from .sarif import FINGERPRINT_FIELDS, SarifReport

__all__ = [
    "SARIF",
    "Fingerprinter",
    "ParseError",
    "ReportReader",
    "ToolInfo",
    "available_formats",
    "open_report",
    "resolve_format",
]


@dataclass
class ToolInfo:
    tool_id: str
    label: str
    version: str = ""
    #: The report says this tool did not run successfully: its results are not findings.
    failure: str = ""


def available_formats() -> list[str]:
    """ "sarif" and the slug of every installed plugin."""
    return [SARIF, *registry.slugs()]


def resolve_format(path: Path, requested: str = "") -> str:
    """The format to read `path` with: the one asked for (unless the content is plainly
    another), else the one detected; ParseError when there is none."""
    head = read_head(path)
    if not head.strip(b"\xef\xbb\xbf \t\r\n"):
        raise ParseError("the report is empty")
    if not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        except UnicodeDecodeError as exc:
            raise ParseError(
                f"the report is not valid UTF-8 (byte {exc.start}: {exc.reason})"
            ) from None
    detected = detect(head, set(registry.slugs()))
    if requested:
        if detected and detected != requested:
            raise ParseError(f"the file is a {detected} report, not {requested}")
        return requested
    if detected is None:
        looks = describe(head)
        if looks.startswith("it is not valid JSON: "):  # before any key that tells the format
            raise ParseError(f"the report is {looks.removeprefix('it is ')}")
        raise ParseError(
            f"the report's format was not recognised ({looks}); name it with the "
            f"`format` field: {', '.join(available_formats())}"
        )
    return detected


# json.dumps(..., sort_keys=True, default=str) as FindingData.compute_fingerprint calls it, with
# the C encoder built once instead of per call.
_encode = c_make_encoder(None, str, encode_basestring_ascii, None, ": ", ", ", True, False, True)


class Fingerprinter:
    """`assign_fingerprints` one record at a time: identical findings of a report get an
    occurrence index in report order. Keeps 8 bytes per distinct finding, not the records.

    The hash is FindingData.compute_fingerprint's, computed without its per-call overhead (a
    test checks that both agree)."""

    def __init__(self):
        self._seen: dict[int, int] = {}
        self._fields: tuple = ()
        self._getters: tuple = ()

    def assign(self, record: FindingData, fields, salt: str) -> None:
        if fields is self._fields:
            getters = self._getters
        else:
            getters = tuple(_field_getter(name) for name in fields)
            if type(fields) is tuple:  # immutable, so kept for the next record
                self._fields, self._getters = fields, getters
        material: list = [salt]
        material += [get(record) for get in getters]
        base = hashlib.sha256("".join(_encode(material, 0)).encode()).hexdigest()
        key = int(base[:16], 16)
        count = self._seen.get(key, 0)
        self._seen[key] = count + 1
        if count:
            record.fingerprint = hashlib.sha256(f"{base}:{count}".encode()).hexdigest()
        else:
            record.fingerprint = base


def _field_getter(name: str):
    """The reader of one fingerprint field: FindingData.fingerprint_material's rules."""
    if name.startswith("extra."):
        key = name[6:]
        return lambda record: record.extra.get(key, "")
    if name == "code_snippet":
        return lambda record: normalise_code(record.code_snippet)
    return lambda record: getattr(record, name)


class ReportReader:
    """`prepare()` returns the tools of the report; `records()` yields (tool id, finding)."""

    def __init__(self, path: Path, fmt: str):
        self.path = path
        self.format = fmt

    def prepare(self) -> list[ToolInfo]:
        raise NotImplementedError

    def records(self) -> Iterator[tuple[str, FindingData]]:
        raise NotImplementedError


class SarifReader(ReportReader):
    def prepare(self) -> list[ToolInfo]:
        self._report = SarifReport(self.path)
        tools: dict[str, ToolInfo] = {}
        for run in self._report.prepare():
            tool = tools.setdefault(run.tool_id, ToolInfo(run.tool_id, run.name, run.version))
            tool.failure = tool.failure or run.failure
        return list(tools.values())

    def records(self) -> Iterator[tuple[str, FindingData]]:
        prints = Fingerprinter()
        failed = {run.tool_id for run in self._report.runs if run.failure}
        for run, record in self._report.records():
            if run.tool_id in failed:
                continue
            if not record.fingerprint:
                prints.assign(record, FINGERPRINT_FIELDS, run.tool_id)
            record.extra.pop("fingerprint_basis", None)
            yield run.tool_id, record


class NativeReader(ReportReader):
    def __init__(self, path: Path, fmt: str, plugin: ScannerPlugin):
        super().__init__(path, fmt)
        self.plugin = plugin

    def prepare(self) -> list[ToolInfo]:
        return [ToolInfo(self.plugin.slug, self.plugin.label)]

    def records(self) -> Iterator[tuple[str, FindingData]]:
        plugin = self.plugin
        slug = plugin.slug
        if type(plugin).fingerprint is not ScannerPlugin.fingerprint:
            # A plugin with its own fingerprinting needs the whole list, as a scan does.
            findings = plugin.fingerprint(list(self._parsed()))
            yield from ((slug, record) for record in findings)
            return
        prints = Fingerprinter()
        for record in self._parsed():
            prints.assign(record, plugin.fingerprint_fields, slug)
            yield slug, record

    def _parsed(self) -> Iterator[FindingData]:
        streamed = STREAMED.get(self.plugin.slug)
        if streamed is not None:
            yield from streamed(self.path)
            return
        limit = settings.SECULITE_IMPORT_MAX_UNSTREAMED_MB * 1024 * 1024
        size = self.path.stat().st_size
        if size > min(limit, self.plugin.max_report_bytes):
            raise ParseError(
                f"a {self.plugin.slug} report is read whole, and this one "
                f"({size // (1024 * 1024)} MB) is larger than the "
                f"{min(limit, self.plugin.max_report_bytes) // (1024 * 1024)} MB allowed: "
                "import it as SARIF instead"
            )
        # The plugin's own verdict first: a report that says the scan failed (sslyze could not
        # connect, ...) must not pass for a clean run that resolves everything.
        outcome = self.plugin.interpret(0, self.path, "")
        if not outcome.ok:
            raise ParseError(f"the report says the scan did not succeed: {outcome.error}")
        with self.path.open("rb") as stream:
            yield from self.plugin.parse(stream, workspace=None)


def _bandit(path: Path) -> Iterator[FindingData]:
    """Bandit JSON, one issue at a time, through the bandit plugin's own issue parser."""
    from apps.tools.plugins.bandit import parser

    with path.open("rb") as stream:
        reader = JsonReader(stream)
        if reader.kind() != "object":
            raise ParseError("bandit report: expected a JSON object")
        found = False
        for key in reader.iter_object():
            if key != "results":
                continue
            found = True
            if reader.kind() != "array":
                raise ParseError("bandit results: expected a list")
            finding = parser._finding
            for item in reader.iter_values():
                yield finding(item, None)
        reader.finish()
    if not found:
        raise ParseError("bandit report has no results list")


#: Native formats read one finding at a time (the others are parsed whole by their plugin).
STREAMED = {"bandit": _bandit}


def open_report(path: Path, fmt: str) -> ReportReader:
    if fmt == SARIF:
        return SarifReader(path, fmt)
    try:
        plugin = registry.get(fmt)
    except KeyError:
        raise ParseError(f"unknown report format {fmt!r}") from None
    return NativeReader(path, fmt, plugin)
