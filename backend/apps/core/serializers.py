from email.utils import parseaddr

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from rest_framework import serializers

from .models import SystemSettings

#: Days of an SLA or a retention period: a hundred years at most. More overflowed Python's dates
#: where due dates and purge cut-offs are computed (a finding PATCH answered 500, the purge died).
MAX_DAYS = 36_500
_DAY_FIELDS = [
    "sla_days_critical",
    "sla_days_high",
    "sla_days_medium",
    "sla_days_low",
    "sla_days_info",
    "retention_days_raw_output",
    "retention_days_closed_findings",
]


class SystemSettingsSerializer(serializers.ModelSerializer):
    """The SMTP password is write-only: it is never sent back, only whether one is set.
    SLA days (per severity, 0 = no due date) apply whenever a due date is computed: for a new
    finding, and when a finding's severity changes; existing due dates are not moved.
    Retention days (0 = keep) are enforced by the daily retention task."""

    smtp_password = serializers.CharField(
        write_only=True, required=False, allow_blank=True, trim_whitespace=False, max_length=255
    )
    smtp_password_set = serializers.SerializerMethodField()

    class Meta:
        model = SystemSettings
        fields = [
            "smtp_host",
            "smtp_port",
            "smtp_user",
            "smtp_password",
            "smtp_password_set",
            "smtp_use_tls",
            "default_from_email",
            *_DAY_FIELDS,
            "updated_at",
        ]
        read_only_fields = ["updated_at"]
        extra_kwargs = {
            "smtp_port": {"min_value": 1, "max_value": 65535},
            **{name: {"max_value": MAX_DAYS} for name in _DAY_FIELDS},
        }

    def get_smtp_password_set(self, obj) -> bool:
        return bool(obj.smtp_password)

    def validate_smtp_host(self, value: str) -> str:
        value = value.strip()
        if any(c.isspace() or not c.isprintable() for c in value):
            raise serializers.ValidationError("A host name has no spaces or control characters.")
        return value

    def validate_default_from_email(self, value: str) -> str:
        """An address, or "Name <address>", on one line (it becomes the From: header)."""
        value = value.strip()
        if not value:
            return value
        if any(not c.isprintable() for c in value):
            raise serializers.ValidationError("Use one line without control characters.")
        try:
            validate_email(parseaddr(value)[1])
        except DjangoValidationError:
            raise serializers.ValidationError(
                'Use an e-mail address, or "Name <address>".'
            ) from None
        return value
