from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ToolsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.tools"
    label = "tools"
    verbose_name = "Scanner tools"

    def ready(self) -> None:
        # Import every plugin now: a broken or duplicate plugin stops start-up loudly.
        from .plugins.registry import autodiscover

        autodiscover()
        post_migrate.connect(_sync_after_migrate, sender=self)


def _sync_after_migrate(sender, using="default", **kwargs) -> None:
    """ToolDefinition rows mirror the registry after every migrate (no binaries are run)."""
    from .services import tools_sync

    tools_sync(detect_versions=False)
