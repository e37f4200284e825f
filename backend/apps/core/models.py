"""Abstract base models shared by every app, and the platform's own heartbeat rows."""

from django.db import models


class TimeStampedModel(models.Model):
    """Every SecuLite model records when it was created and last changed."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Heartbeat(models.Model):
    """The last time a platform process (beat, a worker) proved it was alive."""

    name = models.CharField(max_length=100, unique=True)
    last_seen = models.DateTimeField()
    detail = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_seen.isoformat()}"


class SystemSettings(TimeStampedModel):
    """The platform's one row of settings that staff change at run time (admin and API)."""

    smtp_host = models.CharField(max_length=255, blank=True)
    smtp_port = models.PositiveIntegerField(default=587)
    smtp_user = models.CharField(max_length=255, blank=True)
    smtp_password = models.CharField(max_length=255, blank=True)
    smtp_use_tls = models.BooleanField(default=True)
    default_from_email = models.CharField(max_length=255, blank=True)
    # SLA: days to fix a finding, by severity (from its first sighting); 0 = no due date.
    sla_days_critical = models.PositiveIntegerField(default=7)
    sla_days_high = models.PositiveIntegerField(default=30)
    sla_days_medium = models.PositiveIntegerField(default=90)
    sla_days_low = models.PositiveIntegerField(default=120)
    sla_days_info = models.PositiveIntegerField(default=0)
    # Retention: raw scanner output and closed findings older than this are purged (0 = keep).
    retention_days_raw_output = models.PositiveIntegerField(default=90)
    retention_days_closed_findings = models.PositiveIntegerField(default=365)

    class Meta:
        verbose_name = verbose_name_plural = "system settings"

    def __str__(self) -> str:
        return "System settings"

    def save(self, *args, **kwargs):
        self.pk = 1  # a singleton: there is only ever row 1
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("The system settings row cannot be deleted.")

    @classmethod
    def load(cls) -> "SystemSettings":
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj
