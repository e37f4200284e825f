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
