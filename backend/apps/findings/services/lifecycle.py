"""The findings lifecycle: what a finished scan does to statuses, SLA due dates and severities,
and the daily reopening of expired risk acceptances.

After a scan ends `completed` or `failed`, for each (target, tool) whose tool result completed or
had no findings (a failed, timed-out, skipped or cancelled tool resolves nothing):

- open findings (new, confirmed, in_progress, reopened) of that target and tool that this scan
  did not see become `auto_resolved` at this scan;
- findings this scan saw whose status is `resolved` or `auto_resolved` become `reopened`;
- `false_positive` and `risk_accepted` findings keep their status whatever the scan sees.

After any finished scan (cancelled and error included), the findings it saw for the first time
get their SLA due date (SystemSettings.sla_days_*, counted from first_seen_at; 0 = none), and a
change of the scanner's severity (when no analyst override pins it) is recorded in the history
and moves the due date. A finding that another scan saw after this scan's tool run started
is not resolved by this one (two scans of one target running at once).

Every change is a set-based statement (UPDATE ... WHERE, INSERT ... SELECT for the history), so
the number of queries does not depend on the number of findings. On PostgreSQL each change is one
statement that reads the rows once: the rows are locked in id order, their history rows written
and the rows changed by a single WITH ... UPDATE (elsewhere: a lock, an INSERT ... SELECT and an
UPDATE, each reading the rows again)."""

from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    DateField,
    DateTimeField,
    Expression,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Left, NullIf, TruncDate
from django.utils import timezone

from apps.core.models import SystemSettings

from ..models import OPEN_STATUSES, SEVERITY_RANK, Finding, FindingHistory, FindingStatus

#: Statuses a rescan may reopen (false positives and accepted risks are never reopened).
RESOLVED_STATUSES = (FindingStatus.RESOLVED, FindingStatus.AUTO_RESOLVED)

_HISTORY_COLUMNS = (
    "finding_id",
    "created_at",
    "actor_id",
    "scan_id",
    "field",
    "old_value",
    "new_value",
    "note",
)
_VALUE_LIMIT = 500  # FindingHistory.old_value / new_value


# --- expressions shared with triage ---------------------------------------------------------
def effective_severity_expression() -> Expression:
    """The analyst's override when there is one, else the scanner's severity."""
    return Coalesce(NullIf(F("severity_override"), Value("")), F("severity"))


def rank_case(column: str) -> Case:
    """SEVERITY_RANK of a severity column, in SQL."""
    return Case(
        *[When(**{column: name}, then=Value(rank)) for name, rank in SEVERITY_RANK.items()],
        default=Value(0),
        output_field=IntegerField(),
    )


def sla_days() -> dict[str, int]:
    """Days to fix, by severity, from the system settings (0 = no due date)."""
    row = SystemSettings.load()
    return {name: getattr(row, f"sla_days_{name}") for name in SEVERITY_RANK}


def due_date_expression(days: int) -> Expression:
    """first_seen_at + days, as a date (None when the severity has no SLA)."""
    if not days:
        return Value(None, output_field=DateField())
    return TruncDate(
        ExpressionWrapper(F("first_seen_at") + timedelta(days=days), output_field=DateTimeField())
    )


def effective_is(severity: str) -> Q:
    """Rows whose effective severity is `severity`."""
    return Q(severity_override=severity) | Q(severity_override="", severity=severity)


def effective_due_date_case(days: dict[str, int]) -> Case:
    """The SLA due date of each row from its effective severity."""
    return Case(
        *[When(effective_is(name), then=due_date_expression(n)) for name, n in days.items() if n],
        default=Value(None),
        output_field=DateField(),
    )


def sla_due_date(first_seen_at: datetime, severity: str, days: dict[str, int]) -> date | None:
    """The same rule in Python (for one finding, e.g. a serializer or a test)."""
    n = days.get(severity, 0)
    if not n:
        return None
    return timezone.localdate(first_seen_at + timedelta(days=n))


# --- history in bulk ------------------------------------------------------------------------
def history_insert(
    queryset: QuerySet,
    *,
    field: str,
    old: Expression,
    new: Expression | str,
    now: datetime,
    actor_id: int | None = None,
    scan_id: int | None = None,
    note: str = "",
) -> int:
    """One history row per finding of `queryset`, written by a single INSERT ... SELECT.

    `old` and `new` are expressions over the finding's columns (or a constant for `new`), read
    before the change is applied."""
    if isinstance(new, str):
        new = Value(new)
    rows = (
        queryset.order_by()
        .annotate(
            _h_finding=F("pk"),
            _h_created=Value(now, output_field=DateTimeField()),
            _h_actor=Value(actor_id, output_field=IntegerField()),
            _h_scan=Value(scan_id, output_field=IntegerField()),
            _h_field=Value(field, output_field=CharField()),
            _h_old=Left(Coalesce(old, Value(""), output_field=CharField()), _VALUE_LIMIT),
            _h_new=Left(Coalesce(new, Value(""), output_field=CharField()), _VALUE_LIMIT),
            _h_note=Value(note, output_field=CharField()),
        )
        .values_list(
            "_h_finding",
            "_h_created",
            "_h_actor",
            "_h_scan",
            "_h_field",
            "_h_old",
            "_h_new",
            "_h_note",
        )
    )
    select, params = rows.query.sql_with_params()
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in _HISTORY_COLUMNS)
    table = quote(FindingHistory._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) {select}", params)
        return cursor.rowcount


