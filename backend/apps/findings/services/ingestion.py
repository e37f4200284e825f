"""Turning parsed finding records into Finding rows: upserts keyed on (project, target,
fingerprint), so a finding seen again is refreshed, never duplicated, and a retried tool run
writes nothing twice. Status changes (auto-resolve, reopen) and severity history are the
lifecycle's job after the scan (services.lifecycle), not this module's.

`FindingStage` writes inside the caller's transaction, so a report is stored all or nothing:
`add()` upserts a batch at a time as records stream in (memory stays bounded whatever the report
size) and `write()` returns the counts.

On PostgreSQL a batch of `BATCH_ROWS` rows is COPYed (binary) into a temporary stage table, then
one statement merges it, sent in psycopg's pipeline mode: the database merges one batch while
Python parses the next (two cores, both busy). The merge looks each row's finding up through the
unique index, inserts the new ones (a plain INSERT with ids taken from the sequence: writers of
a target take turns, so no ON CONFLICT probe), rewrites a known one only where its content
changed, and upserts every row's sighting (FindingSighting: scan, time, tool result), a narrow
row with three index entries. An unchanged finding thus costs a look-up and a sighting, not a
new version of a row with two dozen indexes. The merge returns its counts (findings seen, and
first seen by this scan, per tool result), so nothing is counted afterwards. Statements: three
per batch (COPY, merge, TRUNCATE of the stage) and a fixed few per stage. Elsewhere (SQLite)
three statements per `BATCH_SIZE` rows and one count at the end.

New rows get their effective severity and SLA due date at insert, and a known row keeps the
rank of its analyst's severity override, so the lifecycle pass has nothing to rewrite for them."""

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

from apps.tools.plugins.base import FindingData, utf8_safe

from ..models import SEVERITY_RANK, Finding, FindingSighting, FindingStatus

