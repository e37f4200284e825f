"""Turning parsed finding records into Finding rows (status changes such as reopening are the
lifecycle's job, after the scan, not this module's): bulk upserts keyed on (project, target,
fingerprint), so a finding seen again is updated, never duplicated, and a retried tool run
writes nothing twice. The number of queries per batch is fixed, whatever the report size."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.tools.plugins.base import FindingData

from ..models import SEVERITY_RANK, Finding, FindingStatus

BATCH_SIZE = 1000
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


@dataclass
class IngestResult:
    seen: int = 0
    new: int = 0


def _clip(value: str, limit: int) -> str:
    return value[:limit] if value else ""


def _row(record: FindingData, *, tool_result, now) -> Finding:
    scan = tool_result.scan
    severity = str(record.severity)
    return Finding(
        project_id=scan.project_id,
        target_id=tool_result.target_id,
        tool_id=tool_result.tool_id,
        tool_result=tool_result,
        first_seen_scan=scan,
        last_seen_scan=scan,
        first_seen_at=now,
        last_seen_at=now,
        created_at=now,
        updated_at=now,
        title=_clip(record.title, 500) or record.rule_id or "Untitled finding",
        description=record.description or "",
        severity=severity,
        severity_rank=SEVERITY_RANK.get(severity, 0),
        confidence=_clip(str(record.confidence), 10),
        rule_id=_clip(record.rule_id, 300),
        cwe=record.cwe if record.cwe and record.cwe > 0 else None,
        cve=_clip(record.cve, 50),
        file_path=_clip(record.file_path, 1000),
        line_start=record.line_start if record.line_start and record.line_start > 0 else None,
        line_end=record.line_end if record.line_end and record.line_end > 0 else None,
        url=_clip(record.url, 2000),
        parameter=_clip(record.parameter, 300),
        package_name=_clip(record.package_name, 300),
        package_version=_clip(record.package_version, 100),
        fixed_version=_clip(record.fixed_version, 100),
        code_snippet=record.code_snippet or "",
        remediation=record.remediation or "",
        references=list(record.references or [])[:50],
        extra=record.extra or {},
        fingerprint=record.fingerprint,
        status=FindingStatus.NEW,
    )


def findings_ingest(*, tool_result, records: Iterable[FindingData]) -> IngestResult:
    """Upsert the records of one tool result in batches; returns counts.

    Runs inside the caller's transaction when there is one, so that findings and the tool
    result's final status are written together or not at all."""
    result = IngestResult()
    now = timezone.now()
    batch: list[Finding] = []
    seen_fingerprints: set[str] = set()
    with transaction.atomic():
        for record in records:
            if not record.fingerprint or record.fingerprint in seen_fingerprints:
                continue
            seen_fingerprints.add(record.fingerprint)
            batch.append(_row(record, tool_result=tool_result, now=now))
            if len(batch) >= BATCH_SIZE:
                _flush(batch)
                batch = []
        if batch:
            _flush(batch)
        result.seen = len(seen_fingerprints)
        scan = tool_result.scan
        result.new = Finding.objects.filter(
            tool_result=tool_result, last_seen_scan=scan, first_seen_scan=scan
        ).count()
    return result


def _flush(batch: list[Finding]) -> None:
    """One INSERT ... ON CONFLICT DO UPDATE for the whole batch."""
    Finding.objects.bulk_create(
        batch,
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["project", "target", "fingerprint"],
        update_fields=REFRESHED,
    )


def findings_summary(*, scan) -> dict:
    """Counts for a scan's summary: by severity (seen in this scan), new and recurring."""
    from django.db.models import Count

    seen = Finding.objects.filter(last_seen_scan=scan)
    by_severity = {s: 0 for s in SEVERITY_RANK}
    for row in seen.values("severity").annotate(n=Count("id")):
        by_severity[row["severity"]] = row["n"]
    new = seen.filter(first_seen_scan=scan).count()
    total = sum(by_severity.values())
    return {
        "total": total,
        "by_severity": by_severity,
        "new": new,
        "recurring": total - new,
        "open": seen.filter(
            ~Q(status__in=[FindingStatus.FALSE_POSITIVE, FindingStatus.RISK_ACCEPTED])
        ).count(),
    }
