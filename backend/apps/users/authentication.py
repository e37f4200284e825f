"""Authentication: `Authorization: Token <key>` for API keys and login tokens (both stored as
SHA-256 hashes), the SPA's session cookie with CSRF, the same-site check of the public account
endpoints, and the client address used for lockout."""

import hashlib
import hmac

from django.conf import settings
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

API_KEY_PREFIX = "slk_"
LOGIN_TOKEN_PREFIX = "slt_"  # noqa: S105 - a prefix, not a secret


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def client_ip(request) -> str:
    """The caller's address. Behind nginx (DJANGO_BEHIND_PROXY) it is the X-Real-IP nginx sets;
    otherwise REMOTE_ADDR. X-Forwarded-For from the client is never trusted."""
    meta = getattr(request, "META", {})
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None) and meta.get("HTTP_X_REAL_IP"):
        return meta["HTTP_X_REAL_IP"].strip()
    return meta.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104 - placeholder, not a bind


class TokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token slk_...` (the user's API key) or `Token slt_...` (a login token)."""

    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: expected 'Token <key>'.")
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        if key.startswith(API_KEY_PREFIX):
            return self._api_key(key)
        if key.startswith(LOGIN_TOKEN_PREFIX):
            return self._login_token(key)
        raise exceptions.AuthenticationFailed("Invalid token.")

    def authenticate_header(self, request):
        return self.keyword

    @staticmethod
    def _api_key(key: str):
        from .models import UserProfile

        prefix = key[: len(API_KEY_PREFIX) + 8]
        digest = hash_secret(key)
        profile = (
            UserProfile.objects.select_related("user")
            .filter(api_key_prefix=prefix)
            .exclude(api_key_hash="")
            .first()
        )
        if profile is None or not hmac.compare_digest(profile.api_key_hash, digest):
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not profile.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        now = timezone.now()
        if (
            not profile.api_key_last_used_at
            or (now - profile.api_key_last_used_at).total_seconds() > 60
        ):
            UserProfile.objects.filter(pk=profile.pk).update(api_key_last_used_at=now)
        return profile.user, "api_key"

    @staticmethod
    def _login_token(key: str):
        from .models import LoginToken

        token = (
            LoginToken.objects.select_related("user")
            .filter(token_hash=hash_secret(key), expires_at__gt=timezone.now())
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return token.user, token


def origin_allowed(request) -> bool:
    """True unless a browser says the request comes from another site: no Origin header (an
    API client, or a browser's same-origin GET), this site's own origin, or an origin of
    CSRF_TRUSTED_ORIGINS (exact, or `https://*.example.org` for its subdomains)."""
    origin = request.META.get("HTTP_ORIGIN")
    if origin is None:
        return True
    scheme = "https" if request.is_secure() else "http"
    if origin == f"{scheme}://{request.get_host()}":
        return True
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        if origin == trusted:
            return True
        prefix, star, suffix = trusted.partition("://*.")
        if star and origin.startswith(f"{prefix}://") and origin.endswith(f".{suffix}"):
            return True
    return False


class SameSiteOnly(permissions.BasePermission):
    """Refuses cross-site requests to the public account endpoints (login CSRF: a foreign page
    must not log a visitor into an account of its choosing). They have no session to protect
    with a CSRF token; a browser's Origin header tells a foreign page apart."""

    message = "Cross-site requests are refused: the Origin header names another site."

    def has_permission(self, request, view):
        return origin_allowed(request)


class CsrfSessionAuthentication(authentication.SessionAuthentication):
    """The SPA's session cookie; every unsafe method requires the CSRF token (DRF's behaviour,
    named here so that nobody swaps in a CSRF-exempt variant)."""


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out login, in the API's error shape (429)."""
    from django.http import JsonResponse

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return JsonResponse(
        {
            "detail": f"Too many failed login attempts: this account and address are locked for "
            f"{minutes} minutes.",
            "errors": {},
            "error_code": "locked_out",
        },
        status=429,
        headers={"Retry-After": str(minutes * 60)},
    )
