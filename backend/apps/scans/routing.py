"""Per-tool Celery queues: SECULITE_TOOL_QUEUES="trivy=heavy,semgrep=heavy" sends the tool runs
of those tools to the `heavy` queue, which only workers started with `-Q heavy` consume. Every
other task keeps the routes of CELERY_TASK_ROUTES (this router answers None for them)."""

import re

from django.core.exceptions import ImproperlyConfigured

TOOL_RUN_TASK = "apps.scans.tasks.tool_run"
SCANS_QUEUE = "scans"
QUEUE_NAME = re.compile(r"[a-z0-9][a-z0-9_.\-]{0,63}")


def parse_tool_queues(value: dict[str, str]) -> dict[str, str]:
    """Check SECULITE_TOOL_QUEUES (already split into tool -> queue) and normalise it."""
    queues = {}
    for tool, queue in value.items():
        tool, queue = tool.strip(), str(queue).strip()
        if not tool or not QUEUE_NAME.fullmatch(queue):
            raise ImproperlyConfigured(
                f"SECULITE_TOOL_QUEUES: {tool}={queue!r} is not tool=queue with a queue name of "
                "lowercase letters, digits, '_', '.' or '-'."
            )
        if queue == "default":
            raise ImproperlyConfigured(
                "SECULITE_TOOL_QUEUES: scanners never run on the `default` queue (it keeps the "
                "light scheduling work moving); name another queue."
            )
        queues[tool] = queue
    return queues


def tool_queue(tool_id: str) -> str:
    from django.conf import settings

    return settings.SECULITE_TOOL_QUEUES.get(tool_id, SCANS_QUEUE)


def scan_queues() -> list[str]:
    """Every queue that tool runs may wait in: `scans` and the configured tool queues."""
    from django.conf import settings

    return [SCANS_QUEUE, *sorted(set(settings.SECULITE_TOOL_QUEUES.values()) - {SCANS_QUEUE})]


def route_tool_run(name, args, kwargs, options, task=None, **kw):
    """Celery router: a tool run goes to its tool's queue (one indexed lookup per send)."""
    if name != TOOL_RUN_TASK:
        return None
    result_id = (args or [None])[0] if args else (kwargs or {}).get("result_id")
    if result_id is None:
        return None
    from .models import ScanToolResult

    tool_id = ScanToolResult.objects.filter(pk=result_id).values_list("tool_id", flat=True).first()
    if tool_id is None:
        return None
    queue = tool_queue(tool_id)
    return {"queue": queue, "routing_key": queue}
