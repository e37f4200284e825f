"""Bring the ToolDefinition rows in line with the installed plugins and binaries."""

from django.core.management.base import BaseCommand

from apps.tools.services import tools_sync


class Command(BaseCommand):
    help = "Sync ToolDefinition rows with the plugin registry (and detect tool versions)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--detect-versions",
            action="store_true",
            help="run each available tool once to record its version",
        )

    def handle(self, *args, detect_versions: bool, **options):
        for tool in tools_sync(detect_versions=detect_versions):
            state = (
                f"{tool.version or '?'}"
                if tool.available
                else f"unavailable: {tool.unavailable_reason}"
            )
            self.stdout.write(f"{tool.tool_id:16} {state}")
