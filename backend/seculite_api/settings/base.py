"""Settings shared by every environment. Every value a deployment may change is read from the
environment (django-environ); `.env.example` documents each variable."""

import ipaddress
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from kombu import Exchange, Queue

from apps.core.logs import logging_config
from apps.scans.routing import parse_tool_queues

BACKEND_DIR = Path(__file__).resolve().parent.parent.parent
REPO_DIR = BACKEND_DIR.parent
VAR_DIR = Path(environ.Env().str("SECULITE_VAR_DIR", default=str(BACKEND_DIR / "var")))

env = environ.Env()
# A .env file beside the repository root is read in development; real environment variables win.
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    environ.Env.read_env(str(REPO_DIR / ".env"))

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_celery_results",
    "django_filters",
    "axes",
    "apps.core",
    "apps.users",
    "apps.projects",
    "apps.scans",
    "apps.tools",
    "apps.findings",
]

MIDDLEWARE = [
    # First: request id and log context for everything below, and request metrics.
    "apps.core.middleware.ObservabilityMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses locked-out accounts and addresses before a password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "seculite_api.urls"
WSGI_APPLICATION = "seculite_api.wsgi.application"
ASGI_APPLICATION = "seculite_api.asgi.application"
AUTH_USER_MODEL = "users.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


# --- Database -------------------------------------------------------------------------------
# PostgreSQL from DB_*; with none of them set, an embedded SQLite file under backend/var/.
def database_from_env() -> dict:
    """Build the default database from the DB_* variables, or the embedded SQLite fallback."""
    engine = env.str("DB_ENGINE", default="").strip()
    if not engine and not env.str("DB_NAME", default=""):
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env.str("SQLITE_PATH", default=str(VAR_DIR / "seculite.sqlite3")),
            "OPTIONS": {
                # WAL lets the web process read while a worker writes; IMMEDIATE transactions and
                # a busy timeout make concurrent writers wait instead of failing with "locked".
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=30),
            },
        }
    aliases = {
        "": "django.db.backends.postgresql",
        "postgres": "django.db.backends.postgresql",
        "postgresql": "django.db.backends.postgresql",
        "django.db.backends.postgresql": "django.db.backends.postgresql",
        "django.db.backends.postgresql_psycopg2": "django.db.backends.postgresql",
    }
    if engine not in aliases:
        raise environ.ImproperlyConfigured(
            f"DB_ENGINE={engine!r} is not supported: use postgresql, or unset every DB_* "
            "variable for the embedded SQLite database."
        )
    return {
        "ENGINE": aliases[engine],
        "NAME": env.str("DB_NAME", default="seculite"),
        "USER": env.str("DB_USER", default="seculite"),
        "PASSWORD": env.str("DB_PASSWORD", default=""),
        "HOST": env.str("DB_HOST", default="127.0.0.1"),
        "PORT": env.str("DB_PORT", default="5432"),
        "CONN_MAX_AGE": env.int("DB_CONN_MAX_AGE", default=60),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"connect_timeout": env.int("DB_CONNECT_TIMEOUT", default=5)},
    }


