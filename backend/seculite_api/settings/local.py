"""`make dev`: DEBUG on, embedded database and broker unless DB_* / CELERY_BROKER_URL are set,
and Django serving the built single-page app."""

from pathlib import Path

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# A development-only key; production refuses to start without DJANGO_SECRET_KEY.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="django-insecure-local-development-only-key")
SERVE_SPA = env.bool("SECULITE_SERVE_SPA", default=True)
if SERVE_SPA:
    WHITENOISE_ROOT = SPA_DIST_DIR  # noqa: F405
EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
STORAGES = {  # no manifest needed without collectstatic
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# make dev: the repository's sample projects may be scanned as local paths.
SECULITE_SCAN_ROOTS = [
    Path(p)
    for p in env.list("SECULITE_SCAN_ROOTS", default=[str(BACKEND_DIR / "samples")])  # noqa: F405
]
