"""Test helpers for the findings lifecycle and triage: scanner records (FindingData with real
fingerprints) and scans driven through the real services (ingestion, then scan finish)."""

from __future__ import annotations

from django.utils import timezone

from apps.findings.services import findings_ingest
from apps.scans.models import Scan, ScanToolResult
from apps.scans.services import execution
from apps.tools.plugins.base import FindingData, assign_fingerprints

FINGERPRINT_FIELDS = ("rule_id", "file_path", "title")


def records(*specs, tool: str = "bandit") -> list[FindingData]:
    """FindingData for each spec: a title, or (title, severity), or a dict of fields."""
    out = []
    for spec in specs:
        if isinstance(spec, str):
            spec = {"title": spec}
        elif isinstance(spec, tuple):
            spec = {"title": spec[0], "severity": spec[1]}
        title = spec["title"]
        fields = {
            "severity": "medium",
            "rule_id": f"R-{title}",
            "file_path": f"src/{title}.py",
            "line_start": 10,
            **spec,
        }
        out.append(FindingData(**fields))
    assign_fingerprints(tool, out, FINGERPRINT_FIELDS)
    return out


def run_scan(world, runs, *, project=None, configuration=None, cancel=False) -> Scan:
    """A scan of `project` (world.project_a) whose tool results end as given, then finished by
    the engine's own scan_maybe_finish.

    `runs` is a list of (tool_id, target, records or None, status): records are ingested when
    the status is completed or no_findings."""
    project = project or world.project_a
    configuration = configuration or (
        world.config_a if project == world.project_a else world.config_b
    )
    scan = Scan.objects.create(
        project=project,
        configuration=configuration,
        trigger_type="manual",
        status="running",
        started_at=timezone.now(),
        cancel_requested=cancel,
    )
    for tool_id, target, found, status in runs:
        result = ScanToolResult.objects.create(
            scan=scan, tool_id=tool_id, target=target, status="running", started_at=timezone.now()
        )
        count = 0
        if status in ("completed", "no_findings") and found:
            count = findings_ingest(tool_result=result, records=found).seen
        ScanToolResult.objects.filter(pk=result.pk).update(
            status=status, findings_count=count, finished_at=timezone.now()
        )
    execution.scan_maybe_finish(scan_id=scan.pk)
    scan.refresh_from_db()
    return scan


def bandit(world, found, status="completed", target=None):
    """One bandit run on the world's repository of organization A."""
    return [("bandit", target or world.repo_a, found, status)]