def lock_rows(queryset: QuerySet) -> int:
    """Lock the rows (in id order, so two writers cannot deadlock); returns how many."""
    return len(queryset.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True))


def status_change(
    queryset: QuerySet, *, status: str, now: datetime, note: str, scan_id=None, **changes
) -> int:
    """Set `status` (and the columns in `changes`) on the rows of `queryset`, with one status
    history row each; returns how many changed. The rows are locked in id order first.

    PostgreSQL: one statement (WITH locked AS (SELECT ... FOR UPDATE), history AS (INSERT ...
    SELECT FROM locked) UPDATE ... FROM locked). Elsewhere: lock, INSERT ... SELECT, UPDATE."""
    if connection.vendor != "postgresql":
        if not lock_rows(queryset):
            return 0
        history_insert(
            queryset,
            field="status",
            old=F("status"),
            new=status,
            now=now,
            scan_id=scan_id,
            note=note,
        )
        return queryset.update(status=status, updated_at=now, **changes)
    locked = queryset.select_for_update(of=("self",)).order_by("pk").values_list("pk", "status")
    select, select_params = locked.query.sql_with_params()
    quote = connection.ops.quote_name
    table = quote(Finding._meta.db_table)
    sets, set_params = [], []
    for name, value in {"status": status, "updated_at": now, **changes}.items():
        model_field = Finding._meta.get_field(name)
        sets.append(f"{quote(model_field.column)} = %s")
        if model_field.is_relation:
            value = value.pk if hasattr(value, "pk") else value
        else:
            value = model_field.get_db_prep_save(value, connection)
        set_params.append(value)
    history = quote(FindingHistory._meta.db_table)
    columns = ", ".join(quote(c) for c in _HISTORY_COLUMNS)
    sql = (
        # Identifiers come from the models; every value is a parameter.
        f"WITH locked (id, status) AS ({select}), "  # noqa: S608
        f"history AS (INSERT INTO {history} ({columns}) "
        "SELECT id, %s, NULL, %s, 'status', status, %s, %s FROM locked) "
        f"UPDATE {table} AS f SET {', '.join(sets)} FROM locked WHERE f.id = locked.id"
    )
    params = [*select_params, now, scan_id, status, note, *set_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# --- the pass after a scan ------------------------------------------------------------------
def findings_lifecycle_close_scan(*, scan) -> dict[str, int]:
    """Apply the lifecycle to the findings of a scan that just finished (called by the scan
    engine with the scan's final status set). Statuses change only when the scan ended
    `completed` or `failed`; the due dates and severities of what it saw are kept up to date
    whatever its end (a cancelled scan's new findings get their due date too).

    Returns {"resolved": n, "reopened": m} for the scan's summary."""
    from apps.scans.models import ScanStatus, ScanToolResult, ToolResultStatus

    now = timezone.now()
    resolved = reopened = 0
    with transaction.atomic():
        if scan.status in (ScanStatus.COMPLETED, ScanStatus.FAILED):
            pairs = list(
                ScanToolResult.objects.filter(
                    scan=scan,
                    status__in=[ToolResultStatus.COMPLETED, ToolResultStatus.NO_FINDINGS],
                    target__isnull=False,
                ).values_list("target_id", "tool_id", "started_at")
            )
            resolved = _auto_resolve(scan=scan, pairs=pairs, now=now) if pairs else 0
            reopened = _reopen_seen(scan=scan, now=now)
        findings_reconcile_severity(
            queryset=Finding.objects.filter(sighting__scan=scan), scan_id=scan.pk, now=now
        )
    return {"resolved": resolved, "reopened": reopened}


def _auto_resolve(*, scan, pairs, now) -> int:
    """Open findings of the scanned (target, tool) pairs that this scan did not see.

    A finding seen after this tool run started (by a newer scan running at the same time) is
    not resolved by this older one."""
    covered = Q()
    for target_id, tool_id, started_at in pairs:
        one = Q(target_id=target_id, tool_id=tool_id)
        if started_at is not None:
            one &= Q(sighting__seen_at__lt=started_at)
        covered |= one
    stale = (
        Finding.objects.filter(project_id=scan.project_id, status__in=OPEN_STATUSES)
        .filter(covered)
        .exclude(sighting__scan=scan)
    )
    return status_change(
        stale,
        status=FindingStatus.AUTO_RESOLVED.value,
        now=now,
        scan_id=scan.pk,
        note="Not found by this scan.",
        resolved_at=now,
        resolved_at_scan=scan,
    )


def _reopen_seen(*, scan, now) -> int:
    back = Finding.objects.filter(sighting__scan=scan, status__in=RESOLVED_STATUSES)
    return status_change(
        back,
        status=FindingStatus.REOPENED.value,
        now=now,
        scan_id=scan.pk,
        note="Found again by this scan.",
        resolved_at=None,
        resolved_at_scan=None,
    )


def findings_reconcile_severity(*, queryset: QuerySet, now: datetime, scan_id=None) -> None:
    """Bring `effective_severity`, `severity_rank` and the SLA due date in line with the
    findings' severities after ingestion refreshed them.

    New findings (no effective severity yet) get it and their due date; a finding whose scanner
    severity changed without an override pinning it gets a history row and a new due date; a
    finding with an override keeps sorting by the override."""
    days = sla_days()
    if connection.vendor == "postgresql":
        _reconcile_postgres(queryset, now=now, scan_id=scan_id, days=days)
        return
    # Ingestion writes the scanner's rank: an override's rank wins again.
    queryset.exclude(severity_override="").update(severity_rank=rank_case("severity_override"))
    changed = (
        queryset.filter(severity_override="")
        .exclude(effective_severity="")
        .exclude(effective_severity=F("severity"))
    )
    history_insert(
        changed,
        field="severity",
        old=F("effective_severity"),
        new=F("severity"),
        now=now,
        scan_id=scan_id,
        note=SEVERITY_NOTE,
    )
    effective = effective_severity_expression()
    queryset.filter(
        Q(effective_severity="") | (Q(severity_override="") & ~Q(effective_severity=F("severity")))
    ).update(effective_severity=effective, due_date=effective_due_date_case(days))


SEVERITY_NOTE = "The scanner reports a new severity."


def _reconcile_postgres(queryset: QuerySet, *, now, scan_id, days: dict[str, int]) -> None:
    """The same in one statement that reads the rows once: the rows out of line (with their new
    effective severity, due date and rank computed by the expressions above), a history row for
    each scanner severity change, and the update."""
    out_of_line = (
        Q(effective_severity="")
        | (Q(severity_override="") & ~Q(effective_severity=F("severity")))
        | (~Q(severity_override="") & ~Q(severity_rank=rank_case("severity_override")))
    )
    rows = (
        queryset.filter(out_of_line)
        .order_by()
        .annotate(
            _effective=effective_severity_expression(),
            _due=effective_due_date_case(days),
            _rank=rank_case("severity_override"),
        )
        .values_list(
            "pk",
            "effective_severity",
            "severity",
            "severity_override",
            "_effective",
            "_due",
            "_rank",
        )
    )
    select, params = rows.query.sql_with_params()
    quote = connection.ops.quote_name
    table = quote(Finding._meta.db_table)
    history = quote(FindingHistory._meta.db_table)
    columns = ", ".join(quote(c) for c in _HISTORY_COLUMNS)
    # The effective severity and due date follow the severity for new rows (no effective
    # severity yet) and rows without an override whose scanner severity changed.
    follows = "(c.old = '' OR (c.override = '' AND c.old <> c.severity))"
    sql = (
        # Identifiers come from the models; every value is a parameter.
        f"WITH c (id, old, severity, override, effective, due, rank) AS ({select}), "  # noqa: S608
        f"history AS (INSERT INTO {history} ({columns}) "
        f"SELECT c.id, %s, NULL, %s, 'severity', left(c.old, {_VALUE_LIMIT}), "
        f"left(c.severity, {_VALUE_LIMIT}), %s FROM c "
        "WHERE c.override = '' AND c.old <> '' AND c.old <> c.severity) "
        f"UPDATE {table} AS f SET "
        f"effective_severity = CASE WHEN {follows} THEN c.effective ELSE f.effective_severity END, "
        f"due_date = CASE WHEN {follows} THEN c.due ELSE f.due_date END, "
        "severity_rank = CASE WHEN c.override <> '' THEN c.rank ELSE f.severity_rank END "
        "FROM c WHERE f.id = c.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, now, scan_id, SEVERITY_NOTE])


# --- risk acceptances -----------------------------------------------------------------------
def findings_reopen_expired_acceptances(*, now: datetime | None = None) -> int:
    """Accepted risks whose acceptance expired become `reopened`, with a history row each."""
    now = now or timezone.now()
    with transaction.atomic():
        expired = Finding.objects.filter(
            status=FindingStatus.RISK_ACCEPTED, risk_acceptance_expires_at__lte=now
        )
        return status_change(
            expired,
            status=FindingStatus.REOPENED.value,
            now=now,
            note="The risk acceptance expired.",
        )
