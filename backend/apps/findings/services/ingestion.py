"""Turning parsed finding records into Finding rows: upserts keyed on (project, target,
fingerprint), so a finding seen again is refreshed, never duplicated, and a retried tool run
writes nothing twice. Status changes (auto-resolve, reopen) and severity history are the
lifecycle's job after the scan (services.lifecycle), not this module's.

`FindingStage` writes inside the caller's transaction, so a report is stored all or nothing:
`add()` upserts a batch at a time as records stream in (memory stays bounded whatever the report
size) and `write()` returns the counts. On PostgreSQL each batch is one INSERT ... SELECT FROM
json_to_recordset(...) ON CONFLICT DO UPDATE sent in psycopg's pipeline mode, so the database
works on one batch while Python parses the next (two cores, both busy). Queries: one per batch of
`BATCH_ROWS` rows, plus one count at the end; elsewhere (SQLite) two per `BATCH_SIZE` rows.
New rows get their effective severity and SLA due date at insert, so the lifecycle pass has
nothing to rewrite for them."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from json.encoder import c_make_encoder, encode_basestring
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from apps.tools.plugins.base import FindingData

from ..models import SEVERITY_RANK, Finding, FindingStatus

BATCH_SIZE = 1000
#: Rows per upsert statement on PostgreSQL.
BATCH_ROWS = 5000
_INT_MAX = 2**31 - 1
# Columns refreshed when a known finding is seen again (first_seen_*, status, triage stay).
REFRESHED = [
    "tool_result",
    "last_seen_scan",
    "last_seen_at",
    "title",
    "description",
    "severity",
    "severity_rank",
    "confidence",
    "rule_id",
    "cwe",
    "cve",
    "file_path",
    "line_start",
    "line_end",
    "url",
    "parameter",
    "package_name",
    "package_version",
    "fixed_version",
    "code_snippet",
    "remediation",
    "references",
    "extra",
    "updated_at",
]
#: The staged content of a row, in order (after tool_result_id, target_id, tool_id).
CONTENT = [
    "fingerprint",
    "title",
    "description",
    "severity",
    "severity_rank",
    "confidence",
    "rule_id",
    "cwe",
    "cve",
    "file_path",
    "line_start",
    "line_end",
    "url",
    "parameter",
    "package_name",
    "package_version",
    "fixed_version",
    "code_snippet",
    "remediation",
    "references",
    "extra",
]
#: The staged columns of a row, in order, and their SQL types (others are text).
_STAGED = ["tool_result_id", "target_id", "tool_id", *CONTENT]
_SQL_TYPES = {
    "tool_result_id": "bigint",
    "target_id": "bigint",
    "severity_rank": "integer",
    "cwe": "integer",
    "line_start": "integer",
    "line_end": "integer",
}
_JSON_COLUMNS = ("references", "extra")


@dataclass
class IngestResult:
    seen: int = 0
    new: int = 0
    #: Findings seen per tool result id (an import of a multi-tool SARIF log has several).
    seen_by_result: dict[int, int] = field(default_factory=dict)


# --- sanitising one record ------------------------------------------------------------------
def _text(value: Any, limit: int = 0) -> str:
    """Text PostgreSQL accepts: no NUL, no lone surrogate, at most `limit` characters."""
    if not value:
        return ""
    if type(value) is not str:
        value = str(value)
    if limit and len(value) > limit:
        value = value[:limit]
    if "\x00" in value:
        value = value.replace("\x00", "")
    if not value.isascii():
        value = _encodable(value)
    return value


def _encodable(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def _positive(value: Any) -> int | None:
    return value if type(value) is int and 0 < value <= _INT_MAX else None


# The C encoder made once (json.dumps builds one per call): compact, UTF-8, no NaN.
_encode = c_make_encoder(None, str, encode_basestring, None, ":", ",", False, False, False)


def _json(value: Any, empty: str) -> str:
    if not value:
        return empty
    try:
        text = "".join(_encode(value, 0))
    except (ValueError, TypeError, RecursionError):
        text = json.dumps(_finite(value, 0), ensure_ascii=False, default=str)
    if "\\u0000" in text:
        text = text.replace("\\u0000", "")
    if not text.isascii():
        text = _encodable(text)
    return text


def _finite(value: Any, depth: int) -> Any:
    """A copy without NaN/Infinity and nesting cut at 20 levels (JSON columns reject them)."""
    if depth > 20:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v, depth + 1) for v in value]
    return value


def _content(record: FindingData) -> tuple:
    """The staged values of one record, in CONTENT order (JSON columns as JSON text)."""
    severity = str(record.severity)
    rank = SEVERITY_RANK.get(severity)
    if rank is None:
        severity, rank = "info", 0
    references = record.references
    if references:
        references = [r for r in references if isinstance(r, str)][:50]
    rule_id = _text(record.rule_id, 300)
    return (
        record.fingerprint,
        _text(record.title, 500) or rule_id or "Untitled finding",
        _text(record.description),
        severity,
        rank,
        _text(record.confidence, 10),
        rule_id,
        _positive(record.cwe),
        _text(record.cve, 50),
        _text(record.file_path, 1000),
        _positive(record.line_start),
        _positive(record.line_end),
        _text(record.url, 2000),
        _text(record.parameter, 300),
        _text(record.package_name, 300),
        _text(record.package_version, 100),
        _text(record.fixed_version, 100),
        _text(record.code_snippet),
        _text(record.remediation),
        _json(references, "[]"),
        _json(record.extra, "{}"),
    )


# --- the stage ------------------------------------------------------------------------------
class FindingStage:
    """Upserts the findings of one scan's tool results batch by batch, inside the caller's
    transaction: if anything fails before the commit, nothing is written."""

    def __init__(self, *, scan, on_progress=None):
        self.scan = scan
        self.on_progress = on_progress
        self.count = 0
        self.batches = 0
        self._rows: dict[tuple[int, str], tuple] = {}
        self._result_ids: set[int] = set()
        self._postgres = connection.vendor == "postgresql"
        self._pipeline = None
        self._cursor = None
        self._locked_targets: set[int] = set()
        self._sql = ""
        self._now = timezone.now()

    def __enter__(self) -> FindingStage:
        return self

    def __exit__(self, *exc) -> None:
        self.discard()

    def add(self, tool_result, record: FindingData) -> None:
        if not record.fingerprint:
            return
        # A fingerprint seen twice in one batch is one row (the later record wins).
        self._rows[(tool_result.target_id, record.fingerprint)] = (
            tool_result.pk,
            tool_result.target_id,
            tool_result.tool_id,
            *_content(record),
        )
        self._result_ids.add(tool_result.pk)
        if len(self._rows) >= (BATCH_ROWS if self._postgres else BATCH_SIZE):
            self._flush()

    def add_all(self, tool_result, records: Iterable[FindingData]) -> None:
        for record in records:
            self.add(tool_result, record)

    def _flush(self) -> None:
        if not self._rows:
            return
        if not connection.in_atomic_block:
            raise RuntimeError("FindingStage writes inside a transaction (transaction.atomic)")
        rows = list(self._rows.values())
        self._rows = {}
        if self._postgres:
            self._upsert_postgres(rows)
        else:
            self._upsert_orm(rows)
        self.count += len(rows)
        self.batches += 1
        if self.on_progress is not None:
            self.on_progress(self.count)

    # --- PostgreSQL -----------------------------------------------------------------------------
    def _upsert_postgres(self, rows: list[tuple]) -> None:
        if self._pipeline is None:
            connection.ensure_connection()
            raw = connection.connection
            self._pipeline = raw.pipeline()
            self._pipeline.__enter__()
            self._cursor = raw.cursor()
            # Foreign keys checked row by row as the batches go in (overlapping the parsing),
            # not all at once at the commit.
            self._cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            self._sql, self._params = self._statement()
        # Writers of one target take turns (until their commit): two imports or scans of the
        # same target would otherwise lock each other's rows batch by batch and deadlock.
        for target_id in sorted({row[1] for row in rows} - self._locked_targets):
            self._cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"seculite:findings:target:{target_id}"],
            )
            self._locked_targets.add(target_id)
        # One JSON text per batch: the C encoder here, PostgreSQL's JSON parser there (psycopg's
        # array adaptation escapes element by element in Python, ten times slower).
        payload = "".join(_encode([dict(zip(_STAGED, row, strict=True)) for row in rows], 0))
        self._cursor.execute(self._sql, [*self._params, payload])

    def _statement(self) -> tuple[str, list]:
        """INSERT ... SELECT FROM json_to_recordset(the batch) ON CONFLICT DO UPDATE."""
        quote = connection.ops.quote_name
        staged = ", ".join(f"{quote(c)} {_SQL_TYPES.get(c, 'text')}" for c in _STAGED)
        now, scan = self._now, self.scan
        provided: dict[str, tuple[str, list]] = {
            "project_id": ("%s", [scan.project_id]),
            "first_seen_scan_id": ("%s", [scan.pk]),
            "last_seen_scan_id": ("%s", [scan.pk]),
            "first_seen_at": ("%s", [now]),
            "last_seen_at": ("%s", [now]),
            "created_at": ("%s", [now]),
            "updated_at": ("%s", [now]),
            "status": ("%s", [FindingStatus.NEW.value]),
            **{c: (f"s.{quote(c)}", []) for c in ["tool_result_id", "target_id", "tool_id"]},
            **{c: (f"s.{quote(c)}", []) for c in CONTENT if c not in _JSON_COLUMNS},
            **{c: (f"s.{quote(c)}::jsonb", []) for c in _JSON_COLUMNS},
            # What the lifecycle would otherwise set on every new row in a second pass.
            "effective_severity": ("s.severity", []),
            "due_date": _due_date_case(now),
        }
        columns, expressions, params = [], [], []
        for model_field in Finding._meta.concrete_fields:
            if model_field.primary_key:
                continue
            column = model_field.column
            columns.append(quote(column))
            if column in provided:
                expression, values = provided[column]
                expressions.append(expression)
                params += values
            else:  # a column ingestion does not know: the model's default
                expressions.append("%s")
                default = model_field.get_default()
                params.append(model_field.get_db_prep_save(default, connection))
        refreshed = [Finding._meta.get_field(name).column for name in REFRESHED]
        updates = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in refreshed)
        table = quote(Finding._meta.db_table)
        sql = (
            # Identifiers come from the model; every value is a parameter.
            f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {', '.join(expressions)} FROM json_to_recordset(%s::json) AS s({staged}) "
            f"ON CONFLICT (project_id, target_id, fingerprint) DO UPDATE SET {updates}"
        )
        # The constants come first in the statement (the SELECT list), then the batch's JSON.
        return sql, params

    def _finish_postgres(self) -> None:
        if self._pipeline is not None:
            pipeline, self._pipeline = self._pipeline, None
            self._cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            self._cursor.close()
            pipeline.__exit__(None, None, None)  # waits for the batches; raises their errors

    # --- other databases (SQLite in development and unit tests) --------------------------------
    def _upsert_orm(self, rows: list[tuple]) -> None:
        scan, now = self.scan, self._now
        objects = []
        for tool_result_id, target_id, tool_id, *content in rows:
            values = dict(zip(CONTENT, content, strict=True))
            values["references"] = json.loads(values["references"])
            values["extra"] = json.loads(values["extra"])
            objects.append(
                Finding(
                    project_id=scan.project_id,
                    target_id=target_id,
                    tool_id=tool_id,
                    tool_result_id=tool_result_id,
                    first_seen_scan=scan,
                    last_seen_scan=scan,
                    first_seen_at=now,
                    last_seen_at=now,
                    created_at=now,
                    updated_at=now,
                    status=FindingStatus.NEW,
                    **values,
                )
            )
        Finding.objects.bulk_create(
            objects,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=["project", "target", "fingerprint"],
            update_fields=REFRESHED,
        )

    # --- writing and discarding ------------------------------------------------------------------
    def write(self) -> IngestResult:
        """Send what is left and return the counts (one aggregate query)."""
        self._flush()
        if self._postgres:
            self._finish_postgres()
        result = IngestResult()
        if not self._result_ids:
            return result
        rows = (
            Finding.objects.filter(last_seen_scan=self.scan, tool_result_id__in=self._result_ids)
            .values("tool_result_id")
            .annotate(seen=Count("id"), new=Count("id", filter=Q(first_seen_scan=self.scan)))
            .order_by()
        )
        for row in rows:
            result.seen_by_result[row["tool_result_id"]] = row["seen"]
            result.seen += row["seen"]
            result.new += row["new"]
        return result

    def discard(self) -> None:
        """Drop what was not sent; on an error the caller's transaction rolls back the rest."""
        self._rows = {}
        if self._pipeline is not None:
            pipeline, self._pipeline = self._pipeline, None
            try:
                self._cursor.close()
                pipeline.__exit__(None, None, None)
            except Exception:  # noqa: S110 - the error that brought us here is the one to report
                pass


