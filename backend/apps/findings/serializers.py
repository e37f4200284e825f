"""Findings as JSON: a compact row for the list, the full record with history and comments for
the detail, and the triage input (PATCH, and `changes` of a bulk update)."""

import re

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .filters import FindingFilter
from .models import OPEN_STATUSES, Finding, FindingComment, FindingHistory, Severity
from .services.triage import BULK_UPDATE_MAX, MANUAL_STATUSES

TAG_RE = re.compile(r"^[a-z0-9][a-z0-9._:/+-]*$")
MAX_TAGS, MAX_TAG_LENGTH = 20, 50


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class _FindingBase(serializers.ModelSerializer):
    severity = serializers.SerializerMethodField(
        help_text="The effective severity: the analyst's override, else the scanner's."
    )
    scanner_severity = serializers.CharField(source="severity", read_only=True)
    severity_override = serializers.ChoiceField(
        choices=Severity.choices,
        allow_blank=True,
        read_only=True,
        help_text="The analyst's severity; empty when the scanner's stands.",
    )
    overdue = serializers.SerializerMethodField()
    assignee = UserRefSerializer(read_only=True, allow_null=True)
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)
    project_id = serializers.IntegerField(read_only=True)
    target_id = serializers.IntegerField(read_only=True)
    first_seen_scan_id = serializers.IntegerField(read_only=True, allow_null=True)
    last_seen_scan_id = serializers.IntegerField(read_only=True, allow_null=True)
    last_seen_at = serializers.DateTimeField(read_only=True)  # every finding has a sighting
    resolved_at_scan_id = serializers.IntegerField(read_only=True, allow_null=True)

    @extend_schema_field(serializers.ChoiceField(choices=Severity.choices))
    def get_severity(self, obj: Finding) -> str:
        return obj.severity_override or obj.severity

    def get_overdue(self, obj: Finding) -> bool:
        return bool(
            obj.due_date and obj.status in OPEN_STATUSES and obj.due_date < timezone.localdate()
        )


LIST_FIELDS = [
    "id",
    "project_id",
    "target_id",
    "tool_id",
    "title",
    "severity",
    "scanner_severity",
    "severity_override",
    "status",
    "rule_id",
    "cwe",
    "cve",
    "file_path",
    "line_start",
    "line_end",
    "url",
    "package_name",
    "package_version",
    "assignee",
    "due_date",
    "overdue",
    "tags",
    "first_seen_at",
    "last_seen_at",
    "resolved_at",
    "first_seen_scan_id",
    "last_seen_scan_id",
    "resolved_at_scan_id",
]


