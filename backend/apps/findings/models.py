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


def _history_reference(to: str = "scans.Scan") -> models.ForeignKey:
    """A scan (or tool result) a finding or its sighting refers to: first seen, resolved at,
    last seen. Its index, if any, is in Meta.

    A record of history, kept without a database constraint: one would look the scan up again
    for every finding an import inserts or sees and every finding a scan resolves (make
    bench-import: a sixth of a first import's database time, with the sighting's constraint on
    its finding; a fifth of an unchanged reimport's). Django's collector sets it to NULL when
    the scan is deleted, and an import whose scan went meanwhile rolls back (its tool results
    go with the scan)."""
    return models.ForeignKey(
        to,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )


class _Sighted:
    """A finding's attribute read from its sighting: the value a `with_sighting()` query
    annotated, else one look-up of the sighting (None for a finding without one)."""

    def __init__(self, attribute: str):
        self.attribute = attribute

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        if self.name in instance.__dict__:
            return instance.__dict__[self.name]
        try:
            sighting = instance.sighting
        except FindingSighting.DoesNotExist:
            return None
        return getattr(sighting, self.attribute)

    def __set__(self, instance, value) -> None:
        instance.__dict__[self.name] = value


class FindingQuerySet(models.QuerySet):
    def with_sighting(self) -> "FindingQuerySet":
        """Rows carrying their last sighting as `last_seen_at`, `last_seen_scan_id` and
        `tool_result_id` (one join on the sighting's primary key)."""
        if "last_seen_at" in self.query.annotations:
            return self
        return self.annotate(
            last_seen_at=models.F("sighting__seen_at"),
            last_seen_scan_id=models.F("sighting__scan_id"),
            tool_result_id=models.F("sighting__tool_result_id"),
        )


