from rest_framework import serializers

from .models import Scan, ScanConfiguration, ScanToolResult, ScheduleType


class ToolEntrySerializer(serializers.Serializer):
    tool_id = serializers.CharField(max_length=50)
    overrides = serializers.DictField(required=False, default=dict)


class IdListField(serializers.ListField):
    """Ids in and out: a list of ids on input, the related objects' ids (sorted) on output."""

    child = serializers.IntegerField(min_value=1)

    def to_representation(self, data):
        return sorted(obj.pk for obj in data.all())


class ScanConfigurationSerializer(serializers.ModelSerializer):
    target_assets = IdListField(required=False)
    target_groups = IdListField(required=False)
    tools_and_configs = ToolEntrySerializer(many=True)
    schedule_type = serializers.ChoiceField(choices=ScheduleType.choices, required=False)
    webhook_enabled = serializers.BooleanField(required=False, write_only=True)
    has_webhook = serializers.SerializerMethodField()
    next_runs = serializers.SerializerMethodField()

    class Meta:
        model = ScanConfiguration
        fields = [
            "id",
            "project",
            "name",
            "description",
            "target_assets",
            "target_groups",
            "tools_and_configs",
            "schedule_type",
            "schedule",
            "timezone",
            "webhook_enabled",
            "has_webhook",
            "notification_settings",
            "is_active",
            "created_by",
            "last_triggered_at",
            "next_runs",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "project",
            "created_by",
            "last_triggered_at",
            "created_at",
            "updated_at",
        ]
        validators: list = []

    def get_has_webhook(self, obj) -> bool:
        return bool(obj.webhook_token_hash)

    def get_next_runs(self, obj) -> list[str]:
        from .services.configurations import next_runs

        return next_runs(obj)


class ToolResultSerializer(serializers.ModelSerializer):
    target_id = serializers.IntegerField(read_only=True)
    has_raw_output = serializers.SerializerMethodField()

    class Meta:
        model = ScanToolResult
        fields = [
            "id",
            "tool_id",
            "target_id",
            "status",
            "exit_code",
            "tool_version",
            "started_at",
            "finished_at",
            "duration_seconds",
            "scanner_started_at",
            "scanner_seconds",
            "findings_count",
            "output_excerpt",
            "error_message",
            "has_raw_output",
            "attempts",
            "worker",
        ]
        read_only_fields = fields

    def get_has_raw_output(self, obj) -> bool:
        return bool(obj.raw_output_path)


class ScanSerializer(serializers.ModelSerializer):
    configuration_id = serializers.IntegerField(read_only=True, allow_null=True)
    project_id = serializers.IntegerField(read_only=True)
    triggered_by = serializers.CharField(
        source="triggered_by.username", default=None, read_only=True, allow_null=True
    )

    class Meta:
        model = Scan
        fields = [
            "id",
            "project_id",
            "configuration_id",
            "trigger_type",
            "triggered_by",
            "status",
            "phase",
            "progress",
            "started_at",
            "finished_at",
            "summary",
            "error_message",
            "cancel_requested",
            "rescan_of",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ScanDetailSerializer(ScanSerializer):
    tool_results = ToolResultSerializer(many=True, read_only=True)

    class Meta(ScanSerializer.Meta):
        fields = [*ScanSerializer.Meta.fields, "tool_results"]
        read_only_fields = fields


class WebhookTokenSerializer(serializers.Serializer):
    webhook_url = serializers.CharField()
    detail = serializers.CharField()
