"""Authentication API: registration, login (session + token), logout, lockout, throttling, API
keys, password change and reset, CSRF on session writes."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from apps.users.models import AuditEvent, LoginToken, Organization, UserProfile
from apps.users.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def register(client, username="alice", email="alice@example.org", password=PASSWORD, confirm=None):
    return client.post(
        "/api/v1/auth/registration/",
        {
            "username": username,
            "email": email,
            "password": password,
            "password_confirm": password if confirm is None else confirm,
        },
        format="json",
    )


def test_registration_creates_user_profile_and_personal_organization(api_client):
    response = register(api_client)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["username"] == "alice" and "password" not in body
    user = User.objects.get(username="alice")
    assert user.check_password(PASSWORD)
    assert UserProfile.objects.get(user=user).timezone == "UTC"
    org = Organization.objects.get(memberships__user=user)
    assert org.is_personal is True
    assert org.memberships.get().role == "owner"
    assert AuditEvent.objects.filter(event_type="registered", target_user=user).exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"password": "password"}, "password"),  # common
        ({"password": "12345678901"}, "password"),  # numeric
        ({"password": "alice-example"}, "password"),  # similar to the username / e-mail
        ({"confirm": "Other-Passw0rd!"}, "password_confirm"),
        ({"email": "not-an-address"}, "email"),
        ({"username": "bad name!"}, "username"),
    ],
)
def test_registration_validation(api_client, kwargs, field):
    response = register(api_client, **kwargs)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not User.objects.filter(username="alice").exists()


def test_registration_refuses_duplicates_case_insensitively(api_client):
    assert register(api_client).status_code == 201
    response = register(api_client, username="ALICE", email="ALICE@example.org")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"username", "email"}


def test_login_answers_a_token_and_sets_the_session_cookie(api_client):
    UserFactory(username="bob")
    response = api_client.post(
        "/api/v1/auth/login/", {"username": "bob", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert token.startswith("slt_")
    assert "sessionid" in response.cookies
    assert response.cookies["sessionid"]["httponly"]
    # The token works alone, without the cookie; it is stored only as a hash.
    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert fresh.get("/api/v1/auth/user/").json()["username"] == "bob"
    assert not LoginToken.objects.filter(token_hash=token).exists()
    assert LoginToken.objects.filter(user__username="bob").count() == 1


def test_wrong_password_is_a_clear_error_and_audited(api_client):
    UserFactory(username="bob")
    response = api_client.post(
        "/api/v1/auth/login/", {"username": "bob", "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "Invalid username or password."
    assert AuditEvent.objects.filter(event_type="login_failed", username="bob").count() == 1


def test_logout_revokes_the_token_and_the_session(api_client):
    UserFactory(username="bob")
    token = api_client.post(
        "/api/v1/auth/login/", {"username": "bob", "password": PASSWORD}, format="json"
    ).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert client.get("/api/v1/auth/user/").status_code == 401
    assert LoginToken.objects.count() == 0


def test_repeated_failures_lock_the_account_then_the_address(api_client, settings):
    UserFactory(username="victim")
    UserFactory(username="other")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        r = api_client.post(
            "/api/v1/auth/login/", {"username": "victim", "password": "x"}, format="json"
        )
        assert r.status_code == 400
    locked = api_client.post(
        "/api/v1/auth/login/", {"username": "victim", "password": "x"}, format="json"
    )
    assert locked.status_code == 429
    assert locked.json()["error_code"] == "locked_out"
    assert "locked for 15 minutes" in locked.json()["detail"]
    # Locked: even the right password is refused, from anywhere.
    elsewhere = APIClient(REMOTE_ADDR="203.0.113.9")
    right = elsewhere.post(
        "/api/v1/auth/login/", {"username": "victim", "password": PASSWORD}, format="json"
    )
    assert right.status_code == 429
    # The address is locked too, for other accounts.
    other = api_client.post(
        "/api/v1/auth/login/", {"username": "other", "password": PASSWORD}, format="json"
    )
    assert other.status_code == 429
    assert AuditEvent.objects.filter(event_type="login_locked_out").exists()


def test_login_is_throttled(api_client, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(
        ScopedRateThrottle,
        "THROTTLE_RATES",
        {**ScopedRateThrottle.THROTTLE_RATES, "login": "3/min"},
    )
    UserFactory(username="bob")
    codes = [
        api_client.post(
            "/api/v1/auth/login/", {"username": "bob", "password": PASSWORD}, format="json"
        ).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]


def test_registration_and_reset_are_throttled(api_client, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(
        ScopedRateThrottle,
        "THROTTLE_RATES",
        {**ScopedRateThrottle.THROTTLE_RATES, "registration": "1/hour", "password_reset": "1/hour"},
    )
    assert register(api_client, username="a1", email="a1@example.org").status_code == 201
    second = register(api_client, username="a2", email="a2@example.org")
    assert second.status_code == 429 and second.json()["error_code"] == "throttled"
    reset = "/api/v1/auth/password/reset/"
    assert api_client.post(reset, {"email": "x@example.org"}, format="json").status_code == 200
    assert api_client.post(reset, {"email": "x@example.org"}, format="json").status_code == 429


def test_api_key_shown_once_stored_hashed_and_revoked_at_once(api_client):
    user = UserFactory(username="bob")
    api_client.force_authenticate(user)
    assert api_client.get("/api/v1/auth/userprofile/api-key/").json()["prefix"] is None
    created = api_client.post("/api/v1/auth/userprofile/api-key/")
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("slk_") and len(key) > 40
    assert created["Cache-Control"] == "no-store"
    info = api_client.get("/api/v1/auth/userprofile/api-key/").json()
    assert info["prefix"] == key[:12] and key not in str(info)
    profile = UserProfile.objects.get(user=user)
    assert key not in (profile.api_key_hash, profile.api_key_prefix)
    assert len(profile.api_key_hash) == 64

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/auth/user/").status_code == 200
    # Rotation: the old key stops working immediately.
    new_key = api_client.post("/api/v1/auth/userprofile/api-key/").json()["key"]
    assert new_key != key
    assert client.get("/api/v1/auth/user/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {new_key}")
    assert client.get("/api/v1/auth/user/").status_code == 200
    assert api_client.delete("/api/v1/auth/userprofile/api-key/").status_code == 204
    assert client.get("/api/v1/auth/user/").status_code == 401
    assert api_client.delete("/api/v1/auth/userprofile/api-key/").status_code == 404
    events = list(AuditEvent.objects.filter(target_user=user).values_list("event_type", flat=True))
    assert {"api_key_created", "api_key_rotated", "api_key_revoked"} <= set(events)
    assert all(key not in str(e.details) for e in AuditEvent.objects.all())


@pytest.mark.parametrize("header", ["Token", "Token a b", "Token slk_nope", "Token garbage"])
def test_bad_token_headers_are_401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/auth/user/")
    assert response.status_code == 401
    assert set(response.json()) == {"detail", "errors", "error_code"}


def test_api_key_last_use_is_recorded_at_most_once_a_minute(api_client):
    from datetime import timedelta

    from django.utils import timezone

    user = UserFactory(username="bob")
    api_client.force_authenticate(user)
    key = api_client.post("/api/v1/auth/userprofile/api-key/").json()["key"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    profiles = UserProfile.objects.filter(user=user)
    for ago, refreshed in (
        (timedelta(seconds=30), False),
        (timedelta(minutes=2), True),
        # A day and 30 seconds: its `seconds` part alone is 30 (the bug this guards against).
        (timedelta(days=1, seconds=30), True),
    ):
        before = timezone.now() - ago
        profiles.update(api_key_last_used_at=before)
        assert client.get("/api/v1/auth/user/").status_code == 200
        assert (profiles.get().api_key_last_used_at != before) is refreshed, ago


def test_inactive_users_keys_stop_working(api_client):
    user = UserFactory(username="bob")
    api_client.force_authenticate(user)
    key = api_client.post("/api/v1/auth/userprofile/api-key/").json()["key"]
    User.objects.filter(pk=user.pk).update(is_active=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/auth/user/").status_code == 401


def _reset_link(message) -> tuple[str, str]:
    match = re.search(r"/reset-password/([^/\s]+)/([^/\s]+)", message.body)
    assert match, message.body
    return match.group(1), match.group(2)


def test_password_reset_does_not_reveal_which_addresses_exist(
    api_client, django_capture_on_commit_callbacks
):
    UserFactory(username="bob", email="bob@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        known = api_client.post(
            "/api/v1/auth/password/reset/", {"email": "BOB@example.org"}, format="json"
        )
        unknown = api_client.post(
            "/api/v1/auth/password/reset/", {"email": "nobody@example.org"}, format="json"
        )
    assert known.status_code == unknown.status_code == 200
    assert known.json() == unknown.json()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["bob@example.org"]


def test_password_reset_confirm_sets_the_password_once(
    api_client, django_capture_on_commit_callbacks
):
    user = UserFactory(username="bob", email="bob@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post("/api/v1/auth/password/reset/", {"email": "bob@example.org"}, format="json")
    uid, token = _reset_link(mail.outbox[0])
    new = "Another-Str0ng-Secret"
    payload = {"uid": uid, "token": token, "new_password": new, "new_password_confirm": new}
    weak = {**payload, "new_password": "123", "new_password_confirm": "123"}
    assert (
        api_client.post("/api/v1/auth/password/reset/confirm/", weak, format="json").status_code
        == 400
    )
    assert (
        api_client.post("/api/v1/auth/password/reset/confirm/", payload, format="json").status_code
        == 204
    )
    user.refresh_from_db()
    assert user.check_password(new)
    again = api_client.post("/api/v1/auth/password/reset/confirm/", payload, format="json")
    assert again.status_code == 400 and "token" in again.json()["errors"]
    assert AuditEvent.objects.filter(event_type="password_reset", target_user=user).exists()


def test_password_reset_queues_no_token(
    api_client, django_capture_on_commit_callbacks, monkeypatch
):
    """The worker makes the link: nothing secret sits in the broker, Flower or the worker log."""
    from apps.users.tasks import send_password_reset_email

    queued = []
    task = send_password_reset_email._get_current_object()
    original = task.apply_async

    def spy(args=None, kwargs=None, **options):
        queued.append(kwargs)
        return original(args, kwargs, **options)

    monkeypatch.setattr(task, "apply_async", spy)
    user = UserFactory(username="bob", email="bob@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post("/api/v1/auth/password/reset/", {"email": "bob@example.org"}, format="json")
    assert queued == [{"user_id": user.pk}]
    uid, token = _reset_link(mail.outbox[0])
    new = "Another-Str0ng-Secret"
    payload = {"uid": uid, "token": token, "new_password": new, "new_password_confirm": new}
    response = api_client.post("/api/v1/auth/password/reset/confirm/", payload, format="json")
    assert response.status_code == 204


def test_password_reset_with_a_forged_token(api_client):
    UserFactory(username="bob")
    response = api_client.post(
        "/api/v1/auth/password/reset/confirm/",
        {
            "uid": "MQ",
            "token": "abc-123",
            "new_password": "Another-Str0ng-Secret",
            "new_password_confirm": "Another-Str0ng-Secret",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["token"] == ["The reset link is invalid or has expired."]


def test_password_change(api_client):
    user = UserFactory(username="bob")
    api_client.force_authenticate(user)
    url = "/api/v1/auth/password/change/"
    wrong = api_client.post(
        url,
        {
            "old_password": "x",
            "new_password": "N3w-Secret-Phrase",
            "new_password_confirm": "N3w-Secret-Phrase",
        },
        format="json",
    )
    assert wrong.status_code == 400 and "old_password" in wrong.json()["errors"]
    ok = api_client.post(
        url,
        {
            "old_password": PASSWORD,
            "new_password": "N3w-Secret-Phrase",
            "new_password_confirm": "N3w-Secret-Phrase",
        },
        format="json",
    )
    assert ok.status_code == 204
    user.refresh_from_db()
    assert user.check_password("N3w-Secret-Phrase")
    assert AuditEvent.objects.filter(event_type="password_changed").count() == 1


def test_session_writes_require_csrf():
    assert register(APIClient(), username="bob", email="bob@example.org").status_code == 201
    browser = Client(enforce_csrf_checks=True)
    csrf = browser.get("/api/v1/auth/csrf/")
    assert csrf.status_code == 204
    before = browser.cookies["csrftoken"].value
    login = browser.post(
        "/api/v1/auth/login/",
        {"username": "bob", "password": PASSWORD},
        content_type="application/json",
    )
    assert login.status_code == 200
    token = browser.cookies["csrftoken"].value  # login rotates the CSRF token
    assert token != before
    body = {"name": "From the browser"}
    refused = browser.post("/api/v1/projects/", body, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    accepted = browser.post(
        "/api/v1/projects/", body, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert accepted.status_code == 201, accepted.json()
    # Reads need no token.
    assert browser.get("/api/v1/projects/").status_code == 200


def test_public_account_endpoints_refuse_cross_site_requests(api_client):
    """Login CSRF: a foreign page posting a login (or a registration, or a reset) is refused;
    API clients (no Origin) and this site's own pages are not."""
    UserFactory(username="bob", email="bob@example.org")
    evil = {"HTTP_ORIGIN": "https://evil.example"}
    login = {"username": "bob", "password": PASSWORD}
    refused = api_client.post("/api/v1/auth/login/", login, format="json", **evil)
    assert refused.status_code == 403
    assert refused.json()["error_code"] == "permission_denied"
    assert "sessionid" not in refused.cookies and "token" not in refused.json()
    assert not LoginToken.objects.exists()
    assert register(api_client, username="carol", email="carol@example.org").status_code == 201
    forged = APIClient()
    forged.credentials(**evil)
    assert register(forged, username="dave", email="dave@example.org").status_code == 403
    assert not User.objects.filter(username="dave").exists()
    reset = forged.post("/api/v1/auth/password/reset/", {"email": "bob@example.org"})
    assert reset.status_code == 403 and not mail.outbox
    null = APIClient().post("/api/v1/auth/login/", login, format="json", HTTP_ORIGIN="null")
    assert null.status_code == 403
    for origin in (None, "http://testserver"):
        extra = {"HTTP_ORIGIN": origin} if origin else {}
        answer = APIClient().post("/api/v1/auth/login/", login, format="json", **extra)
        assert answer.status_code == 200, (origin, answer.json())


