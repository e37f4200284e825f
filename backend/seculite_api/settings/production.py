"""Production: refuses to start without DJANGO_SECRET_KEY or with DEBUG on; secure cookies, HSTS."""

from django.core.exceptions import ImproperlyConfigured

from apps.core.logs import logging_config

from .base import *  # noqa: F403
from .base import LOG_LEVEL, env

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a random value of at least 50 characters in production."
    )
DEBUG = env.bool("DJANGO_DEBUG", default=False)
if DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off in production.")

# nginx terminates TLS and forwards X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = True
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# nginx answers /api/v1/health/ over plain HTTP inside the compose network; Prometheus may scrape
# /api/v1/metrics/ there too (docs/operations.md, "Metrics").
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health/$", r"^api/v1/metrics/$"]
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECULITE_X_ACCEL_REDIRECT = env.bool("SECULITE_X_ACCEL_REDIRECT", default=True)
# One JSON object per line on stdout, for log collectors (SECULITE_LOG_FORMAT=plain to read).
SECULITE_LOG_FORMAT = env.str("SECULITE_LOG_FORMAT", default="json")
LOGGING = logging_config(log_format=SECULITE_LOG_FORMAT, level=LOG_LEVEL)
