"""Celery tasks: notifications (see apps/findings/services/)."""
