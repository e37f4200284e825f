"""Celery tasks: lifecycle (see apps/findings/services/)."""
