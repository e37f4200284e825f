"""Users, profiles, organizations and memberships, invitations, login tokens and the security
audit log. Everything a user owns lives in an organization."""

import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower

from apps.core.models import TimeStampedModel


class User(AbstractUser):
    """A person who signs in to SecuLite. E-mail is used for invitations and password resets."""

    email = models.EmailField("email address", blank=True, db_index=True)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"


def default_notification_preferences() -> dict:
    return {
        "email_scan_completed": True,
        "email_scan_failed": True,
        "email_new_findings": True,
        "email_new_findings_min_severity": "high",
        "email_finding_assigned": True,
    }


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not an IANA time zone name (e.g. Europe/Berlin).")


class UserProfile(TimeStampedModel):
    """Per-user preferences and the user's API key (only a prefix and a hash are stored)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    avatar_url = models.URLField(blank=True, max_length=500)
    notification_preferences = models.JSONField(default=default_notification_preferences)
    api_key_prefix = models.CharField(max_length=16, blank=True, db_index=True)
    api_key_hash = models.CharField(max_length=64, blank=True)
    api_key_created_at = models.DateTimeField(null=True, blank=True)
    api_key_last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"profile of {self.user}"


class LoginToken(models.Model):
    """A bearer token handed out by login/ for API clients; stored hashed, revoked by logout."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="login_tokens"
    )
    prefix = models.CharField(max_length=16, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"login token {self.prefix}… of {self.user_id}"


class Organization(TimeStampedModel):
    name = models.CharField(max_length=150, unique=True)
    is_active = models.BooleanField(default=True)
    is_personal = models.BooleanField(default=False)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="OrganizationMembership", related_name="organizations"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    AUDITOR = "auditor", "Auditor (read-only)"


class OrganizationMembership(TimeStampedModel):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="unique_membership"),
        ]
        indexes = [models.Index(fields=["user", "organization"])]
        ordering = ["organization_id", "user_id"]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} as {self.role}"


class Invitation(TimeStampedModel):
    """An invitation to join an organization, e-mailed with a single-use, expiring token."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(Lower("email"), name="invitation_email_lower")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invitation of {self.email} to {self.organization}"


class AuditEvent(models.Model):
    """Append-only record of a security event. Rows are never updated or deleted by the app."""

    class Type(models.TextChoices):
        LOGIN_SUCCEEDED = "login_succeeded"
        LOGIN_FAILED = "login_failed"
        LOGIN_LOCKED_OUT = "login_locked_out"
        LOGOUT = "logout"
        REGISTERED = "registered"
        API_KEY_CREATED = "api_key_created"
        API_KEY_ROTATED = "api_key_rotated"
        API_KEY_REVOKED = "api_key_revoked"
        PASSWORD_CHANGED = "password_changed"  # noqa: S105 - an event name
        PASSWORD_RESET_REQUESTED = "password_reset_requested"  # noqa: S105
        PASSWORD_RESET = "password_reset"  # noqa: S105
        ROLE_CHANGED = "role_changed"
        MEMBER_INVITED = "member_invited"
        MEMBER_ADDED = "member_added"
        MEMBER_REMOVED = "member_removed"
        MEMBER_LEFT = "member_left"
        USER_ACTIVATED = "user_activated"
        USER_DEACTIVATED = "user_deactivated"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    event_type = models.CharField(max_length=40, choices=Type.choices, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.event_type} {self.username}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only.")