class Finding(TimeStampedModel):
    # When a finding was last seen, by which scan and tool result, is its FindingSighting: an
    # import that sees 100,000 known findings then writes 100,000 narrow rows with three index
    # entries each, and leaves the findings (two dozen indexes) alone unless their content
    # changed (make bench-import).
    # Foreign keys whose own single-column index would repeat an index of Meta (or would only
    # serve a rare delete) have none: every index is written for every finding an import sees,
    # so each one costs imports about 5% (make bench-import).
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="findings", db_index=False
    )
    target = models.ForeignKey(
        "projects.TargetAsset", on_delete=models.CASCADE, related_name="findings", db_index=False
    )
    tool_id = models.CharField(max_length=50)
    first_seen_scan = _history_reference()
    resolved_at_scan = _history_reference()
    first_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    title = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    severity_rank = models.PositiveSmallIntegerField()
    severity_override = models.CharField(max_length=10, choices=Severity.choices, blank=True)
    # The effective severity (override, else the scanner's) as the lifecycle last reconciled it:
    # SLA due dates and severity history follow it, and `severity_rank` is its rank. Empty for
    # a finding that ingestion just created, until its scan's lifecycle pass.
    effective_severity = models.CharField(max_length=10, choices=Severity.choices, blank=True)
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
        db_index=False,
    )
    due_date = models.DateField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    # Risk acceptance: who, why, until when (a daily task reopens expired acceptances).
    risk_accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    risk_acceptance_justification = models.TextField(blank=True)
    risk_acceptance_expires_at = models.DateTimeField(null=True, blank=True)

    objects = FindingQuerySet.as_manager()

    last_seen_at = _Sighted("seen_at")
    last_seen_scan_id = _Sighted("scan_id")
    tool_result_id = _Sighted("tool_result_id")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "target", "fingerprint"], name="unique_finding_fingerprint"
            ),
        ]
        # One index per filter the API offers (list ordering is -severity_rank, -id). Columns
        # that are empty for most findings (open, unassigned, without a CVE) are indexed only
        # where they are set: a filter on a value implies it is set, and an import writes no
        # entry for the findings that have none.
        indexes = [
            # A project's list in severity order walks only that project's entries.
            models.Index(fields=["project", "-severity_rank", "-id"]),
            models.Index(fields=["status", "-severity_rank", "-id"]),
            models.Index(fields=["-severity_rank", "-id"]),
            models.Index(fields=["target", "tool_id", "status"]),
            models.Index(fields=["tool_id", "-id"]),
            models.Index(fields=["first_seen_scan"]),
            models.Index(
                fields=["resolved_at_scan"],
                condition=models.Q(resolved_at_scan__isnull=False),
                name="finding_resolved_scan_idx",
            ),
            models.Index(
                fields=["cwe"], condition=models.Q(cwe__isnull=False), name="finding_cwe_idx"
            ),
            models.Index(fields=["cve"], condition=~models.Q(cve=""), name="finding_cve_idx"),
            # The path filter is a prefix (LIKE 'src/%'): pattern operators, whatever the
            # database's collation.
            models.Index(
                fields=["file_path"],
                opclasses=["varchar_pattern_ops"],
                name="finding_file_path_idx",
            ),
            models.Index(
                fields=["assignee"],
                condition=models.Q(assignee__isnull=False),
                name="finding_assignee_idx",
            ),
            # "Assigned to me" on the dashboard: counts index-only, the first items in order.
            models.Index(
                fields=["assignee", "-severity_rank", "due_date", "-id"],
                include=["project"],
                condition=models.Q(status__in=OPEN_STATUSES, assignee__isnull=False),
                name="finding_assigned_open_idx",
            ),
            models.Index(
                fields=["risk_accepted_by"],
                condition=models.Q(risk_accepted_by__isnull=False),
                name="finding_risk_accepted_by_idx",
            ),
            models.Index(fields=["due_date", "id"]),  # filters, and keyset ordering
            models.Index(fields=["first_seen_at", "id"]),  # filters, and keyset ordering
            models.Index(
                fields=["risk_acceptance_expires_at"],
                condition=models.Q(risk_acceptance_expires_at__isnull=False),
                name="finding_risk_expires_idx",
            ),
            # Mean time to remediate over a window of resolution dates (dashboards).
            models.Index(
                fields=["resolved_at"],
                condition=models.Q(resolved_at__isnull=False),
                name="finding_resolved_at_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"[{self.severity}] {self.title}"


class FindingSighting(models.Model):
    """When a finding was last seen, and by which scan and tool result: refreshed at every
    sighting, so it lives apart from the finding's wide, heavily indexed row."""

    # No database constraint either: the finding is inserted by the same statement as its
    # sighting, and checking it again costs a look-up in the findings' primary key per new
    # finding. Django's collector deletes the sighting with its finding (findings are deleted
    # only through it: retention, a project's or target's deletion).
    finding = models.OneToOneField(
        Finding,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="sighting",
        db_constraint=False,
    )
    # The scan and tool result change at every sighting. The scan is indexed in Meta; the tool
    # result is not (only a scan's deletion would look it up).
    scan = _history_reference()
    seen_at = models.DateTimeField()
    tool_result = _history_reference("scans.ScanToolResult")

    class Meta:
        indexes = [
            models.Index(fields=["scan"]),
            models.Index(fields=["seen_at", "finding"]),  # filters, and keyset ordering
        ]

    def __str__(self) -> str:
        return f"finding {self.finding_id} seen {self.seen_at.isoformat()}"


class FindingHistory(models.Model):
    """One change of a finding: who, when, which field, from, to, and an optional note."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="history")
    created_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    scan = models.ForeignKey(
        "scans.Scan",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The scan that caused it, if any.",
    )
    field = models.CharField(max_length=40)
    old_value = models.CharField(max_length=500, blank=True)
    new_value = models.CharField(max_length=500, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["finding", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value} -> {self.new_value}"


class FindingComment(TimeStampedModel):
    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField(max_length=20000)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"comment {self.pk} on finding {self.finding_id}"


class FindingSnapshot(models.Model):
    """Open findings per project and severity at the end of a day, for fast trends."""

    date = models.DateField()
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    severity = models.CharField(max_length=10, choices=Severity.choices)
    open_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["date", "project", "severity"], name="unique_finding_snapshot"
            ),
        ]
        indexes = [models.Index(fields=["project", "date"])]

    def __str__(self) -> str:
        return f"{self.date} {self.project_id} {self.severity}: {self.open_count}"


class FindingCount(models.Model):
    """A change of the number of findings of one (project, status, severity rank): appended by
    PostgreSQL triggers, summed by readers, folded by a periodic task (see apps.findings.counts).
    No foreign key constraint: rows of a deleted project's findings must not block its deletion,
    and compaction drops them once they sum to zero."""

    project = models.ForeignKey(
        "projects.Project", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    status = models.CharField(max_length=20)
    severity_rank = models.SmallIntegerField()
    n = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["project", "status"])]

    def __str__(self) -> str:
        return f"{self.project_id} {self.status} {self.severity_rank}: {self.n:+d}"


class FindingDayCount(models.Model):
    """A change of a per-day count, appended by the same triggers as FindingCount: "due" counts
    open findings by due date (SLA breaches), "resolved" counts closed findings by the UTC day
    they were resolved, with the seconds they took (mean time to remediate)."""

    project = models.ForeignKey(
        "projects.Project", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    severity_rank = models.SmallIntegerField()
    kind = models.CharField(max_length=10)
    day = models.DateField()
    n = models.BigIntegerField()
    seconds = models.FloatField(default=0)

    class Meta:
        indexes = [models.Index(fields=["kind", "day"])]

    def __str__(self) -> str:
        return f"{self.project_id} {self.kind} {self.day} {self.severity_rank}: {self.n:+d}"


class ReportImport(TimeStampedModel):
    """An uploaded report: its file, the format asked for and detected, and its scan."""

    scan = models.OneToOneField(
        "scans.Scan", on_delete=models.CASCADE, related_name="report_import"
    )
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(
        "projects.TargetAsset", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    file_path = models.CharField(max_length=500, help_text="Relative to MEDIA_ROOT.")
    original_name = models.CharField(max_length=255)
    size_bytes = models.BigIntegerField(default=0)
    requested_format = models.CharField(max_length=50, blank=True)
    detected_format = models.CharField(max_length=50, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"import {self.original_name} ({self.detected_format or '?'})"


class WebhookKind(models.TextChoices):
    GENERIC = "generic"
    SLACK = "slack"
    TEAMS = "teams"


class ProjectWebhook(TimeStampedModel):
    """An outgoing webhook of a project, signed with its secret (HMAC-SHA256)."""

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="webhooks"
    )
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=1000)
    kind = models.CharField(max_length=10, choices=WebhookKind.choices, default=WebhookKind.GENERIC)
    secret = models.CharField(max_length=100)
    events = models.JSONField(
        default=list,
        help_text="scan_completed, scan_failed, new_findings, finding_assigned; empty = all",
    )
    min_severity = models.CharField(max_length=10, choices=Severity.choices, default="high")
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(TimeStampedModel):
    webhook = models.ForeignKey(ProjectWebhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, default="pending", help_text="pending, delivered, failed"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["webhook", "-created_at"]),
            models.Index(fields=["status", "next_attempt_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event} -> {self.webhook_id} ({self.status})"


class AssignmentNotice(models.Model):
    """Findings assigned to someone, recorded in the transaction of the change, to be notified
    (e-mail, webhooks) by a task: one queued after the commit, or, when the broker was down
    then, the reaper's. Dispatch claims the notice (dispatched_at), so it is sent once."""

    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    finding_ids = models.JSONField(default=list)
    created_at = models.DateTimeField()
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(dispatched_at__isnull=True),
                name="assignment_notice_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{len(self.finding_ids)} finding(s) assigned to user {self.assignee_id}"
