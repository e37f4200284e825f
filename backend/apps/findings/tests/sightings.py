"""Finding rows for tests that build them directly: the sighting (when last seen, by which scan
and tool result) is a row of its own, which ingestion writes with every finding."""

from django.utils import timezone

from apps.findings.models import Finding, FindingSighting


def _sighting(values: dict) -> dict:
    return {
        "seen_at": values.pop("last_seen_at", None)
        or values.get("first_seen_at")
        or timezone.now(),
        "scan": values.pop("last_seen_scan", None) or values.get("first_seen_scan"),
        "tool_result": values.pop("tool_result", None),
    }


def create_finding(**values) -> Finding:
    """Finding.objects.create(**values), where `values` may also name `last_seen_at`,
    `last_seen_scan` and `tool_result` (defaults: first seen)."""
    seen = _sighting(values)
    finding = Finding.objects.create(**values)
    FindingSighting.objects.create(finding=finding, **seen)
    return finding


def bulk_create_findings(rows: list[dict]) -> list[Finding]:
    """Finding.objects.bulk_create of `rows` (dicts as for create_finding), with sightings."""
    seen = [_sighting(values) for values in rows]
    findings = Finding.objects.bulk_create([Finding(**values) for values in rows])
    FindingSighting.objects.bulk_create(
        FindingSighting(finding=finding, **one) for finding, one in zip(findings, seen, strict=True)
    )
    return findings