DATABASES = {"default": database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USES_EMBEDDED_DATABASE = DATABASES["default"]["ENGINE"].endswith("sqlite3")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static, media and the single-page app --------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media")))
# The built SPA (frontend/dist). Django serves it in `make dev`; nginx serves it in Docker.
SPA_DIST_DIR = Path(env.str("SECULITE_SPA_DIST_DIR", default=str(REPO_DIR / "frontend" / "dist")))
SERVE_SPA = env.bool("SECULITE_SERVE_SPA", default=False)
if SERVE_SPA:
    WHITENOISE_ROOT = SPA_DIST_DIR
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Largest upload the API accepts; nginx's client_max_body_size is set to the same value.
SECULITE_MAX_UPLOAD_MB = env.int("SECULITE_MAX_UPLOAD_MB", default=200)
# Imported reports in a format read whole (every native format but Bandit JSON; SARIF streams)
# are refused above this size, so one upload cannot take the worker's memory.
SECULITE_IMPORT_MAX_UNSTREAMED_MB = env.int("SECULITE_IMPORT_MAX_UNSTREAMED_MB", default=64)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# When nginx fronts the app, protected files (raw scanner output) are handed to it through
# X-Accel-Redirect to this internal location instead of being streamed by Python.
SECULITE_X_ACCEL_REDIRECT = env.bool("SECULITE_X_ACCEL_REDIRECT", default=False)
SECULITE_X_ACCEL_PREFIX = "/protected-media/"

# --- Scanners ----------------------------------------------------------------------------------
# Where scripts/install-tools.sh (`make tools`) put the scanners (<dir>/<tool>/bin, <dir>/node);
# a scanner missing there is looked up on PATH. pip-audit's OSV-style vulnerability service: an
# air-gapped site points it at a mirror.
SECULITE_TOOLS_DIR = Path(
    env.str("SECULITE_TOOLS_DIR", default=str(REPO_DIR / ".tools" / "scanners"))
)
SECULITE_PIP_AUDIT_OSV_URL = env.str(
    "SECULITE_PIP_AUDIT_OSV_URL", default="https://api.osv.dev/v1/query"
)

# --- Security ----------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("DJANGO_BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

# --- REST framework and OpenAPI ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # `Authorization: Token <key>` (API keys and login tokens) first, so that an anonymous
        # request is answered 401 with a WWW-Authenticate header; then the SPA's session (CSRF).
        "apps.users.authentication.TokenAuthentication",
        "apps.users.authentication.CsrfSessionAuthentication",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "login": env.str("SECULITE_THROTTLE_LOGIN", default="10/min"),
        "registration": env.str("SECULITE_THROTTLE_REGISTRATION", default="5/hour"),
        "password_reset": env.str("SECULITE_THROTTLE_PASSWORD_RESET", default="5/hour"),
        "webhook": env.str("SECULITE_THROTTLE_WEBHOOK", default="60/min"),
    },
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.parsers.SafeJSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "EXCEPTION_HANDLER": "apps.core.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SecuLite API",
    "DESCRIPTION": "Self-hosted security scanning and vulnerability management.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ScanStatusEnum": "apps.scans.models.ScanStatus",
        "ToolResultStatusEnum": "apps.scans.models.ToolResultStatus",
        "FindingStatusEnum": "apps.findings.models.FindingStatus",
        "SeverityEnum": "apps.findings.models.Severity",
    },
}

# --- Celery --------------------------------------------------------------------------------------
# With CELERY_BROKER_URL unset, an embedded broker that needs no server: kombu's filesystem
# transport under backend/var/broker. Real worker and beat processes run either way.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
USES_EMBEDDED_BROKER = not CELERY_BROKER_URL
if USES_EMBEDDED_BROKER:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Redis: a message not acknowledged within this time is redelivered. It must exceed the
        # longest scan task, or a long scan would be run twice.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=4 * 3600),
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=4.0)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="django-db")
CELERY_RESULT_EXTENDED = True
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = (
    Queue("default", Exchange("default"), routing_key="default"),
    Queue("scans", Exchange("scans"), routing_key="scans"),
)
# Routing by task: everything that runs a scanner or processes its output goes to `scans`.
CELERY_TASK_ROUTES = {
    # Light scheduling work stays on `default`, so that long scans never delay it.
    "apps.scans.tasks.scan_scheduled_launch": {"queue": "default", "routing_key": "default"},
    "apps.scans.tasks.scans_reap_stale": {"queue": "default", "routing_key": "default"},
    "apps.scans.tasks.*": {"queue": "scans", "routing_key": "scans"},
    # Report imports parse and ingest big files: scan work. Other findings jobs are light.
    "apps.findings.jobs.imports.*": {"queue": "scans", "routing_key": "scans"},
    "apps.findings.jobs.*": {"queue": "default", "routing_key": "default"},
    "apps.tools.tasks.*": {"queue": "scans", "routing_key": "scans"},
}
# Heavy scanners on queues of their own: "trivy=heavy,semgrep=heavy" sends those tools' runs to
# `heavy`, consumed only by workers started with CELERY_WORKER_QUEUES including it.
SECULITE_TOOL_QUEUES = parse_tool_queues(env.dict("SECULITE_TOOL_QUEUES", default={}))
for _queue in sorted(set(SECULITE_TOOL_QUEUES.values()) - {"scans"}):
    CELERY_TASK_QUEUES += (Queue(_queue, Exchange(_queue), routing_key=_queue),)
if SECULITE_TOOL_QUEUES:
    # A router first (tool runs by tool), then the routes by task name above.
    CELERY_TASK_ROUTES = ("apps.scans.routing.route_tool_run", CELERY_TASK_ROUTES)
