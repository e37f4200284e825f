"""Celery tasks: reports (see apps/findings/services/)."""
