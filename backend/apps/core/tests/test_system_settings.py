"""System settings: staff-only API, write-only SMTP password, e-mail backend reads it at send."""

import pytest
from django.core import mail

from apps.core.email import SystemSettingsEmailBackend
from apps.core.models import SystemSettings

pytestmark = pytest.mark.django_db


def test_staff_edit_settings_and_the_password_never_comes_back(api_client, world):
    api_client.force_authenticate(world.users["staff"])
    response = api_client.patch(
        "/api/v1/system-settings/",
        {
            "smtp_host": "smtp.example.org",
            "smtp_port": 2525,
            "smtp_user": "mailer",
            "smtp_password": "s3cret-smtp",
            "default_from_email": "SecuLite <sec@example.org>",
        },
        format="json",
    )
    assert response.status_code == 200
    assert "smtp_password" not in response.json()
    assert response.json()["smtp_password_set"] is True
    assert b"s3cret-smtp" not in api_client.get("/api/v1/system-settings/").content
    assert SystemSettings.load().smtp_password == "s3cret-smtp"
    assert SystemSettings.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sla_days_critical", 2_147_483_647),  # a finding PATCH then answered 500
        ("sla_days_high", 3_000_000),  # due dates past year 9999 broke the findings list
        ("retention_days_closed_findings", 1_000_000),  # the daily purge died
        ("retention_days_raw_output", 2_147_483_647),
        ("smtp_port", 0),
        ("smtp_port", 65536),
        ("smtp_host", "mail.example.org\r\nBcc: x@y"),
        ("default_from_email", "not an email"),
        ("default_from_email", "a@example.org\r\nBcc: x@y"),
    ],
)
def test_settings_out_of_range_are_field_errors(api_client, world, field, value):
    api_client.force_authenticate(world.users["staff"])
    before = SystemSettings.load()
    response = api_client.patch("/api/v1/system-settings/", {field: value}, format="json")
    assert response.status_code == 400, (field, value)
    assert field in response.json()["errors"]
    assert getattr(SystemSettings.load(), field) == getattr(before, field)


def test_settings_at_their_bounds_are_taken(api_client, world):
    api_client.force_authenticate(world.users["staff"])
    response = api_client.patch(
        "/api/v1/system-settings/",
        {
            "sla_days_low": 36_500,
            "retention_days_raw_output": 0,
            "smtp_port": 65535,
            "default_from_email": "SecuLite <sec@example.org>",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()


def test_non_staff_are_refused(api_client, world):
    api_client.force_authenticate(world.users["owner"])
    assert api_client.get("/api/v1/system-settings/").status_code == 403


def test_email_backend_reads_the_row_at_send_time(settings, monkeypatch):
    settings.EMAIL_HOST = "env-host.example.org"
    backend = SystemSettingsEmailBackend()
    assert backend.host == "env-host.example.org"

    row = SystemSettings.load()
    row.smtp_host, row.smtp_port, row.smtp_user = "db-host.example.org", 2525, "mailer"
    row.smtp_password, row.default_from_email = "pw", "Team <team@example.org>"
    row.save()
    backend = SystemSettingsEmailBackend()
    assert (backend.host, backend.port, backend.username, backend.password) == (
        "db-host.example.org",
        2525,
        "mailer",
        "pw",
    )

    sent = []
    monkeypatch.setattr(
        "django.core.mail.backends.smtp.EmailBackend.send_messages",
        lambda self, messages: sent.extend(messages) or len(messages),
    )
    message = mail.EmailMessage("subject", "body", to=["x@example.org"], connection=backend)
    assert message.send() == 1
    assert sent[0].from_email == "Team <team@example.org>"


def test_singleton_cannot_be_deleted():
    row = SystemSettings.load()
    with pytest.raises(ValueError):
        row.delete()
