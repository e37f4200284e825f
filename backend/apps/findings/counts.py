"""Finding counts per (project, status, severity rank) without counting findings.

On PostgreSQL, statement-level triggers on findings_finding append one row per changed key to
FindingCount after every INSERT, UPDATE and DELETE (whatever wrote it: ingestion, the lifecycle,
triage, retention, a cascade), with the change as `n` (+k inserted, -k deleted, both sides of an
update). Nothing is updated in place, so concurrent scans never wait on, or deadlock over, a
shared counter row. A count is the SUM of a key's rows; `compact()` (a periodic task) folds each
key's rows into one. The dashboard then reads a few thousand rows however many findings exist.

The embedded database (SQLite) has no such triggers: there the counts come from the findings
themselves, which is fast at the sizes SQLite serves."""

from datetime import UTC, date, timedelta

from django.db import connection, transaction
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, QuerySet, Sum
from django.utils import timezone

from .models import OPEN_STATUSES, Finding, FindingCount, FindingDayCount, FindingStatus

CLOSED_STATUSES = (FindingStatus.RESOLVED, FindingStatus.AUTO_RESOLVED)

#: What a set of finding rows adds to the counts: (table, key columns, the rows' contribution).
#: FindingCount: every finding by (project, status, severity rank).
#: FindingDayCount "due": open findings with a due date, by that date (SLA breaches are the
#: ones before today); "resolved": closed findings by the UTC day of resolution, with the
#: seconds from first sighting to resolution (mean time to remediate over any window of days).
OPEN = "(" + ", ".join(f"'{status}'" for status in OPEN_STATUSES) + ")"
CLOSED = "(" + ", ".join(f"'{status}'" for status in CLOSED_STATUSES) + ")"
CONTRIBUTIONS = {
    "findings_findingcount": (
        "project_id, status, severity_rank",
        "SELECT project_id, status, severity_rank, {sign} AS n FROM {rows}",
    ),
    "findings_findingdaycount": (
        "project_id, severity_rank, kind, day",
        # Built from this module's constants only (table names, signs, statuses).
        f"""SELECT project_id, severity_rank, 'due' AS kind, due_date AS day, {{sign}} AS n,
                0::double precision AS seconds
            FROM {{rows}} WHERE status IN {OPEN} AND due_date IS NOT NULL
            UNION ALL
            SELECT project_id, severity_rank, 'resolved', (resolved_at AT TIME ZONE 'UTC')::date,
                {{sign}}, {{sign}} * extract(epoch FROM resolved_at - first_seen_at)
            FROM {{rows}} WHERE status IN {CLOSED} AND resolved_at IS NOT NULL""",  # noqa: S608
    ),
}


def _append(table: str, sides: list[tuple[str, str]]) -> str:
    """INSERT the net change of `sides` ((transition table, sign) pairs) into `table`."""
    keys, contribution = CONTRIBUTIONS[table]
    union = " UNION ALL ".join(contribution.format(rows=rows, sign=sign) for rows, sign in sides)
    sums = "sum(n)" + (", sum(seconds)" if table == "findings_findingdaycount" else "")
    columns = keys + ", n" + (", seconds" if table == "findings_findingdaycount" else "")
    having = "sum(n) <> 0" + (
        " OR sum(seconds) <> 0" if table == "findings_findingdaycount" else ""
    )
    return (
        f"INSERT INTO {table} ({columns}) SELECT {keys}, {sums} FROM ({union}) AS changes "  # noqa: S608 - this module's constants
        f"GROUP BY {keys} HAVING {having}"
    )


SIDES = {
    "insert": [("new_rows", "1")],
    "delete": [("old_rows", "-1")],
    "update": [("new_rows", "1"), ("old_rows", "-1")],
}
TRANSITIONS = {
    "insert": "NEW TABLE AS new_rows",
    "delete": "OLD TABLE AS old_rows",
    "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
}


