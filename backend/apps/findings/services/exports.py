"""Exports of a finding set as CSV, JSON or SARIF 2.1.0, streamed: rows are read with a
server-side cursor in chunks and written as they come, so a million findings never sit in
memory. CSV cells that a spreadsheet would run as a formula are neutralised."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import QuerySet
from django.utils import timezone

from apps.findings.sarif import SarifRun, SarifTool, iter_sarif
from apps.scans.models import Scan, ScanToolResult, ToolResultStatus

from ..models import Finding
from .reports import effective_severity

FORMATS = ("csv", "json", "sarif")
CHUNK_SIZE = 2000  # rows per database round trip
BUFFER_SIZE = 64 * 1024  # characters per chunk of the response

#: The exported columns (CSV order; JSON keys). `severity` is the effective severity.
COLUMNS = [
    "id",
    "project_id",
    "project",
    "target_id",
    "target",
    "tool_id",
    "title",
    "severity",
    "scanner_severity",
    "status",
    "confidence",
    "rule_id",
    "cwe",
    "cve",
    "epss",
    "file_path",
    "line_start",
    "line_end",
    "url",
    "parameter",
    "package_name",
    "package_version",
    "fixed_version",
    "fingerprint",
    "first_seen_at",
    "last_seen_at",
    "resolved_at",
    "first_seen_scan_id",
    "last_seen_scan_id",
    "assignee",
    "due_date",
    "tags",
    "description",
    "remediation",
    "references",
    "code_snippet",
]
#: Database values behind the columns that are not plain fields of Finding.
_SOURCES = {
    "project": "project__name",
    "target": "target__name",
    "scanner_severity": "severity",
    "severity": "export_severity",
    "assignee": "assignee__username",
}
#: Cells starting with one of these are formulas to Excel, LibreOffice and Google Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "sarif": "application/sarif+json",
}
EXTENSIONS = {"csv": "csv", "json": "json", "sarif": "sarif"}


@dataclass
class Export:
    chunks: Iterator[str]
    content_type: str
    filename: str


def export_rows(queryset: QuerySet[Finding]) -> Iterator[dict]:
    """The finding set as dicts with the exported columns, read in chunks."""
    sources = [_SOURCES.get(c, c) for c in COLUMNS]
    rows = (
        queryset.with_sighting()
        .annotate(export_severity=effective_severity())
        .values(*sources)
        .iterator(chunk_size=CHUNK_SIZE)
    )
    for row in rows:
        yield {column: row[source] for column, source in zip(COLUMNS, sources, strict=True)}


def safe_cell(value) -> str:
    """A CSV cell as text; a cell a spreadsheet would evaluate gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, list | dict):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, datetime | date):
        text = value.isoformat()
    else:
        text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        text = "'" + text
    return text


def _buffered(parts: Iterable[str]) -> Iterator[str]:
    """Join small pieces into chunks of about BUFFER_SIZE characters."""
    buffer: list[str] = []
    size = 0
    for part in parts:
        buffer.append(part)
        size += len(part)
        if size >= BUFFER_SIZE:
            yield "".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer)


def iter_csv(rows: Iterable[dict]) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([safe_cell(row[c]) for c in COLUMNS])
        if out.tell() >= BUFFER_SIZE:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _json_default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def iter_json(rows: Iterable[dict], *, meta: dict) -> Iterator[str]:
    """{"generated_at", ...meta, "findings": [...]}, one finding at a time."""
    head = {"generated_at": timezone.now().isoformat(), **meta}
    yield json.dumps(head, default=_json_default)[:-1] + ', "findings": ['
    first = True
    for row in rows:
        yield ("\n" if first else ",\n") + json.dumps(
            row, default=_json_default, ensure_ascii=False
        )
        first = False
    yield "\n]}\n"


def _sarif_tools(slugs: Iterable[str], scan: Scan | None) -> dict[str, SarifTool]:
    """Display name, version and home page of each tool: the scan's tool versions for a scan
    export, else the versions detected on this installation."""
    from apps.tools.models import ToolDefinition
    from apps.tools.plugins.registry import registry

    slugs = set(slugs)
    names, versions = {}, {}
    for slug, name, version in ToolDefinition.objects.filter(tool_id__in=slugs).values_list(
        "tool_id", "name", "version"
    ):
        names[slug], versions[slug] = name, version
    if scan is not None:
        for slug, version in (
            ScanToolResult.objects.filter(scan=scan, tool_id__in=slugs)
            .exclude(tool_version="")
            .values_list("tool_id", "tool_version")
        ):
            versions[slug] = version
    tools = {}
    for slug in slugs:
        if slug in registry:
            tool = SarifTool.from_plugin(registry.get(slug), version=versions.get(slug, ""))
        else:
            tool = SarifTool(
                slug=slug, name=names.get(slug) or slug, version=versions.get(slug, "")
            )
        tools[slug] = tool
    return tools


def iter_sarif_export(queryset: QuerySet[Finding], *, scan: Scan | None = None) -> Iterator[str]:
    """One SARIF run per tool (findings ordered by tool), through the shared SARIF writer."""
    slugs = list(queryset.order_by().values_list("tool_id", flat=True).distinct())
    tools = _sarif_tools(slugs, scan)
    failed: set[str] = set()
    if scan is not None:
        failed = set(
            ScanToolResult.objects.filter(
                scan=scan, status__in=[ToolResultStatus.FAILED, ToolResultStatus.TIMED_OUT]
            ).values_list("tool_id", flat=True)
        )
    ordering = ["tool_id", *(queryset.query.order_by or ["-severity_rank", "-id"])]
    rows = export_rows(queryset.order_by(*ordering))

    def runs() -> Iterator[SarifRun]:
        for slug, group in itertools.groupby(rows, key=lambda row: row["tool_id"]):
            yield SarifRun(
                tool=tools.get(slug) or SarifTool(slug=slug, name=slug),
                findings=_sarif_findings(group),
                execution_successful=slug not in failed,
                properties={"seculiteScanId": scan.pk} if scan is not None else {},
            )

    return iter_sarif(runs())


def _sarif_findings(rows: Iterable[dict]) -> Iterator[dict]:
    for row in rows:
        row["references"] = row["references"] if isinstance(row["references"], list) else []
        yield row


def findings_export(
    *, queryset: QuerySet[Finding], fmt: str, name: str, scan: Scan | None = None
) -> Export:
    """The export of `queryset` in `fmt` (csv, json or sarif): chunks, content type, file name.
    `name` becomes part of the file name (e.g. "scan-12")."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    if not queryset.query.order_by:
        queryset = queryset.order_by("-severity_rank", "-id")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    filename = f"seculite-{name}-findings-{stamp}.{EXTENSIONS[fmt]}"
    if fmt == "csv":
        chunks = iter_csv(export_rows(queryset))
    elif fmt == "json":
        meta = {"scan_id": scan.pk} if scan is not None else {}
        chunks = _buffered(iter_json(export_rows(queryset), meta=meta))
    else:
        chunks = _buffered(iter_sarif_export(queryset, scan=scan))
    return Export(chunks=chunks, content_type=CONTENT_TYPES[fmt], filename=filename)