def _due_date_case(now) -> tuple[str, list]:
    """SQL for the SLA due date of a new row from its severity (the lifecycle's rule)."""
    try:
        from .lifecycle import sla_days

        days = sla_days()
    except Exception:
        return "NULL", []
    cases, params = [], []
    for severity, n in days.items():
        if n:
            cases.append("WHEN %s THEN %s::date")
            params += [severity, timezone.localdate(now + timedelta(days=n))]
    if not cases:
        return "NULL", []
    return f"CASE s.severity {' '.join(cases)} END", params


def findings_ingest(*, tool_result, records: Iterable[FindingData]) -> IngestResult:
    """Upsert the records of one tool result; returns counts.

    Runs inside the caller's transaction when there is one, so that findings and the tool
    result's final status are written together or not at all."""
    with transaction.atomic(), FindingStage(scan=tool_result.scan) as stage:
        stage.add_all(tool_result, records)
        return stage.write()


def findings_summary(*, scan) -> dict:
    """Counts for a scan's summary: by severity (seen in this scan), new and recurring.

    Two aggregate queries whatever the number of findings."""
    seen = Finding.objects.filter(last_seen_scan=scan)
    by_severity = {s: 0 for s in SEVERITY_RANK}
    for row in seen.values("severity").annotate(n=Count("id")).order_by():
        by_severity[row["severity"]] = row["n"]
    counts = seen.aggregate(
        new=Count("id", filter=Q(first_seen_scan=scan)),
        open=Count(
            "id",
            filter=~Q(status__in=[FindingStatus.FALSE_POSITIVE, FindingStatus.RISK_ACCEPTED]),
        ),
    )
    total = sum(by_severity.values())
    return {
        "total": total,
        "by_severity": by_severity,
        "new": counts["new"],
        "recurring": total - counts["new"],
        "open": counts["open"],
    }