# A worker that dies mid-task must not lose it: acknowledge after the task ran, requeue when the
# worker process is lost, and take one message at a time so nothing waits behind a long scan.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=3600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=3900)
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TASK_SEND_SENT_EVENT = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# django-celery-beat's DatabaseScheduler, surviving database outages (apps/core/beat.py).
CELERY_BEAT_SCHEDULER = "apps.core.beat:DatabaseScheduler"
# Periodic tasks known to the code; DatabaseScheduler copies them into django-celery-beat's tables.
CELERY_BEAT_SCHEDULE = {
    "seculite-beat-heartbeat": {
        "task": "apps.core.tasks.beat_heartbeat",
        "schedule": env.float("SECULITE_BEAT_HEARTBEAT_SECONDS", default=30.0),
        "options": {"queue": "default", "expires": 60},
    },
    "seculite-reopen-expired-risk-acceptances": {
        "task": "apps.findings.jobs.lifecycle.findings_reopen_expired_acceptances",
        "schedule": crontab(minute=15, hour=0),
        "options": {"queue": "default"},
    },
    "seculite-findings-snapshot": {
        "task": "apps.findings.jobs.reports.findings_snapshot",
        "schedule": crontab(minute=5),  # hourly: today's row stays fresh, yesterday's is final
        "options": {"queue": "default"},
    },
    "seculite-finding-counts-compact": {
        "task": "apps.findings.jobs.reports.finding_counts_compact",
        "schedule": 300.0,
        "options": {"queue": "default", "expires": 300},
    },
    "seculite-webhook-retries": {
        "task": "apps.findings.jobs.notifications.webhook_deliveries_retry",
        "schedule": env.float("SECULITE_WEBHOOK_RETRY_BEAT_SECONDS", default=60.0),
        "options": {"queue": "default", "expires": 60},
    },
    "seculite-retention": {
        "task": "apps.findings.jobs.retention.retention_purge",
        "schedule": crontab(minute=30, hour=3),
        "options": {"queue": "default"},
    },
    "seculite-scans-reaper": {
        "task": "apps.scans.tasks.scans_reap_stale",
        "schedule": env.float("SECULITE_REAPER_SECONDS", default=15.0),
        "options": {"queue": "default", "expires": 60},
    },
}
# How long /health/ waits for workers to answer a ping.
SECULITE_HEALTH_PING_TIMEOUT = env.float("SECULITE_HEALTH_PING_TIMEOUT", default=1.0)

# --- Cache (throttling, lockout counters, health) ---------------------------------------------
# Several web processes must share throttle counters: use Redis when CACHE_URL names it.
_cache_url = env.str("CACHE_URL", default="")
if _cache_url.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_url,
            "KEY_PREFIX": "seculite",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Accounts and authentication ---------------------------------------------------------------