def _datetime(value):
    """What DRF's DateTimeField (ISO 8601, the current time zone) makes of a value."""
    if value is None:
        return None
    text = value.astimezone(timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class FindingListSerializer(_FindingBase):
    """The declared fields describe a row (and the OpenAPI schema); rows are written by hand,
    since a list page holds up to 500 of them and DRF's per-field machinery is most of a page's
    cost. A test keeps the two identical."""

    class Meta:
        model = Finding
        fields = LIST_FIELDS
        read_only_fields = LIST_FIELDS

    def to_representation(self, obj: Finding) -> dict:
        today = timezone.localdate()
        assignee = obj.assignee
        due = obj.due_date
        return {
            "id": obj.id,
            "project_id": obj.project_id,
            "target_id": obj.target_id,
            "tool_id": obj.tool_id,
            "title": obj.title,
            "severity": obj.severity_override or obj.severity,
            "scanner_severity": obj.severity,
            "severity_override": obj.severity_override,
            "status": obj.status,
            "rule_id": obj.rule_id,
            "cwe": obj.cwe,
            "cve": obj.cve,
            "file_path": obj.file_path,
            "line_start": obj.line_start,
            "line_end": obj.line_end,
            "url": obj.url,
            "package_name": obj.package_name,
            "package_version": obj.package_version,
            "assignee": ({"id": assignee.id, "username": assignee.username} if assignee else None),
            "due_date": due.isoformat() if due else None,
            "overdue": bool(due and obj.status in OPEN_STATUSES and due < today),
            "tags": [str(tag) for tag in obj.tags],
            "first_seen_at": _datetime(obj.first_seen_at),
            "last_seen_at": _datetime(obj.last_seen_at),
            "resolved_at": _datetime(obj.resolved_at),
            "first_seen_scan_id": obj.first_seen_scan_id,
            "last_seen_scan_id": obj.last_seen_scan_id,
            "resolved_at_scan_id": obj.resolved_at_scan_id,
        }


class FindingHistorySerializer(serializers.ModelSerializer):
    actor = UserRefSerializer(read_only=True, allow_null=True)
    scan_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = FindingHistory
        fields = ["id", "created_at", "actor", "scan_id", "field", "old_value", "new_value", "note"]
        read_only_fields = fields


class FindingCommentSerializer(serializers.ModelSerializer):
    author = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = FindingComment
        fields = ["id", "author", "body", "created_at", "updated_at"]
        read_only_fields = ["id", "author", "created_at", "updated_at"]


class FindingDetailSerializer(_FindingBase):
    project_name = serializers.CharField(source="project.name", read_only=True)
    target_name = serializers.CharField(source="target.name", read_only=True)
    risk_accepted_by = UserRefSerializer(read_only=True, allow_null=True)
    tool_result_id = serializers.IntegerField(read_only=True, allow_null=True)
    history = FindingHistorySerializer(
        source="recent_history",
        many=True,
        read_only=True,
        help_text="The latest 100 changes, newest first.",
    )
    comments = FindingCommentSerializer(
        source="recent_comments",
        many=True,
        read_only=True,
        help_text="The latest 100 comments, newest first (comments/ pages through all).",
    )

    class Meta:
        model = Finding
        fields = [
            *LIST_FIELDS,
            "project_name",
            "target_name",
            "tool_result_id",
            "description",
            "confidence",
            "epss",
            "parameter",
            "fixed_version",
            "code_snippet",
            "remediation",
            "references",
            "extra",
            "fingerprint",
            "risk_accepted_by",
            "risk_acceptance_justification",
            "risk_acceptance_expires_at",
            "created_at",
            "updated_at",
            "history",
            "comments",
        ]
        read_only_fields = fields


class FindingTriageSerializer(serializers.Serializer):
    """What triage may change; a note goes on the history rows of this change."""

    status = serializers.ChoiceField(choices=MANUAL_STATUSES, required=False)
    severity_override = serializers.ChoiceField(
        choices=Severity.choices,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="Empty or null returns to the scanner's severity.",
    )
    assignee_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="A member of the finding's organization; null unassigns.",
    )
    due_date = serializers.DateField(required=False, allow_null=True)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=MAX_TAG_LENGTH),
        required=False,
        max_length=MAX_TAGS,
        help_text="Replaces the tags; lower-case letters, digits and . _ : / + -",
    )
    risk_acceptance_justification = serializers.CharField(
        required=False, allow_blank=True, max_length=5000
    )
    risk_acceptance_expires_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Defaults to (and may not exceed) SECULITE_RISK_ACCEPTANCE_MAX_DAYS ahead.",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)

    def validate_tags(self, value):
        tags = []
        for raw in value:
            tag = raw.strip().lower()
            if not TAG_RE.match(tag):
                raise serializers.ValidationError(
                    f"{raw!r}: use lower-case letters, digits and . _ : / + - only."
                )
            if tag not in tags:
                tags.append(tag)
        return tags


class FindingBulkUpdateSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        allow_empty=False,
        max_length=BULK_UPDATE_MAX,
    )
    filter = serializers.DictField(
        required=False,
        help_text="The list's query parameters (project_id, status, severity, ...), at least one.",
    )
    changes = FindingTriageSerializer()

    def validate_filter(self, value):
        """The list's query parameters as JSON: a string, a number, true/false, or a list of
        strings and numbers (joined with commas); null leaves a filter out."""
        data, wrong = {}, {}
        for key, raw in value.items():
            if raw is None:
                continue
            items = raw if isinstance(raw, list) else [raw]
            if not all(_filter_scalar(item) for item in items):
                wrong[key] = ["Use a string, a number, true or false, or a list of them."]
                continue
            data[key] = ",".join(_filter_text(item) for item in items)
        if wrong:
            raise serializers.ValidationError(wrong)
        data.pop("ordering", None)
        unknown = sorted(set(data) - set(FindingFilter.base_filters))
        if unknown:
            raise serializers.ValidationError(f"Unknown filters: {', '.join(unknown)}.")
        # A filter that narrows nothing ("", ",", "  ") would let the update reach every finding
        # the caller may write.
        if not any(part.strip() for text in data.values() for part in text.split(",")):
            raise serializers.ValidationError("Name at least one filter.")
        return data

    def validate(self, attrs):
        if ("ids" in attrs) == ("filter" in attrs):
            raise serializers.ValidationError("Give either ids or filter.")
        return attrs


def _filter_scalar(value) -> bool:
    return isinstance(value, (str, bool)) or (type(value) is int)


def _filter_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class FindingBulkFailureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class FindingBulkResultSerializer(serializers.Serializer):
    updated = serializers.IntegerField()
    failed = FindingBulkFailureSerializer(many=True)
