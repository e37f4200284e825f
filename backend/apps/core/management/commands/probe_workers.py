"""Send a probe task through the broker to the `scans` queue and wait until a worker has run it.

Operators use it to prove that workers consume scan work after a deployment; the stack tests use
it to prove routing. Exits 1 when no worker ran the probe in time."""

import json
import time
import uuid

from django.core.management.base import BaseCommand, CommandError

from apps.core.models import Heartbeat
from seculite_api.celery import app


class Command(BaseCommand):
    help = "Check that a Celery worker consumes the scans queue."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=30.0)

    def handle(self, *args, timeout: float, **options):
        token = uuid.uuid4().hex
        name = f"probe:{token}"
        # send_task applies CELERY_TASK_ROUTES, exactly as the platform's own calls do.
        app.send_task("apps.scans.tasks.scans_queue_probe", args=[token])
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                row = Heartbeat.objects.filter(name=name).values("detail").first()
                if row:
                    self.stdout.write(json.dumps(row["detail"], sort_keys=True))
                    return
                time.sleep(0.25)
        finally:
            Heartbeat.objects.filter(name=name).delete()
        raise CommandError(f"No worker ran the probe on the scans queue within {timeout:g}s.")
