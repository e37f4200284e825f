"""Management commands used at start-up: wait_for_db, ensure_admin."""

import subprocess
import sys
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from tests.processes import BACKEND_DIR, base_env


@pytest.mark.django_db
def test_wait_for_db_succeeds_when_everything_answers(capsys):
    call_command("wait_for_db", "--timeout", "5")
    assert "Database and broker are available." in capsys.readouterr().out


def test_wait_for_db_fails_clearly_when_the_broker_is_down(tmp_path):
    env = base_env(
        DJANGO_SETTINGS_MODULE="seculite_api.settings.local",
        SECULITE_VAR_DIR=str(tmp_path),
        CELERY_BROKER_URL="redis://user:s3cret@127.0.0.1:1/0",
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "manage.py", "wait_for_db", "--timeout", "2", "--interval", "0.5"],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert time.monotonic() - started < 30
    assert "The broker at redis://***@127.0.0.1:1/0 did not answer" in result.stderr
    assert "s3cret" not in result.stderr + result.stdout


def test_wait_for_db_fails_clearly_when_the_database_is_down(tmp_path):
    env = base_env(
        DJANGO_SETTINGS_MODULE="seculite_api.settings.local",
        SECULITE_VAR_DIR=str(tmp_path),
        DB_ENGINE="postgresql",
        DB_HOST="127.0.0.1",
        DB_PORT="1",
        DB_NAME="nothing",
        DB_PASSWORD="pw-not-shown",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "wait_for_db", "--timeout", "1", "--interval", "0.3"],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "The database at 127.0.0.1:1/nothing did not answer" in result.stderr
    assert "pw-not-shown" not in result.stderr


@pytest.mark.django_db
def test_ensure_admin_generates_and_prints_a_password_once(capsys, monkeypatch):
    for name in (
        "DJANGO_SUPERUSER_USERNAME",
        "DJANGO_SUPERUSER_PASSWORD",
        "DJANGO_SUPERUSER_EMAIL",
    ):
        monkeypatch.delenv(name, raising=False)
    call_command("ensure_admin")
    out = capsys.readouterr().out
    password = out.split("password:")[1].split()[0]
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password(password)
    call_command("ensure_admin")
    again = capsys.readouterr().out
    assert "exists already" in again and "password" not in again
    assert get_user_model().objects.count() == 1


@pytest.mark.django_db
def test_ensure_admin_uses_the_environment(capsys, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "root-of-trust")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "sec@example.org")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "correct horse battery staple")
    call_command("ensure_admin")
    out = capsys.readouterr().out
    assert "correct horse" not in out
    user = get_user_model().objects.get(username="root-of-trust")
    assert user.email == "sec@example.org"
    assert user.check_password("correct horse battery staple")
