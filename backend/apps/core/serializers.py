from rest_framework import serializers

from .models import SystemSettings


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
            "sla_days_critical",
            "sla_days_high",
            "sla_days_medium",
            "sla_days_low",
            "sla_days_info",
            "retention_days_raw_output",
            "retention_days_closed_findings",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]

    def get_smtp_password_set(self, obj) -> bool:
        return bool(obj.smtp_password)
