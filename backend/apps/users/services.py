"""Account, organization and membership services: every write about users goes through here."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from apps.core.permissions import forget_roles

from .authentication import API_KEY_PREFIX, LOGIN_TOKEN_PREFIX, client_ip, hash_secret
from .models import (
    AuditEvent,
    Invitation,
    LoginToken,
    Organization,
    OrganizationMembership,
    Role,
    UserProfile,
)

User = get_user_model()


# --- Audit --------------------------------------------------------------------------------------
def audit_record(
    *,
    event_type: str,
    request=None,
    actor=None,
    target_user=None,
    organization=None,
    username: str = "",
    **details,
) -> AuditEvent:
    """Append one security event. Never put secrets in `details`."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    meta = getattr(request, "META", {}) if request is not None else {}
    return AuditEvent.objects.create(
        event_type=event_type,
        actor=actor,
        target_user=target_user,
        organization=organization,
        username=(
            username or getattr(target_user, "username", "") or getattr(actor, "username", "")
        )[:150],
        ip_address=(client_ip(request) or None) if request is not None else None,
        user_agent=meta.get("HTTP_USER_AGENT", "")[:300],
        details=details,
    )


# --- Users --------------------------------------------------------------------------------------
def _unique_org_name(base: str) -> str:
    name = base[:140]
    if not Organization.objects.filter(name=name).exists():
        return name
    return f"{name[:130]}-{secrets.token_hex(4)}"


@transaction.atomic
def user_register(*, username: str, email: str, password: str, request=None):
    """Create a user with a profile and a personal organization that the user owns."""
    errors = {}
    if User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["A user with that username already exists."]
    if email and User.objects.filter(email__iexact=email).exists():
        errors["email"] = ["A user with that e-mail address already exists."]
    candidate = User(username=username, email=email)
    try:
        password_validation.validate_password(password, candidate)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    try:
        user = User.objects.create_user(username=username, email=email, password=password)
    except IntegrityError:
        raise ValidationError({"username": ["A user with that username already exists."]}) from None
    UserProfile.objects.create(user=user)
    org = Organization.objects.create(
        name=_unique_org_name(f"{username}'s organization"), is_personal=True
    )
    OrganizationMembership.objects.create(organization=org, user=user, role=Role.OWNER)
    audit_record(
        event_type=AuditEvent.Type.REGISTERED,
        request=request,
        actor=user,
        target_user=user,
        organization=org,
    )
    return user


def profile_for(user) -> UserProfile:
    profile, _ = UserProfile.objects.get_or_create(user=user)
    return profile


def login_token_issue(*, user) -> str:
    """A new login token for an API client; only its hash is stored."""
    raw = LOGIN_TOKEN_PREFIX + secrets.token_urlsafe(32)
    LoginToken.objects.create(
        user=user,
        prefix=raw[:12],
        token_hash=hash_secret(raw),
        expires_at=timezone.now() + timedelta(days=settings.SECULITE_LOGIN_TOKEN_DAYS),
    )
    LoginToken.objects.filter(user=user, expires_at__lte=timezone.now()).delete()
    return raw


@transaction.atomic
def api_key_rotate(*, user, request=None) -> str:
    """Create or replace the user's API key and return it: the only time it is visible."""
    profile = UserProfile.objects.select_for_update().get(pk=profile_for(user).pk)
    rotated = bool(profile.api_key_hash)
    raw = API_KEY_PREFIX + secrets.token_hex(4) + "_" + secrets.token_urlsafe(32)
    profile.api_key_prefix = raw[: len(API_KEY_PREFIX) + 8]
    profile.api_key_hash = hash_secret(raw)
    profile.api_key_created_at = timezone.now()
    profile.api_key_last_used_at = None
    profile.save(
        update_fields=[
            "api_key_prefix",
            "api_key_hash",
            "api_key_created_at",
            "api_key_last_used_at",
            "updated_at",
        ]
    )
    audit_record(
        event_type=AuditEvent.Type.API_KEY_ROTATED if rotated else AuditEvent.Type.API_KEY_CREATED,
        request=request,
        actor=user,
        target_user=user,
        key_prefix=profile.api_key_prefix,
    )
    return raw


@transaction.atomic
def api_key_revoke(*, user, request=None) -> bool:
    profile = profile_for(user)
    if not profile.api_key_hash:
        return False
    prefix = profile.api_key_prefix
    UserProfile.objects.filter(pk=profile.pk).update(
        api_key_prefix="", api_key_hash="", api_key_created_at=None, api_key_last_used_at=None
    )
    audit_record(
        event_type=AuditEvent.Type.API_KEY_REVOKED,
        request=request,
        actor=user,
        target_user=user,
        key_prefix=prefix,
    )
    return True


