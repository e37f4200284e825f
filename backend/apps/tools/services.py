"""ToolDefinition rows follow the plugin registry: one row per plugin, with availability."""

import logging
from concurrent.futures import ThreadPoolExecutor

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
    plugins = list(registry.all())
    locations = {plugin.slug: plugin.locate() for plugin in plugins}
    versions = _detect_versions(plugins, locations) if detect_versions else {}
    existing = {t.tool_id: t for t in ToolDefinition.objects.select_for_update()}
    rows = []
    for plugin in plugins:
        location = locations[plugin.slug]
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
        if plugin.slug in versions:
            row.version = versions[plugin.slug][:100]
        row.save()
        rows.append(row)
    for stale in existing.values():
        stale.in_registry = False
        stale.available = False
        stale.unavailable_reason = "No plugin with this slug is installed."
        stale.save(update_fields=["in_registry", "available", "unavailable_reason", "updated_at"])
    return rows


def _detect_versions(plugins, locations) -> dict[str, str]:
    """Each available tool's version, the tools run side by side (a tool such as checkov takes
    seconds just to start; one after another they made every deployment's migrate wait)."""
    available = [p for p in plugins if locations[p.slug].available]

    def detect(plugin):
        try:
            return plugin.slug, plugin.detect_version(locations[plugin.slug].path)
        except Exception:  # a broken tool must not stop the sync of the others
            logger.exception("version detection of %s failed", plugin.slug)
            return plugin.slug, None

    with ThreadPoolExecutor(max_workers=max(1, min(8, len(available)))) as pool:
        found = dict(pool.map(detect, available))
    return {slug: version for slug, version in found.items() if version is not None}


def tool_set_enabled(*, tool: ToolDefinition, enabled: bool) -> ToolDefinition:
    tool.enabled = enabled
    tool.save(update_fields=["enabled", "updated_at"])
    return tool
