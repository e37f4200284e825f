"""Platform housekeeping tasks (default queue)."""

from celery import shared_task
from django.utils import timezone

from .models import Heartbeat


@shared_task(name="apps.core.tasks.beat_heartbeat", ignore_result=True)
def beat_heartbeat() -> None:
    """Record that beat is alive: it enqueued this, and a worker ran it."""
    Heartbeat.objects.update_or_create(name="beat", defaults={"last_seen": timezone.now()})
