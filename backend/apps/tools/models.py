"""ToolDefinition rows mirror the plugin registry, with availability and detected version."""

from django.db import models

from apps.core.models import TimeStampedModel


class ToolDefinition(TimeStampedModel):
    tool_id = models.SlugField(max_length=50, unique=True, help_text="The plugin slug.")
    name = models.CharField(max_length=100)
    category = models.CharField(max_length=20, db_index=True)
    target_types = models.JSONField(default=list)
    output_format = models.CharField(max_length=20, blank=True)
    version = models.CharField(max_length=100, blank=True)
    available = models.BooleanField(default=False)
    unavailable_reason = models.CharField(max_length=500, blank=True)
    enabled = models.BooleanField(default=True, help_text="Staff may disable a tool.")
    overrides_schema = models.JSONField(default=dict, blank=True)
    in_registry = models.BooleanField(default=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["tool_id"]

    def __str__(self) -> str:
        return self.tool_id
