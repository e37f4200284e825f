"""Celery tasks: imports (see apps/findings/services/)."""
