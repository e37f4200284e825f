"""ASGI entry point (not used by the Docker plan, kept for completeness)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "seculite_api.settings.production")

application = get_asgi_application()
