"""WSGI entry point for Gunicorn (`seculite_api.wsgi`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "seculite_api.settings.production")

application = get_wsgi_application()