# django-axes: lock the account and the source address after repeated failed logins.
AXES_FAILURE_LIMIT = env.int("SECULITE_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("SECULITE_LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "apps.users.authentication.client_ip"
AXES_LOCKOUT_CALLABLE = "apps.users.authentication.lockout_response"
AXES_VERBOSE = False
# Login tokens handed to API clients by /auth/login/ expire after this many days.
SECULITE_LOGIN_TOKEN_DAYS = env.int("SECULITE_LOGIN_TOKEN_DAYS", default=14)
SECULITE_INVITATION_DAYS = env.int("SECULITE_INVITATION_DAYS", default=7)
PASSWORD_RESET_TIMEOUT = env.int("SECULITE_PASSWORD_RESET_SECONDS", default=3600)
# Public address of the web app, for links in e-mails (password reset, invitations).
SECULITE_PUBLIC_URL = env.str("SECULITE_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Scan targets --------------------------------------------------------------------------------
# Local paths that git_repository targets may point at (symlinks are resolved first). Empty:
# no local paths at all, the production default.
SECULITE_SCAN_ROOTS = [Path(p) for p in env.list("SECULITE_SCAN_ROOTS", default=[])]
# Private, loopback or reserved addresses/networks that targets may name anyway (CIDR or host).
SECULITE_ALLOWED_PRIVATE_TARGETS = env.list("SECULITE_ALLOWED_PRIVATE_TARGETS", default=[])
# file:// Git URLs are refused unless enabled.
SECULITE_ALLOW_FILE_GIT_URLS = env.bool("SECULITE_ALLOW_FILE_GIT_URLS", default=False)

# --- Findings -------------------------------------------------------------------------------------
# A risk acceptance expires after at most this many days (and by default after exactly this).
SECULITE_RISK_ACCEPTANCE_MAX_DAYS = env.int("SECULITE_RISK_ACCEPTANCE_MAX_DAYS", default=365)

# --- Scan execution ---------------------------------------------------------------------------
# Where workers clone repositories for a scan (removed when the scan finishes).
SECULITE_WORKSPACE_DIR = Path(
    env.str("SECULITE_WORKSPACE_DIR", default=str(VAR_DIR / "workspaces"))
)
SECULITE_GIT_CLONE_TIMEOUT = env.int("SECULITE_GIT_CLONE_TIMEOUT", default=300)
# Longest run of one scanner on one target before it is killed (timed_out).
SECULITE_TOOL_TIMEOUT = env.int("SECULITE_TOOL_TIMEOUT", default=1800)
# Files larger than this (MB) are left out of scans: scanners read files whole, and a sparse
# 10 GB file in a repository costs its author nothing. Symlinks are never scanned either.
SECULITE_SCAN_MAX_FILE_MB = env.int("SECULITE_SCAN_MAX_FILE_MB", default=50)
# A running tool beats every SECULITE_CANCEL_POLL_SECONDS; after SECULITE_HEARTBEAT_TIMEOUT
# without a beat the reaper runs it again, up to SECULITE_TOOL_MAX_ATTEMPTS times in all.
SECULITE_CANCEL_POLL_SECONDS = env.float("SECULITE_CANCEL_POLL_SECONDS", default=2.0)
SECULITE_HEARTBEAT_TIMEOUT = env.int("SECULITE_HEARTBEAT_TIMEOUT", default=60)
SECULITE_TOOL_MAX_ATTEMPTS = env.int("SECULITE_TOOL_MAX_ATTEMPTS", default=2)
# How often the reaper runs (beat), and how often each running tool's heartbeat reaps too (so
# that a dead worker's runs are taken over even while every worker slot is busy).
SECULITE_REAPER_SECONDS = env.float("SECULITE_REAPER_SECONDS", default=15.0)
# Queued work that nobody picked up while its queue is empty is sent again after this long.
SECULITE_REDISPATCH_SECONDS = env.int("SECULITE_REDISPATCH_SECONDS", default=120)

# --- Backups (manage.py backup / restore, docs/operations.md) -----------------------------------
# Archives go to SECULITE_BACKUP_DIR; after each backup only the newest SECULITE_BACKUP_KEEP are
# kept (0: all). pg_dump/pg_restore come from SECULITE_PG_BIN_DIR, else the installed client
# matching the server's major version, else PATH.
SECULITE_BACKUP_DIR = Path(env.str("SECULITE_BACKUP_DIR", default=str(VAR_DIR / "backups")))
SECULITE_BACKUP_KEEP = env.int("SECULITE_BACKUP_KEEP", default=7)
SECULITE_PG_BIN_DIR = env.str("SECULITE_PG_BIN_DIR", default="")

# --- E-mail ------------------------------------------------------------------------------------
# The default backend reads SMTP from the system settings row at send time, then the environment.
EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="apps.core.email.SystemSettingsEmailBackend"
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="SecuLite <seculite@localhost>")

# --- Outgoing webhooks (notifications) ---------------------------------------------------------
# Seconds to wait for a receiver; attempts in all; the first retry delay (doubled after each
# failure).
SECULITE_WEBHOOK_TIMEOUT = env.int("SECULITE_WEBHOOK_TIMEOUT", default=10)
SECULITE_WEBHOOK_MAX_ATTEMPTS = env.int("SECULITE_WEBHOOK_MAX_ATTEMPTS", default=6)
SECULITE_WEBHOOK_RETRY_SECONDS = env.int("SECULITE_WEBHOOK_RETRY_SECONDS", default=60)

# --- Logging and metrics ---------------------------------------------------------------------
# Every process logs to stdout: `json` (one object per line with request, user, scan and task
# ids; the production default) or `plain` (readable; the default of `make dev`).
LOG_LEVEL = env.str("DJANGO_LOG_LEVEL", default="INFO")
SECULITE_LOG_FORMAT = env.str("SECULITE_LOG_FORMAT", default="plain")
LOGGING = logging_config(log_format=SECULITE_LOG_FORMAT, level=LOG_LEVEL)
LOGGING_CONFIG = "apps.core.logs.configure"
# Who may read /api/v1/metrics/ without a staff user's key: addresses or networks (CIDR).
SECULITE_METRICS_ALLOWED_IPS = [
    str(ipaddress.ip_network(net.strip(), strict=False))
    for net in env.list("SECULITE_METRICS_ALLOWED_IPS", default=["127.0.0.1/32", "::1/128"])
    if net.strip()
]