BATCH_SIZE = 1000
#: Rows per COPY and merge on PostgreSQL.
BATCH_ROWS = 5000
#: The temporary table a batch is COPYed into (PostgreSQL; dropped at the commit).
STAGE_TABLE = "seculite_finding_stage"
_INT_MAX = 2**31 - 1
# Columns refreshed when a known finding is seen again with other content (first_seen_*,
# status and triage stay); its sighting is refreshed whatever its content.
REFRESHED = [
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
#: The binary COPY type of each staged column.
_COPY_TYPES = [
    {"bigint": "int8", "integer": "int4"}.get(_SQL_TYPES.get(c, "text"), "text") for c in _STAGED
]


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
        value = utf8_safe(value)
    return value


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
        text = utf8_safe(text)
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
def _key(target_id: int, fingerprint: str) -> int | tuple[int, str]:
    """A compact exact key of one row (fingerprints are mostly SHA-256 hex)."""
    if len(fingerprint) == 64:
        try:
            return int(fingerprint, 16) | (target_id << 256)
        except ValueError:
            pass
    return (target_id, fingerprint)


class FindingStage:
    """Upserts the findings of one scan's tool results batch by batch, inside the caller's
    transaction: if anything fails before the commit, nothing is written."""

    def __init__(self, *, scan, on_progress=None):
        self.scan = scan
        self.on_progress = on_progress
        self.count = 0
        self.batches = 0
        #: Statements sent on the raw connection (PostgreSQL): not seen by Django's counters.
        self.statements = 0
        self._rows: dict[tuple[int, str], tuple] = {}
        self._result_ids: set[int] = set()
        self._postgres = connection.vendor == "postgresql"
        self._now = timezone.now()
        # PostgreSQL: the raw connection, the merge the server is running, and the counts.
        self._raw = None
        self._cursor = None
        self._pipeline = None
        self._merge = None
        self._sql: tuple[str, list] = ("", [])
        self._locked_targets: set[int] = set()
        self._counts: dict[int, list[int]] = {}
        # Keys of rows sent in earlier batches, and rows that repeat one of them: those go last,
        # and are not counted twice.
        self._sent: set = set()
        self._repeats: dict[tuple[int, str], tuple] = {}

    def __enter__(self) -> FindingStage:
        return self

    def __exit__(self, *exc) -> None:
        self.discard()

    def add(self, tool_result, record: FindingData) -> None:
        if not record.fingerprint:
            return
        key = (tool_result.target_id, record.fingerprint)
        row = (tool_result.pk, tool_result.target_id, tool_result.tool_id, *_content(record))
        self._result_ids.add(tool_result.pk)
        if self._sent and _key(*key) in self._sent:
            self._repeats[key] = row
            if len(self._repeats) >= BATCH_ROWS:
                self._flush_repeats()
            return
        # A fingerprint seen twice in one batch is one row (the later record wins).
        self._rows[key] = row
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
        rows = self._rows
        self._rows = {}
        if self._postgres:
            self._merge_postgres(list(rows.values()), counted=True)
            self._sent.update(_key(*key) for key in rows)
        else:
            self._upsert_orm(list(rows.values()))
        self.count += len(rows)
        self.batches += 1
        if self.on_progress is not None:
            self.on_progress(self.count)

    def _flush_repeats(self) -> None:
        """Rows whose key an earlier batch wrote: written again (the later record wins) but
        not counted again. Only PostgreSQL sets them aside."""
        if self._repeats:
            rows, self._repeats = list(self._repeats.values()), {}
            self._merge_postgres(rows, counted=False)

    # --- PostgreSQL -----------------------------------------------------------------------------
    def _execute(self, sql: str, params=None) -> None:
        self._cursor.execute(sql, params)
        self.statements += 1

    def _start_postgres(self) -> None:
        connection.ensure_connection()
        self._raw = connection.connection
        self._cursor = self._raw.cursor()
        # Foreign keys checked as each batch goes in (overlapping the parsing), not all at once
        # at the commit.
        self._execute("SET CONSTRAINTS ALL IMMEDIATE")
        quote = connection.ops.quote_name
        staged = ", ".join(f"{quote(c)} {_SQL_TYPES.get(c, 'text')}" for c in _STAGED)
        # Identifiers come from the model and this module.
        self._execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE_TABLE} ({staged}) ON COMMIT DROP"
        )
        self._execute(f"TRUNCATE {STAGE_TABLE}")
        self._cursor.execute(
            "SELECT pg_get_serial_sequence(%s, %s)",
            [Finding._meta.db_table, Finding._meta.pk.column],
        )
        self.statements += 1
        self._sql = self._statement(self._cursor.fetchone()[0])

    def _merge_postgres(self, rows: list[tuple], *, counted: bool) -> None:
        """COPY the batch into the stage, then send its merge without waiting for it."""
        if self._raw is None:
            self._start_postgres()
        else:
            self._wait()
        # Writers of one target take turns (until their commit): two imports or scans of the
        # same target would otherwise lock each other's rows batch by batch and deadlock.
        for target_id in sorted({row[1] for row in rows} - self._locked_targets):
            self._execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"seculite:findings:target:{target_id}"],
            )
            self._locked_targets.add(target_id)
        quote = connection.ops.quote_name
        columns = ", ".join(quote(c) for c in _STAGED)
        with self._cursor.copy(
            f"COPY {STAGE_TABLE} ({columns}) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(_COPY_TYPES)
            for row in rows:
                copy.write_row(row)
        self.statements += 1
        self._pipeline = self._raw.pipeline()
        self._pipeline.__enter__()
        self._merge = (self._raw.cursor(), counted)
        self._merge[0].execute(*self._sql)
        self._execute(f"TRUNCATE {STAGE_TABLE}")
        self.statements += 1

    def _wait(self) -> None:
        """Wait for the merge the server is running (raising its error) and add its counts."""
        if self._pipeline is None:
            return
        pipeline, self._pipeline = self._pipeline, None
        cursor, counted = self._merge
        self._merge = None
        try:
            pipeline.__exit__(None, None, None)
            rows = cursor.fetchall()
        finally:
            cursor.close()
        if counted:
            for result_id, seen, new in rows:
                counts = self._counts.setdefault(result_id, [0, 0])
                counts[0] += seen
                counts[1] += new

    def _statement(self, sequence: str) -> tuple[str, list]:
        """The merge of a staged batch, with its parameters. One statement:

        - `staged`: each staged row with its finding, looked up through the unique index
          (LIMIT 1 keeps the look-up a nested loop: the planner's statistics lag behind an
          import, and would otherwise hash all the project's findings for every batch); a new
          row gets its id from the sequence here, and a known one is marked if its content
          changed;
        - `inserted`: a plain INSERT of the new rows. Writers of a target take turns (the
          advisory lock), so no other one can have inserted them since the look-up, and the
          unique index is probed once per row, not once more for ON CONFLICT;
        - `refreshed`: INSERT ... ON CONFLICT DO UPDATE of the known rows whose content changed;
        - `seen`: the sighting of every staged row, by the id `staged` holds (no join);
        - per tool result, the findings seen and those first seen by this scan."""
        quote = connection.ops.quote_name
        now, scan = self._now, self.scan
        provided: dict[str, tuple[str, list]] = {
            "project_id": ("%s", [scan.project_id]),
            "first_seen_scan_id": ("%s", [scan.pk]),
            "first_seen_at": ("%s", [now]),
            "created_at": ("%s", [now]),
            "updated_at": ("%s", [now]),
            "status": ("%s", [FindingStatus.NEW.value]),
            **{c: (f"s.{quote(c)}", []) for c in ["target_id", "tool_id"]},
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
        table = quote(Finding._meta.db_table)
        pk = quote(Finding._meta.pk.column)
        updates, content = [], []
        for name in REFRESHED:
            column = quote(Finding._meta.get_field(name).column)
            if name == "severity_rank":
                # An analyst's override keeps its own rank.
                updates.append(
                    f"{column} = CASE WHEN {table}.severity_override = '' "
                    f"THEN EXCLUDED.{column} ELSE {table}.{column} END"
                )
            else:
                updates.append(f"{column} = EXCLUDED.{column}")
            if name not in ("severity_rank", "updated_at"):  # these follow from the others
                content.append(column)
        known = ", ".join(f"f.{c}" for c in content)
        staged = ", ".join(
            f"s.{c}::jsonb" if c.strip('"') in _JSON_COLUMNS else f"s.{c}" for c in content
        )
        values = f"{', '.join(expressions)} FROM staged AS s"
        sql = (
            # Identifiers come from the model; every value is a parameter.
            "WITH staged AS (SELECT s.*, "  # noqa: S608
            "coalesce(f.id, nextval(%s::regclass)) AS finding_id, f.id IS NULL AS is_new, "
            "f.first_seen_scan_id AS first_scan_id, "
            f"(f.id IS NOT NULL AND ({known}) IS DISTINCT FROM ({staged})) AS changed "
            f"FROM {STAGE_TABLE} AS s LEFT JOIN LATERAL (SELECT {pk} AS id, first_seen_scan_id, "
            f"{', '.join(content)} FROM {table} "
            "WHERE project_id = %s AND target_id = s.target_id AND fingerprint = s.fingerprint "
            "LIMIT 1) AS f ON true), "
            f"inserted AS (INSERT INTO {table} ({pk}, {', '.join(columns)}) "
            f"SELECT s.finding_id, {values} WHERE s.is_new), "
            f"refreshed AS (INSERT INTO {table} ({', '.join(columns)}) "
            f"SELECT {values} WHERE s.changed ON CONFLICT (project_id, target_id, fingerprint) "
            f"DO UPDATE SET {', '.join(updates)}), "
            f"seen AS (INSERT INTO {quote(FindingSighting._meta.db_table)} "
            "(finding_id, scan_id, seen_at, tool_result_id) "
            "SELECT s.finding_id, %s, %s, s.tool_result_id FROM staged AS s "
            "ON CONFLICT (finding_id) DO UPDATE SET scan_id = EXCLUDED.scan_id, "
            "seen_at = EXCLUDED.seen_at, tool_result_id = EXCLUDED.tool_result_id) "
            "SELECT tool_result_id, count(*), count(*) FILTER (WHERE is_new OR first_scan_id = %s) "
            "FROM staged GROUP BY tool_result_id"
        )
        return sql, [sequence, scan.project_id, *params, *params, scan.pk, now, scan.pk]

    def _finish_postgres(self) -> None:
        if self._raw is not None:
            self._wait()
            self._execute("SET CONSTRAINTS ALL DEFERRED")

    # --- other databases (SQLite in development and unit tests) --------------------------------
    def _upsert_orm(self, rows: list[tuple]) -> None:
        scan, now = self.scan, self._now
        objects, results = [], {}
        for tool_result_id, target_id, tool_id, *content in rows:
            values = dict(zip(CONTENT, content, strict=True))
            values["references"] = json.loads(values["references"])
            values["extra"] = json.loads(values["extra"])
            results[(target_id, values["fingerprint"])] = tool_result_id
            objects.append(
                Finding(
                    project_id=scan.project_id,
                    target_id=target_id,
                    tool_id=tool_id,
                    first_seen_scan=scan,
                    first_seen_at=now,
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
        found = Finding.objects.filter(
            project_id=scan.project_id,
            target_id__in={target_id for target_id, _ in results},
            fingerprint__in={fingerprint for _, fingerprint in results},
        ).values_list("pk", "target_id", "fingerprint")
        sightings = [
            FindingSighting(
                finding_id=pk, scan=scan, seen_at=now, tool_result_id=results[(target, print_)]
            )
            for pk, target, print_ in found
            if (target, print_) in results
        ]
        FindingSighting.objects.bulk_create(
            sightings,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=["finding"],
            update_fields=["scan", "seen_at", "tool_result"],
        )

    # --- writing and discarding ------------------------------------------------------------------
    def write(self) -> IngestResult:
        """Send what is left and return the counts (PostgreSQL: from the merges; elsewhere one
        aggregate query)."""
        self._flush()
        result = IngestResult()
        if self._postgres:
            self._flush_repeats()
            self._finish_postgres()
            for result_id, (seen, new) in self._counts.items():
                result.seen_by_result[result_id] = seen
                result.seen += seen
                result.new += new
            return result
        if not self._result_ids:
            return result
        rows = (
            FindingSighting.objects.filter(scan=self.scan, tool_result_id__in=self._result_ids)
            .values("tool_result_id")
            .annotate(
                seen=Count("pk"), new=Count("pk", filter=Q(finding__first_seen_scan=self.scan))
            )
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
        self._repeats = {}
        if self._pipeline is not None:
            pipeline, self._pipeline = self._pipeline, None
            try:
                self._merge[0].close()
                pipeline.__exit__(None, None, None)
            except Exception:  # noqa: S110 - the error that brought us here is the one to report
                pass
        if self._cursor is not None:
            try:
                self._cursor.close()
            except Exception:  # noqa: S110 - as above
                pass
            self._cursor = None


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

    One aggregate query whatever the number of findings."""
    by_severity = {s: 0 for s in SEVERITY_RANK}
    new = still_open = 0
    rows = (
        Finding.objects.filter(sighting__scan=scan)
        .values("severity")
        .annotate(
            n=Count("id"),
            new=Count("id", filter=Q(first_seen_scan=scan)),
            open=Count(
                "id",
                filter=~Q(status__in=[FindingStatus.FALSE_POSITIVE, FindingStatus.RISK_ACCEPTED]),
            ),
        )
        .order_by()
    )
    for row in rows:
        by_severity[row["severity"]] = row["n"]
        new += row["new"]
        still_open += row["open"]
    total = sum(by_severity.values())
    return {
        "total": total,
        "by_severity": by_severity,
        "new": new,
        "recurring": total - new,
        "open": still_open,
    }