def install_sql() -> list[str]:
    """The functions and triggers, then the counts of the findings that exist (run in one
    transaction: CREATE TRIGGER locks out writers until the initial counts are in)."""
    statements = []
    for event, sides in SIDES.items():
        name = f"findings_count_{event}"
        body = "; ".join(_append(table, sides) for table in CONTRIBUTIONS)
        statements += [
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {body}; RETURN NULL; END $$",
            f"DROP TRIGGER IF EXISTS {name} ON findings_finding",
            f"CREATE TRIGGER {name} AFTER {event.upper()} ON findings_finding "
            f"REFERENCING {TRANSITIONS[event]} FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        ]
    for table in CONTRIBUTIONS:
        statements += [
            f"DELETE FROM {table}",  # noqa: S608 - this module's constants
            _append(table, [("findings_finding", "1")]),
        ]
    return statements


def uninstall_sql() -> list[str]:
    statements = []
    for event in SIDES:
        name = f"findings_count_{event}"
        statements += [
            f"DROP TRIGGER IF EXISTS {name} ON findings_finding",
            f"DROP FUNCTION IF EXISTS {name}()",
        ]
    return statements


def maintained() -> bool:
    """Whether FindingCount is kept by triggers (PostgreSQL) on this connection."""
    return connection.vendor == "postgresql"


def count_rows(projects: QuerySet | list[int], statuses=None) -> list[dict]:
    """[{project_id, status, severity_rank, n}] for findings of `projects` (a queryset of
    project ids, or a list), optionally only `statuses`; keys with no findings are left out."""
    if maintained():
        rows = FindingCount.objects.filter(project_id__in=projects)
        if statuses is not None:
            rows = rows.filter(status__in=statuses)
        total = Sum("n")
    else:
        rows = Finding.objects.filter(project_id__in=projects)
        if statuses is not None:
            rows = rows.filter(status__in=statuses)
        total = Count("pk")
    rows = (
        rows.order_by()
        .values("project_id", "status", "severity_rank")
        .annotate(n=total)
        .filter(n__gt=0)
    )
    return list(rows)


def overdue_rows(projects, today: date) -> list[dict]:
    """[{severity_rank, n}]: open findings of `projects` whose due date is before `today`."""
    if maintained():
        rows = FindingDayCount.objects.filter(project_id__in=projects, kind="due", day__lt=today)
        total = Sum("n")
    else:
        rows = Finding.objects.filter(
            project_id__in=projects, status__in=OPEN_STATUSES, due_date__lt=today
        )
        total = Count("pk")
    return list(rows.order_by().values("severity_rank").annotate(n=total).filter(n__gt=0))


def remediation_rows(projects, days: int) -> list[dict]:
    """[{severity_rank, n, mean_days}]: findings of `projects` closed (resolved or
    auto-resolved) in the last `days` days (UTC days, today included), and the mean days from
    their first sighting to their resolution."""
    since = (timezone.now() - timedelta(days=days)).astimezone(UTC).date()
    out = []
    if maintained():
        rows = (
            FindingDayCount.objects.filter(project_id__in=projects, kind="resolved", day__gte=since)
            .order_by()
            .values("severity_rank")
            .annotate(n=Sum("n"), seconds=Sum("seconds"))
        )
        for row in rows:
            if row["n"] > 0:
                out.append({**row, "mean_days": row["seconds"] / row["n"] / 86400})
        return out
    rows = (
        Finding.objects.filter(
            project_id__in=projects,
            status__in=CLOSED_STATUSES,
            resolved_at__date__gte=since,
        )
        .order_by()
        .values("severity_rank")
        .annotate(
            n=Count("pk"),
            mean=Avg(
                ExpressionWrapper(
                    F("resolved_at") - F("first_seen_at"), output_field=DurationField()
                )
            ),
        )
    )
    for row in rows:
        if row["n"] and row["mean"] is not None:
            out.append(
                {
                    "severity_rank": row["severity_rank"],
                    "n": row["n"],
                    "mean_days": row["mean"].total_seconds() / 86400,
                }
            )
    return out


def compact() -> int:
    """Fold each key's rows into one (dropping keys whose findings are all gone); returns the
    number of rows left. Safe to run beside writers: rows they append meanwhile are not in this
    statement's snapshot and stay for the next run."""
    if not maintained():
        return 0
    left = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("""
            WITH gone AS (
                DELETE FROM findings_findingcount
                RETURNING project_id, status, severity_rank, n
            )
            INSERT INTO findings_findingcount (project_id, status, severity_rank, n)
            SELECT project_id, status, severity_rank, sum(n) FROM gone
            GROUP BY 1, 2, 3 HAVING sum(n) <> 0""")
        left += cursor.rowcount
        cursor.execute("""
            WITH gone AS (
                DELETE FROM findings_findingdaycount
                RETURNING project_id, severity_rank, kind, day, n, seconds
            )
            INSERT INTO findings_findingdaycount (project_id, severity_rank, kind, day, n, seconds)
            SELECT project_id, severity_rank, kind, day, sum(n), sum(seconds) FROM gone
            GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 OR sum(seconds) <> 0""")
        left += cursor.rowcount
    return left
