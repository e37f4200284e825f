"""The Celery app `seculite_api`: configuration from Django settings (CELERY_*), tasks discovered
in every installed app."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "seculite_api.settings.local")

app = Celery("seculite_api")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
