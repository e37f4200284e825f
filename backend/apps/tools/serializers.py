from rest_framework import serializers

from .models import ToolDefinition


class ToolDefinitionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ToolDefinition
        fields = [
            "tool_id",
            "name",
            "category",
            "target_types",
            "output_format",
            "version",
            "available",
            "unavailable_reason",
            "enabled",
            "overrides_schema",
            "checked_at",
        ]
        read_only_fields = [f for f in fields if f != "enabled"]
