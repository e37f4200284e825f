"""Findings: what scanners found, de-duplicated per (project, target, fingerprint) across scans."""

from django.conf import settings
from django.db import models

from apps.core.models import TimeStampedModel


class Severity(models.TextChoices):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


#: Sorting is by rank, never alphabetically.
SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}


class FindingStatus(models.TextChoices):
    NEW = "new"
    CONFIRMED = "confirmed"
    IN_PROGRESS = "in_progress"
    FALSE_POSITIVE = "false_positive"
    RISK_ACCEPTED = "risk_accepted"
    RESOLVED = "resolved"
    AUTO_RESOLVED = "auto_resolved"
    REOPENED = "reopened"


OPEN_STATUSES = (
    FindingStatus.NEW,
    FindingStatus.CONFIRMED,
    FindingStatus.IN_PROGRESS,
    FindingStatus.REOPENED,
)


class Finding(TimeStampedModel):
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="findings"
    )
    target = models.ForeignKey(
        "projects.TargetAsset", on_delete=models.CASCADE, related_name="findings"
    )
    tool_id = models.CharField(max_length=50)
    tool_result = models.ForeignKey(
        "scans.ScanToolResult",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="findings",
        help_text="The tool result that last saw it.",
    )
    first_seen_scan = models.ForeignKey(
        "scans.Scan", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_seen_scan = models.ForeignKey(
        "scans.Scan", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at_scan = models.ForeignKey(
        "scans.Scan", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    title = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    severity_rank = models.PositiveSmallIntegerField()
    severity_override = models.CharField(max_length=10, choices=Severity.choices, blank=True)
    confidence = models.CharField(max_length=10, blank=True)
    rule_id = models.CharField(max_length=300, blank=True)
    cwe = models.PositiveIntegerField(null=True, blank=True)
    cve = models.CharField(max_length=50, blank=True)
    epss = models.FloatField(null=True, blank=True)

    file_path = models.CharField(max_length=1000, blank=True)
    line_start = models.PositiveIntegerField(null=True, blank=True)
    line_end = models.PositiveIntegerField(null=True, blank=True)
    url = models.CharField(max_length=2000, blank=True)
    parameter = models.CharField(max_length=300, blank=True)
    package_name = models.CharField(max_length=300, blank=True)
    package_version = models.CharField(max_length=100, blank=True)
    fixed_version = models.CharField(max_length=100, blank=True)
    code_snippet = models.TextField(blank=True)
    remediation = models.TextField(blank=True)
    references = models.JSONField(default=list, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    fingerprint = models.CharField(max_length=64)
    status = models.CharField(
        max_length=20, choices=FindingStatus.choices, default=FindingStatus.NEW
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_findings",
    )
    due_date = models.DateField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "target", "fingerprint"], name="unique_finding_fingerprint"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "status", "-severity_rank"]),
            models.Index(fields=["target", "tool_id", "status"]),
            models.Index(fields=["last_seen_scan"]),
            models.Index(fields=["first_seen_scan"]),
        ]

    def __str__(self) -> str:
        return f"[{self.severity}] {self.title}"
