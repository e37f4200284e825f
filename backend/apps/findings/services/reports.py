"""Reports and dashboards, computed by database aggregation (GROUP BY, never a Python loop over
findings): a scan's summary, a comparison of two scans, a project's posture, the dashboard
summary and the daily trend of open findings (from FindingSnapshot rows plus today's counts).

Definitions used throughout:
- the effective severity of a finding is its analyst override, else the scanner's severity;
- open = new, confirmed, in_progress, reopened (OPEN_STATUSES); closed = resolved,
  auto_resolved; false positives and accepted risks are neither;
- a finding is *present in a scan* when the scan ran its tool on its target successfully and
  the scan lies between the finding's first and last sighting (scan ids grow with time);
- the risk score of a project is the weighted count of its open findings, RISK_WEIGHTS below.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from apps.projects.models import Project
from apps.projects.selectors import projects_for
from apps.scans.models import SCAN_FINISHED, Scan, ScanToolResult, ToolResultStatus

from .. import counts
from ..models import OPEN_STATUSES, SEVERITY_RANK, Finding, FindingSnapshot, FindingStatus
from ..selectors import visible_projects

#: Severities from the highest rank down (never alphabetical).
SEVERITIES = sorted(SEVERITY_RANK, key=SEVERITY_RANK.get, reverse=True)
#: Risk score of a project = sum over its open findings of these weights.
RISK_WEIGHTS = {"critical": 10, "high": 5, "medium": 2, "low": 1, "info": 0}
CLOSED_STATUSES = (FindingStatus.RESOLVED, FindingStatus.AUTO_RESOLVED)
#: Tool results whose findings count as "seen" by a scan.
SUCCESSFUL_RESULTS = (ToolResultStatus.COMPLETED, ToolResultStatus.NO_FINDINGS)
#: Longest trend range, in days.
MAX_TREND_DAYS = 366
TOP_PROJECTS = 10
RECENT_SCANS = 10
ASSIGNED_ITEMS = 10


def effective_severity():
    """The analyst's override when there is one, else the scanner's severity (an expression)."""
    return Coalesce(NullIf(F("severity_override"), Value("")), F("severity"))


#: severity_rank -> severity name.
RANK_NAMES = {rank: name for name, rank in SEVERITY_RANK.items()}


def by_severity(rows, key: str = "severity_rank", value: str = "n") -> dict[str, int]:
    """{"critical": n, ..., "info": n} from aggregated rows keyed by rank (or by name), zeros
    included, in rank order."""
    counts = dict.fromkeys(SEVERITIES, 0)
    for row in rows:
        name = RANK_NAMES.get(row[key]) if isinstance(row[key], int) else row[key]
        if name in counts:
            counts[name] += row[value] or 0
    return counts


def findings_for(user) -> QuerySet[Finding]:
    """Findings of the active projects in the caller's organizations."""
    from ..selectors import findings_for as scoped

    return scoped(user)


def findings_in_scan(scan: Scan) -> QuerySet[Finding]:
    """Findings present in `scan` (see the module docstring)."""
    covered = ScanToolResult.objects.filter(
        scan=scan,
        status__in=SUCCESSFUL_RESULTS,
        target_id=OuterRef("target_id"),
        tool_id=OuterRef("tool_id"),
    )
    return Finding.objects.filter(
        Q(first_seen_scan_id__lte=scan.pk) | Q(first_seen_scan__isnull=True),
        Exists(covered),
        project_id=scan.project_id,
        sighting__scan_id__gte=scan.pk,
    )


def severity_counts(queryset: QuerySet[Finding]) -> dict[str, int]:
    """Counts by effective severity. `severity_rank` is the rank of the effective severity (the
    lifecycle and triage keep it so, as the list's severity filter assumes), and grouping by it
    lets PostgreSQL answer from the (project, status, severity_rank) index alone."""
    rows = queryset.order_by().values("severity_rank").annotate(n=Count("pk"))
    return by_severity(rows)


def _iso(value) -> str | None:
    return value.isoformat() if value else None


