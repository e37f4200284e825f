"""pytest: the database and broker of the environment (DB_*, CELERY_BROKER_URL) or the embedded
ones; Celery eager only here, for unit tests. Tests of the real path start real processes."""

import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import env

SECRET_KEY = "test-only-secret-key-not-used-anywhere-else-0123456789abcdef"  # noqa: S105
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Unit tests run tasks in-process; tests of the real path start real worker processes instead.
CELERY_TASK_ALWAYS_EAGER = env.bool("SECULITE_TEST_CELERY_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = "cache+memory://"
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="seculite-test-media-"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SECULITE_HEALTH_PING_TIMEOUT = 0.3
# /api/v1/metrics/ for staff only (the test client calls from 127.0.0.1); tests of the address
# allowlist set it themselves.
SECULITE_METRICS_ALLOWED_IPS: list[str] = []
STATIC_ROOT = Path(tempfile.mkdtemp(prefix="seculite-test-static-"))
