"""Queueing Celery work after the current transaction commits, without failing the commit's
caller when the broker is down (the database is the source of truth: the reaper re-sends lost
scans, imports and scan notifications)."""

import logging

import kombu.exceptions
from django.db import transaction

logger = logging.getLogger("seculite.tasks")


def queue_after_commit(task, *args) -> None:
    """`task.delay(*args)` once the current transaction commits. With the broker down nothing
    is sent and a warning says so: the commit stands, and the request or task that made it does
    not fail after the fact."""

    def send() -> None:
        try:
            task.delay(*args)
        except kombu.exceptions.OperationalError as exc:
            logger.warning("%s not queued, the broker is unavailable: %s", task.name, exc)

    transaction.on_commit(send)