def password_change(*, user, old_password: str, new_password: str, request=None) -> None:
    if not user.check_password(old_password):
        raise ValidationError({"old_password": ["The current password is not correct."]})
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": list(exc.messages)}) from None
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        # Other clients' login tokens stop working with the old password.
        LoginToken.objects.filter(user=user).delete()
        audit_record(
            event_type=AuditEvent.Type.PASSWORD_CHANGED,
            request=request,
            actor=user,
            target_user=user,
        )


def password_reset_request(*, email: str, request=None) -> None:
    """E-mail a signed, expiring reset link to every active user with this address. Says nothing
    about whether one exists: the caller answers the same either way."""
    from .tasks import send_password_reset_email

    users = list(User.objects.filter(email__iexact=email.strip(), is_active=True))
    for user in users:
        if not user.has_usable_password():
            continue
        audit_record(
            event_type=AuditEvent.Type.PASSWORD_RESET_REQUESTED, request=request, target_user=user
        )
        # The worker makes the link: a token in the task's arguments would sit in the broker and
        # show in Flower and the worker's log.
        transaction.on_commit(lambda u=user: send_password_reset_email.delay(user_id=u.pk))


def password_reset_send(*, user_id: int) -> None:
    from django.core.mail import send_mail

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email or not user.has_usable_password():
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = f"{settings.SECULITE_PUBLIC_URL}/reset-password/{uid}/{token}"
    minutes = settings.PASSWORD_RESET_TIMEOUT // 60
    send_mail(
        subject="Reset your SecuLite password",
        message=(
            f"Hello {user.username},\n\nSomeone asked to reset the password of your SecuLite "
            f"account. Follow this link within {minutes} minutes to choose a new password:\n\n"
            f"{link}\n\nIf it was not you, ignore this message: your password stays as it is.\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )


def password_reset_confirm(*, uid: str, token: str, new_password: str, request=None) -> None:
    from django.utils.http import urlsafe_base64_decode

    invalid = ValidationError({"token": ["The reset link is invalid or has expired."]})
    try:
        user = User.objects.get(pk=int(urlsafe_base64_decode(uid).decode()), is_active=True)
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError, User.DoesNotExist):
        raise invalid from None
    if not default_token_generator.check_token(user, token):
        raise invalid
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": list(exc.messages)}) from None
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        LoginToken.objects.filter(user=user).delete()
        audit_record(event_type=AuditEvent.Type.PASSWORD_RESET, request=request, target_user=user)


# --- Organizations and members --------------------------------------------------------------------
@transaction.atomic
def organization_create(*, user, name: str) -> Organization:
    if Organization.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": ["An organization with this name already exists."]})
    org = Organization.objects.create(name=name)
    OrganizationMembership.objects.create(organization=org, user=user, role=Role.OWNER)
    forget_roles(user)
    audit_record(
        event_type=AuditEvent.Type.MEMBER_ADDED,
        actor=user,
        target_user=user,
        organization=org,
        role=Role.OWNER,
    )
    return org


def organization_update(*, organization: Organization, name: str | None = None) -> Organization:
    if name is not None and name != organization.name:
        if Organization.objects.filter(name__iexact=name).exclude(pk=organization.pk).exists():
            raise ValidationError({"name": ["An organization with this name already exists."]})
        organization.name = name
        organization.save(update_fields=["name", "updated_at"])
    return organization


def _owner_count(organization_id: int) -> int:
    return OrganizationMembership.objects.filter(
        organization_id=organization_id, role=Role.OWNER
    ).count()


@transaction.atomic
def membership_change_role(
    *, membership: OrganizationMembership, role: str, actor, actor_role: str, request=None
) -> OrganizationMembership:
    membership = OrganizationMembership.objects.select_for_update().get(pk=membership.pk)
    old = membership.role
    if role == old:
        return membership
    if Role.OWNER in (role, old) and actor_role != Role.OWNER:
        raise ValidationError({"role": ["Only an owner can grant or take away the owner role."]})
    if old == Role.OWNER and _owner_count(membership.organization_id) <= 1:
        raise ValidationError(
            {"role": ["The last owner cannot be demoted: make someone else owner first."]}
        )
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    forget_roles(membership.user)
    forget_roles(actor)
    audit_record(
        event_type=AuditEvent.Type.ROLE_CHANGED,
        request=request,
        actor=actor,
        target_user=membership.user,
        organization=membership.organization,
        old_role=old,
        new_role=role,
    )
    return membership


@transaction.atomic
def membership_remove(
    *, membership: OrganizationMembership, actor, actor_role: str, request=None
) -> None:
    membership = OrganizationMembership.objects.select_for_update().get(pk=membership.pk)
    leaving = membership.user_id == actor.pk
    if membership.role == Role.OWNER:
        if not leaving and actor_role != Role.OWNER:
            raise ValidationError({"detail": ["Only an owner can remove another owner."]})
        if _owner_count(membership.organization_id) <= 1:
            raise ValidationError(
                {
                    "detail": [
                        "The last owner cannot leave or be removed: make someone else owner first."
                    ]
                }
            )
    membership.delete()
    forget_roles(membership.user)
    forget_roles(actor)
    audit_record(
        event_type=AuditEvent.Type.MEMBER_LEFT if leaving else AuditEvent.Type.MEMBER_REMOVED,
        request=request,
        actor=actor,
        target_user=membership.user,
        organization=membership.organization,
        role=membership.role,
    )


@transaction.atomic
def invitation_create(
    *, organization: Organization, email: str, role: str, actor, actor_role: str, request=None
) -> tuple[Invitation, str]:
    """Invite `email` with `role`; e-mails a single-use link. Returns the invitation and token."""
    from .tasks import send_invitation_email

    if role == Role.OWNER and actor_role != Role.OWNER:
        raise ValidationError({"role": ["Only an owner can invite another owner."]})
    if OrganizationMembership.objects.filter(
        organization=organization, user__email__iexact=email
    ).exists():
        raise ValidationError({"email": ["This person is already a member."]})
    raw = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        token_hash=hash_secret(raw),
        invited_by=actor,
        expires_at=timezone.now() + timedelta(days=settings.SECULITE_INVITATION_DAYS),
    )
    audit_record(
        event_type=AuditEvent.Type.MEMBER_INVITED,
        request=request,
        actor=actor,
        organization=organization,
        email=email,
        role=role,
    )
    # The raw token exists only here and in the e-mail (the row keeps its hash), so it travels
    # in the task's arguments; kwargsrepr keeps it out of Flower and the worker's log.
    transaction.on_commit(
        lambda: send_invitation_email.apply_async(
            kwargs={"invitation_id": invitation.pk, "token": raw},
            kwargsrepr=repr({"invitation_id": invitation.pk, "token": "********"}),
        )
    )
    return invitation, raw