def test_public_account_endpoints_accept_trusted_origins(api_client, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example.org", "https://*.example.net"]
    UserFactory(username="bob")
    login = {"username": "bob", "password": PASSWORD}
    for origin, status in (
        ("https://app.example.org", 200),
        ("https://eu.example.net", 200),
        ("http://eu.example.net", 403),
        ("https://example.net.evil.example", 403),
        ("https://app.example.org.evil.example", 403),
    ):
        answer = APIClient().post("/api/v1/auth/login/", login, format="json", HTTP_ORIGIN=origin)
        assert answer.status_code == status, origin


def test_profile_get_and_update(api_client):
    user = UserFactory(username="bob")
    api_client.force_authenticate(user)
    profile = api_client.get("/api/v1/auth/userprofile/").json()
    assert profile["timezone"] == "UTC"
    assert profile["notification_preferences"]["email_scan_failed"] is True
    bad = api_client.patch("/api/v1/auth/userprofile/", {"timezone": "Mars/Olympus"}, format="json")
    assert bad.status_code == 400 and "timezone" in bad.json()["errors"]
    bad_pref = api_client.patch(
        "/api/v1/auth/userprofile/", {"notification_preferences": {"sms": True}}, format="json"
    )
    assert bad_pref.status_code == 400
    ok = api_client.patch(
        "/api/v1/auth/userprofile/",
        {
            "timezone": "Europe/Berlin",
            "avatar_url": "https://example.org/a.png",
            "notification_preferences": {"email_scan_completed": False},
        },
        format="json",
    )
    assert ok.status_code == 200
    prefs = ok.json()["notification_preferences"]
    assert prefs["email_scan_completed"] is False and prefs["email_scan_failed"] is True
    assert ok.json()["timezone"] == "Europe/Berlin"
    put = api_client.put(
        "/api/v1/auth/userprofile/",
        {"timezone": "Asia/Tokyo", "avatar_url": "", "notification_preferences": {}},
        format="json",
    )
    assert put.status_code == 200 and put.json()["timezone"] == "Asia/Tokyo"


def test_user_endpoint_updates_names_only(api_client):
    user = UserFactory(username="bob")
    api_client.force_authenticate(user)
    response = api_client.patch(
        "/api/v1/auth/user/",
        {"first_name": "Bob", "is_staff": True, "username": "root"},
        format="json",
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.first_name == "Bob" and not user.is_staff and user.username == "bob"
