"""Celery discovers `apps.findings.tasks`: the tasks live in apps/findings/jobs/, one module per
area; importing them here registers them."""

from .jobs import imports, lifecycle, notifications, reports, retention  # noqa: F401