# --- scan summary -------------------------------------------------------------------------------
def scan_report(*, scan: Scan) -> dict:
    """Configuration, targets, tools (versions, statuses), counts by severity, and the findings
    new in this scan, recurring, and resolved by it (resolved_at_scan is this scan)."""
    configuration = scan.configuration
    results = list(
        ScanToolResult.objects.filter(scan=scan)
        .select_related("target")
        .order_by("tool_id", "target_id", "id")
    )
    targets = {}
    for result in results:
        if result.target is not None and result.target_id not in targets:
            t = result.target
            targets[t.pk] = {
                "id": t.pk,
                "name": t.name,
                "asset_type": t.asset_type,
                "identifier": t.identifier,
            }
    present = findings_in_scan(scan)
    seen = severity_counts(present)
    new = severity_counts(Finding.objects.filter(first_seen_scan=scan))
    resolved = severity_counts(Finding.objects.filter(resolved_at_scan=scan))
    duration = None
    if scan.started_at and scan.finished_at:
        duration = (scan.finished_at - scan.started_at).total_seconds()
    return {
        "scan": {
            "id": scan.pk,
            "project_id": scan.project_id,
            "project": scan.project.name,
            "status": scan.status,
            "trigger_type": scan.trigger_type,
            "triggered_by": scan.triggered_by.username if scan.triggered_by else None,
            "created_at": _iso(scan.created_at),
            "started_at": _iso(scan.started_at),
            "finished_at": _iso(scan.finished_at),
            "duration_seconds": duration,
            "error_message": scan.error_message,
        },
        "configuration": (
            {
                "id": configuration.pk,
                "name": configuration.name,
                "description": configuration.description,
                "tools_and_configs": configuration.tools_and_configs,
                "schedule_type": configuration.schedule_type,
                "schedule": configuration.schedule,
            }
            if configuration
            else None
        ),
        "targets": sorted(targets.values(), key=lambda t: t["id"]),
        "tools": [
            {
                "id": r.pk,
                "tool_id": r.tool_id,
                "target_id": r.target_id,
                "status": r.status,
                "tool_version": r.tool_version,
                "exit_code": r.exit_code,
                "findings_count": r.findings_count,
                "started_at": _iso(r.started_at),
                "finished_at": _iso(r.finished_at),
                "duration_seconds": r.duration_seconds,
                "error_message": r.error_message,
            }
            for r in results
        ],
        "counts": {
            "total": sum(seen.values()),
            "by_severity": seen,
            "new": sum(new.values()),
            "new_by_severity": new,
            "recurring": max(sum(seen.values()) - sum(new.values()), 0),
            "resolved": sum(resolved.values()),
            "resolved_by_severity": resolved,
        },
    }


# --- comparison of two scans -----------------------------------------------------------------
def previous_scan(scan: Scan) -> Scan | None:
    """The last finished scan of the same project (and configuration, when it has one) before
    `scan`: the default base of a comparison."""
    qs = Scan.objects.filter(project_id=scan.project_id, pk__lt=scan.pk, status__in=SCAN_FINISHED)
    if scan.configuration_id:
        qs = qs.filter(configuration_id=scan.configuration_id)
    return qs.order_by("-pk").first()


def scan_compare(*, head: Scan, base: Scan, limit: int = 100) -> dict:
    """Findings new in `head` (present there, not in `base`), fixed (present in `base`, not in
    `head`) and unchanged (in both), matched by (target, fingerprint): counts by severity and
    the first `limit` of each, most severe first."""
    if base.project_id != head.project_id:
        raise ValidationError({"base": ["Both scans must belong to the same project."]})
    if base.pk == head.pk:
        raise ValidationError({"base": ["Compare a scan with another scan."]})
    in_head = findings_in_scan(head).values("pk")
    in_base = findings_in_scan(base).values("pk")
    sets = {
        "new": Finding.objects.filter(pk__in=in_head).exclude(pk__in=in_base),
        "fixed": Finding.objects.filter(pk__in=in_base).exclude(pk__in=in_head),
        "unchanged": Finding.objects.filter(pk__in=in_head).filter(pk__in=in_base),
    }
    out: dict = {
        "base": {"id": base.pk, "status": base.status, "created_at": _iso(base.created_at)},
        "head": {"id": head.pk, "status": head.status, "created_at": _iso(head.created_at)},
    }
    for name, qs in sets.items():
        counts = severity_counts(qs)
        items = list(
            qs.annotate(effective=effective_severity())
            .order_by("-severity_rank", "-id")
            .values(
                "id",
                "title",
                "effective",
                "status",
                "tool_id",
                "target_id",
                "fingerprint",
                "file_path",
                "line_start",
                "url",
                "package_name",
            )[:limit]
        )
        for item in items:
            item["severity"] = item.pop("effective")
        out[name] = {"count": sum(counts.values()), "by_severity": counts, "items": items}
    return out


# --- project posture --------------------------------------------------------------------------
def _mttr(projects, days: int) -> dict[str, dict]:
    """Mean days from first sighting to resolution, by severity, of the findings of `projects`
    closed in the last `days` days (from the maintained day counts)."""
    out = {s: {"mean_days": None, "count": 0} for s in SEVERITIES}
    for row in counts.remediation_rows(projects, days):
        name = RANK_NAMES.get(row["severity_rank"])
        if name in out:
            out[name] = {"mean_days": round(row["mean_days"], 2), "count": row["n"]}
    return out


