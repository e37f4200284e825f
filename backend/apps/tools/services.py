"""ToolDefinition rows follow the plugin registry: one row per plugin, with availability."""

import logging

from django.db import transaction
from django.utils import timezone

from .models import ToolDefinition
from .plugins.registry import registry

logger = logging.getLogger("seculite.tools")


@transaction.atomic
def tools_sync(*, detect_versions: bool = False) -> list[ToolDefinition]:
    """Create or update a row per registered plugin; rows of removed plugins are marked.

    Locating a binary is cheap and always done; running it for its version is optional
    (deployments do it once after migrate; the version of each run is recorded anyway)."""
    registry.autodiscover()
    now = timezone.now()
    existing = {t.tool_id: t for t in ToolDefinition.objects.select_for_update()}
    rows = []
    for plugin in registry.all():
        location = plugin.locate()
        row = existing.pop(plugin.slug, None) or ToolDefinition(tool_id=plugin.slug)
        row.name = plugin.label
        row.category = str(plugin.category)
        row.target_types = sorted(str(t) for t in plugin.target_types)
        row.output_format = plugin.output_format
        row.overrides_schema = plugin.overrides_schema
        row.available = location.available
        row.unavailable_reason = "" if location.available else location.reason[:500]
        row.in_registry = True
        row.checked_at = now
        if detect_versions and location.available:
            try:
                row.version = plugin.detect_version(location.path)[:100]
            except Exception:  # a broken tool must not stop the sync of the others
                logger.exception("version detection of %s failed", plugin.slug)
        row.save()
        rows.append(row)
    for stale in existing.values():
        stale.in_registry = False
        stale.available = False
        stale.unavailable_reason = "No plugin with this slug is installed."
        stale.save(update_fields=["in_registry", "available", "unavailable_reason", "updated_at"])
    return rows


def tool_set_enabled(*, tool: ToolDefinition, enabled: bool) -> ToolDefinition:
    tool.enabled = enabled
    tool.save(update_fields=["enabled", "updated_at"])
    return tool
