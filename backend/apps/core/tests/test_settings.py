"""Configuration from the environment: database choice, production guards, `check --deploy`."""

import subprocess
import sys

import pytest

from tests.processes import BACKEND_DIR, base_env

PROD_ENV = {
    "DJANGO_SETTINGS_MODULE": "seculite_api.settings.production",
    "DJANGO_SECRET_KEY": "x7Kq!v2Lm9#pR4tZ8wB1nC6yD3eF5gH0jJ2kL4mN6pQ8rS0tU2vW4xY6zA8bC0dE",
    "DJANGO_ALLOWED_HOSTS": "seculite.example.org",
}


def run_django(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=BACKEND_DIR,
        env=base_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_secret_key(tmp_path):
    env = {**PROD_ENV, "DJANGO_SECRET_KEY": "", "SECULITE_VAR_DIR": str(tmp_path)}
    result = run_django("", env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_with_debug(tmp_path):
    result = run_django("", {**PROD_ENV, "DJANGO_DEBUG": "true", "SECULITE_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be off in production" in result.stderr


def test_check_deploy_is_clean_in_production(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BACKEND_DIR,
        env=base_env(**PROD_ENV, SECULITE_VAR_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_no_db_variables_means_embedded_sqlite_in_wal_mode(tmp_path):
    code = (
        "from django.conf import settings; from django.db import connection;"
        "c = connection.cursor(); c.execute('PRAGMA journal_mode'); j = c.fetchone()[0];"
        "c.execute('PRAGMA busy_timeout'); b = c.fetchone()[0];"
        "print(settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['NAME'],"
        " j, b, settings.CELERY_BROKER_URL)"
    )
    result = run_django(
        code,
        {
            "DJANGO_SETTINGS_MODULE": "seculite_api.settings.local",
            "SECULITE_VAR_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 0, result.stderr
    engine, name, journal, busy, broker = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert name == str(tmp_path / "seculite.sqlite3")
    assert journal == "wal"
    assert int(busy) >= 5000
    assert broker == "filesystem://"
    assert (tmp_path / "broker" / "queue").is_dir()


def test_db_variables_select_postgresql_with_persistent_connections(tmp_path):
    code = (
        "from django.conf import settings; d = settings.DATABASES['default'];"
        "print(d['ENGINE'], d['NAME'], d['HOST'], d['PORT'], d['CONN_MAX_AGE'],"
        " d['CONN_HEALTH_CHECKS'], settings.CELERY_BROKER_URL)"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "seculite_api.settings.local",
        "SECULITE_VAR_DIR": str(tmp_path),
        "DB_ENGINE": "postgresql",
        "DB_NAME": "scans",
        "DB_HOST": "db.internal",
        "DB_PORT": "6543",
        "CELERY_BROKER_URL": "redis://redis:6379/0",
    }
    result = run_django(code, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "scans",
        "db.internal",
        "6543",
        "60",
        "True",
        "redis://redis:6379/0",
    ]


def test_unsupported_db_engine_is_a_clear_error(tmp_path):
    result = run_django(
        "",
        {
            "DJANGO_SETTINGS_MODULE": "seculite_api.settings.local",
            "SECULITE_VAR_DIR": str(tmp_path),
            "DB_ENGINE": "mysql",
        },
    )
    assert result.returncode != 0
    assert "DB_ENGINE='mysql' is not supported" in result.stderr


@pytest.mark.django_db
def test_every_model_change_has_a_migration():
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
    except SystemExit as exc:  # --check exits 1 when a migration is missing
        pytest.fail(f"missing migrations:\n{out.getvalue()} ({exc})")
