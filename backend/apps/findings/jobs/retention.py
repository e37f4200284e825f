"""Celery tasks: retention (see apps/findings/services/)."""
