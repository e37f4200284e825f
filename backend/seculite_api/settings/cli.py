"""`seculite scan` (the command-line scan): only what the scanner plugins and the runner read.

Deliberately does not import `base`: that module creates backend/var/ (the SQLite database and
the embedded broker's folders), and the CLI has no database, broker, apps or files of its own.
The scanner settings are read from the same environment variables as in `base`, with the same
defaults; keep the two in step.
"""

from pathlib import Path

import environ

env = environ.Env()

BACKEND_DIR = Path(__file__).resolve().parent.parent.parent
REPO_DIR = BACKEND_DIR.parent

# No models, no database: a plugin or the runner that touched either would fail loudly here.
INSTALLED_APPS: list[str] = []
DATABASES: dict = {}
USE_TZ = True
TIME_ZONE = "UTC"

# --- Scanners (as in base) ---------------------------------------------------------------------
SECULITE_TOOLS_DIR = Path(
    env.str("SECULITE_TOOLS_DIR", default=str(REPO_DIR / ".tools" / "scanners"))
)
SECULITE_PIP_AUDIT_OSV_URL = env.str(
    "SECULITE_PIP_AUDIT_OSV_URL", default="https://api.osv.dev/v1/query"
)
SECULITE_TOOL_TIMEOUT = env.int("SECULITE_TOOL_TIMEOUT", default=1800)
SECULITE_SCAN_MAX_FILE_MB = env.int("SECULITE_SCAN_MAX_FILE_MB", default=50)

# Warnings and errors of the runner go to stderr; stdout is the report.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "seculite: %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": env.str("DJANGO_LOG_LEVEL", default="WARNING")},
}
