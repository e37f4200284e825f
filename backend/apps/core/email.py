"""E-mail backend that reads SMTP settings from the SystemSettings row at send time, so that
staff can change them without a restart; with no SMTP host there it uses the environment."""

from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend


class SystemSettingsEmailBackend(EmailBackend):
    def __init__(self, *args, **kwargs):
        from .models import SystemSettings

        row = SystemSettings.objects.filter(pk=1).first()
        if row is not None and row.smtp_host:
            kwargs.update(
                host=row.smtp_host,
                port=row.smtp_port,
                username=row.smtp_user,
                password=row.smtp_password,
                use_tls=row.smtp_use_tls,
            )
            if row.smtp_use_tls:
                kwargs["use_ssl"] = False
        super().__init__(*args, **kwargs)
        self.default_from = (
            row.default_from_email if row is not None else ""
        ) or settings.DEFAULT_FROM_EMAIL

    def send_messages(self, email_messages):
        for message in email_messages or []:
            if not message.from_email or message.from_email == settings.DEFAULT_FROM_EMAIL:
                message.from_email = self.default_from
        return super().send_messages(email_messages)
