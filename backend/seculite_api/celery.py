"""The Celery app `seculite_api`: configuration from Django settings (CELERY_*), tasks discovered
in every installed app, and Django's LOGGING (JSON lines with task and scan ids) in worker and
beat processes."""

import os

from celery import Celery

from apps.core.logs import connect_celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "seculite_api.settings.local")

app = Celery("seculite_api")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
connect_celery(app)
