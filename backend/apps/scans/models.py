"""Scan configurations (what to scan, with which tools, when), scans and per-tool results."""

from django.conf import settings
from django.db import models

from apps.core.models import TimeStampedModel


class ScheduleType(models.TextChoices):
    MANUAL = "manual"
    ONCE = "once"
    CRON = "cron"


class ScanConfiguration(TimeStampedModel):
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="scan_configurations"
    )
    name = models.CharField(max_length=150)
    description = models.TextField(blank=True)
    target_assets = models.ManyToManyField("projects.TargetAsset", blank=True, related_name="+")
    target_groups = models.ManyToManyField("projects.TargetGroup", blank=True, related_name="+")
    tools_and_configs = models.JSONField(default=list)
    schedule_type = models.CharField(
        max_length=10, choices=ScheduleType.choices, default=ScheduleType.MANUAL
    )
    schedule = models.CharField(
        max_length=100, blank=True, help_text="An ISO date-time (once) or a cron expression (cron)."
    )
    timezone = models.CharField(max_length=64, default="UTC")
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    webhook_prefix = models.CharField(max_length=16, blank=True, db_index=True)
    webhook_token_hash = models.CharField(max_length=64, blank=True)
    notification_settings = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_triggered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="unique_configuration_name"),
        ]
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ScanStatus(models.TextChoices):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    ERROR = "error"
    CANCELLED = "cancelled"


SCAN_FINISHED = (ScanStatus.COMPLETED, ScanStatus.FAILED, ScanStatus.ERROR, ScanStatus.CANCELLED)


class TriggerType(models.TextChoices):
    MANUAL = "manual"
    SCHEDULED = "scheduled"
    WEBHOOK = "webhook"
    API = "api"
    CLI = "cli"
    IMPORT = "import"


class Scan(TimeStampedModel):
    configuration = models.ForeignKey(
        ScanConfiguration, on_delete=models.SET_NULL, null=True, blank=True, related_name="scans"
    )
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="scans")
    trigger_type = models.CharField(max_length=10, choices=TriggerType.choices)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=ScanStatus.choices, default=ScanStatus.PENDING)
    phase = models.CharField(max_length=100, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    error_message = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    # Set when SecuLite itself failed (not a scanner): the scan ends as `error`.
    platform_error = models.BooleanField(default=False)
    rescan_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # When the notifications of the finished scan were dispatched: a scan that finished while
    # the broker was down has none, and the reaper sends them once it is back.
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["project", "-created_at"]),
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["configuration", "-created_at"]),
            models.Index(
                fields=["finished_at"],
                condition=models.Q(notified_at__isnull=True, finished_at__isnull=False),
                name="scan_unnotified_idx",
            ),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"scan {self.pk} ({self.status})"


class ToolResultStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    NO_FINDINGS = "no_findings"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


TOOL_RESULT_FINISHED = (
    ToolResultStatus.COMPLETED,
    ToolResultStatus.NO_FINDINGS,
    ToolResultStatus.FAILED,
    ToolResultStatus.TIMED_OUT,
    ToolResultStatus.SKIPPED,
    ToolResultStatus.CANCELLED,
)


class ScanToolResult(TimeStampedModel):
    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="tool_results")
    tool_id = models.CharField(max_length=50)
    target = models.ForeignKey(
        "projects.TargetAsset", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=ToolResultStatus.choices, default=ToolResultStatus.PENDING
    )
    exit_code = models.IntegerField(null=True, blank=True)
    tool_version = models.CharField(max_length=100, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    # The scanner process alone (duration_seconds also counts parsing and bookkeeping).
    scanner_started_at = models.DateTimeField(null=True, blank=True)
    scanner_seconds = models.FloatField(null=True, blank=True)
    raw_output_path = models.CharField(
        max_length=500, blank=True, help_text="Relative to MEDIA_ROOT."
    )
    output_excerpt = models.TextField(blank=True)
    error_message = models.TextField(blank=True)
    findings_count = models.PositiveIntegerField(default=0)
    # Execution bookkeeping: which worker runs it, its last sign of life, and how often tried.
    celery_task_id = models.CharField(max_length=64, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scan", "tool_id", "target"], name="unique_tool_result"
            ),
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.tool_id} on {self.target_id} ({self.status})"