def risk_score(counts: dict[str, int]) -> int:
    return sum(RISK_WEIGHTS[s] * n for s, n in counts.items())


def _open_aggregate(projects) -> list[dict]:
    """Open findings of `projects` (ids, or a queryset of them) counted by (project, status,
    severity rank), from the maintained counts (apps.findings.counts)."""
    return counts.count_rows(projects, OPEN_STATUSES)


def _sla_breaches(projects, today: date) -> dict:
    """Open findings whose due date has passed (from the maintained day counts)."""
    overdue = by_severity(counts.overdue_rows(projects, today))
    return {"total": sum(overdue.values()), "by_severity": overdue}


def _status_counts(rows) -> dict[str, int]:
    counts = dict.fromkeys(FindingStatus.values, 0)
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + row["n"]
    return counts


def project_posture(*, project: Project, days: int = 90) -> dict:
    """A project's state: open findings by severity, status, tool and target, SLA breaches,
    risk score, mean time to remediate, and its last scans."""
    today = timezone.localdate()
    findings = Finding.objects.filter(project=project)
    status_rows = counts.count_rows([project.pk])
    open_counts = by_severity(r for r in status_rows if r["status"] in OPEN_STATUSES)
    open_findings = findings.filter(status__in=OPEN_STATUSES)
    by_tool = list(
        open_findings.order_by().values("tool_id").annotate(n=Count("pk")).order_by("-n", "tool_id")
    )
    by_target = list(
        open_findings.order_by()
        .values("target_id", "target__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "target_id")[:20]
    )
    last_scans = list(
        Scan.objects.filter(project=project)
        .order_by("-created_at", "-id")
        .values("id", "status", "trigger_type", "created_at", "finished_at", "summary")[:5]
    )
    oldest = open_findings.order_by("first_seen_at").values_list("first_seen_at", flat=True)[:1]
    return {
        "project": {"id": project.pk, "name": project.name},
        "open": sum(open_counts.values()),
        "open_by_severity": open_counts,
        "by_status": _status_counts(status_rows),
        "open_by_tool": [{"tool_id": r["tool_id"], "count": r["n"]} for r in by_tool],
        "open_by_target": [
            {"target_id": r["target_id"], "target": r["target__name"], "count": r["n"]}
            for r in by_target
        ],
        "sla_breaches": _sla_breaches([project.pk], today),
        "risk_score": risk_score(open_counts),
        "oldest_open_since": _iso(oldest[0]) if oldest else None,
        "mttr": {"days": days, "by_severity": _mttr([project.pk], days)},
        "last_scans": [
            {
                **{k: v for k, v in s.items() if k != "summary"},
                "created_at": _iso(s["created_at"]),
                "finished_at": _iso(s["finished_at"]),
                "total": (s["summary"] or {}).get("total"),
                "new": (s["summary"] or {}).get("new"),
            }
            for s in last_scans
        ],
    }


# --- dashboard ---------------------------------------------------------------------------------
def dashboard_summary(*, user, project_id: int | None = None, days: int = 90) -> dict:
    """The dashboard in one answer, in seven queries whatever the number of findings: open
    findings by severity and status, SLA breaches, mean time to remediate over the last `days`,
    top projects by risk, recent scans, and the caller's assigned findings."""
    from apps.scans.selectors import scans_for

    today = timezone.localdate()
    findings = findings_for(user)
    projects = visible_projects(user)
    scans = scans_for(user)
    if project_id is not None:
        findings = findings.filter(project_id=project_id)
        projects = projects.filter(pk=project_id)
        scans = scans.filter(project_id=project_id)
    open_rows = _open_aggregate(projects)
    open_counts = by_severity(open_rows)
    open_by_status = {s: 0 for s in OPEN_STATUSES}
    per_project: dict[int, dict[str, int]] = {}
    for row in open_rows:  # aggregated rows: at most projects x 4 statuses x 5 severities
        open_by_status[row["status"]] += row["n"]
        counts = per_project.setdefault(row["project_id"], dict.fromkeys(SEVERITIES, 0))
        counts[RANK_NAMES.get(row["severity_rank"], "info")] += row["n"]
    ranked = sorted(per_project.items(), key=lambda kv: (-risk_score(kv[1]), kv[0]))
    ranked = [(pk, counts) for pk, counts in ranked if risk_score(counts) > 0][:TOP_PROJECTS]
    names = dict(Project.objects.filter(pk__in=[pk for pk, _ in ranked]).values_list("pk", "name"))
    recent = list(
        scans.order_by("-created_at", "-id").values(
            "id",
            "project_id",
            "project__name",
            "status",
            "trigger_type",
            "created_at",
            "finished_at",
            "summary",
        )[:RECENT_SCANS]
    )
    mine = findings.filter(assignee=user, status__in=OPEN_STATUSES)
    mine_counts = severity_counts(mine)
    mine_items = list(
        mine.annotate(effective=effective_severity())
        .order_by("-severity_rank", "due_date", "-id")
        .values("id", "title", "effective", "status", "project_id", "due_date")[:ASSIGNED_ITEMS]
    )
    return {
        "generated_at": timezone.now().isoformat(),
        "project_id": project_id,
        "open": sum(open_counts.values()),
        "open_by_severity": open_counts,
        "open_by_status": open_by_status,
        "sla_breaches": _sla_breaches(projects, today),
        "mttr": {"days": days, "by_severity": _mttr(projects, days)},
        "top_projects": [
            {
                "project_id": pk,
                "name": names.get(pk, ""),
                "risk_score": risk_score(counts),
                "open_by_severity": counts,
            }
            for pk, counts in ranked
        ],
        "risk_weights": RISK_WEIGHTS,
        "recent_scans": [
            {
                "id": s["id"],
                "project_id": s["project_id"],
                "project": s["project__name"],
                "status": s["status"],
                "trigger_type": s["trigger_type"],
                "created_at": _iso(s["created_at"]),
                "finished_at": _iso(s["finished_at"]),
                "total": (s["summary"] or {}).get("total"),
                "new": (s["summary"] or {}).get("new"),
            }
            for s in recent
        ],
        "assigned_to_me": {
            "open": sum(mine_counts.values()),
            "by_severity": mine_counts,
            "items": [
                {
                    "id": f["id"],
                    "title": f["title"],
                    "severity": f["effective"],
                    "status": f["status"],
                    "project_id": f["project_id"],
                    "due_date": _iso(f["due_date"]),
                }
                for f in mine_items
            ],
        },
    }


def dashboard_trend(*, user, date_from: date, date_to: date, project_id: int | None = None) -> dict:
    """Open findings by severity for each day of [date_from, date_to]: past days from the
    snapshot rows, today from live counts. Days without a snapshot count as zero;
    `snapshots_since` names the first day that has one (in the caller's scope)."""
    if date_from > date_to:
        raise ValidationError({"date_from": ["date_from must not be after date_to."]})
    if (date_to - date_from).days >= MAX_TREND_DAYS:
        raise ValidationError({"date_from": [f"The range is at most {MAX_TREND_DAYS} days."]})
    today = timezone.localdate()
    projects = projects_for(user)
    if project_id is not None:
        projects = projects.filter(pk=project_id)
    snapshots = FindingSnapshot.objects.filter(project__in=projects.values("pk"))
    rows = (
        snapshots.filter(date__gte=date_from, date__lte=min(date_to, today - timedelta(days=1)))
        .order_by()
        .values("date", "severity")
        .annotate(n=Sum("open_count"))
    )
    days: dict[date, dict[str, int]] = {}
    day = date_from
    while day <= date_to:
        days[day] = dict.fromkeys(SEVERITIES, 0)
        day += timedelta(days=1)
    for row in rows:
        days[row["date"]][row["severity"]] = row["n"] or 0
    if date_from <= today <= date_to:
        live = visible_projects(user)
        if project_id is not None:
            live = live.filter(pk=project_id)
        days[today] = by_severity(_open_aggregate(live))
    first = snapshots.order_by("date").values_list("date", flat=True)[:1]
    return {
        "date_from": date_from.isoformat(),
        "date_to": date_to.isoformat(),
        "project_id": project_id,
        "snapshots_since": first[0].isoformat() if first else None,
        "points": [
            {"date": d.isoformat(), **counts, "total": sum(counts.values())}
            for d, counts in days.items()
        ],
    }


# --- snapshots (the hourly beat task) ---------------------------------------------------------
def findings_snapshot_take(*, day: date | None = None) -> int:
    """Store the open findings per (project, effective severity) as of now under `day` (today):
    today's rows are replaced each hour, so the last run of a day leaves its final counts.
    Returns the number of rows written."""
    day = day or timezone.localdate()
    per_key: dict[tuple[int, int], int] = {}
    for r in _open_aggregate(Project.objects.filter(is_active=True).values("pk")):
        key = (r["project_id"], r["severity_rank"])
        per_key[key] = per_key.get(key, 0) + r["n"]
    snapshots = [
        FindingSnapshot(date=day, project_id=pk, severity=RANK_NAMES[rank], open_count=n)
        for (pk, rank), n in sorted(per_key.items())
        if rank in RANK_NAMES
    ]
    with transaction.atomic():
        FindingSnapshot.objects.filter(date=day).delete()
        FindingSnapshot.objects.bulk_create(snapshots, batch_size=1000)
    return len(snapshots)