def invitation_send(*, invitation_id: int, token: str) -> None:
    from django.core.mail import send_mail

    invitation = (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(pk=invitation_id, accepted_at__isnull=True)
        .first()
    )
    if invitation is None:
        return
    inviter = invitation.invited_by.username if invitation.invited_by else "A SecuLite user"
    link = f"{settings.SECULITE_PUBLIC_URL}/invitations/accept?token={token}"
    send_mail(
        subject=f"You are invited to {invitation.organization.name} on SecuLite",
        message=(
            f"{inviter} invited you to join {invitation.organization.name} on SecuLite as "
            f"{invitation.get_role_display()}.\n\nAccept within "
            f"{settings.SECULITE_INVITATION_DAYS} days by signing in (or registering with this "
            f"address) and following this link:\n\n{link}\n"
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )


@transaction.atomic
def invitation_accept(*, token: str, user, request=None) -> OrganizationMembership:
    invalid = ValidationError({"token": ["The invitation is invalid, used or expired."]})
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("organization")
        .filter(
            token_hash=hash_secret(token or ""),
            accepted_at__isnull=True,
            expires_at__gt=timezone.now(),
            organization__is_active=True,
        )
        .first()
    )
    if invitation is None:
        raise invalid
    if (user.email or "").lower() != invitation.email.lower():
        raise ValidationError({"token": ["This invitation was sent to another e-mail address."]})
    membership, created = OrganizationMembership.objects.get_or_create(
        organization=invitation.organization, user=user, defaults={"role": invitation.role}
    )
    Invitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now(), accepted_by=user)
    forget_roles(user)
    if created:
        audit_record(
            event_type=AuditEvent.Type.MEMBER_ADDED,
            request=request,
            actor=user,
            target_user=user,
            organization=invitation.organization,
            role=invitation.role,
            via="invitation",
        )
    return membership


def user_set_active(*, user, active: bool, actor, request=None) -> None:
    if user.is_active == active:
        return
    User.objects.filter(pk=user.pk).update(is_active=active)
    if not active:
        LoginToken.objects.filter(user=user).delete()
    audit_record(
        event_type=AuditEvent.Type.USER_ACTIVATED if active else AuditEvent.Type.USER_DEACTIVATED,
        request=request,
        actor=actor,
        target_user=user,
    )
