"""The security audit log (append-only, staff API with filters) and the admin's user actions."""

import pytest
from django.core import mail
from django.test import Client

from apps.users.models import AuditEvent
from apps.users.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_audit_log_records_and_filters(api_client, world):
    api_client.post(
        "/api/v1/auth/login/", {"username": "member", "password": "wrong"}, format="json"
    )
    api_client.post(
        "/api/v1/auth/login/", {"username": "member", "password": PASSWORD}, format="json"
    )
    api_client.force_authenticate(world.users["staff"])
    everything = api_client.get("/api/v1/audit-events/").json()["results"]
    assert [e["event_type"] for e in everything][:2] == ["login_succeeded", "login_failed"]
    failed = api_client.get("/api/v1/audit-events/?event_type=login_failed").json()["results"]
    assert len(failed) == 1 and failed[0]["username"] == "member"
    assert failed[0]["ip_address"] == "127.0.0.1"
    both = api_client.get(
        "/api/v1/audit-events/?event_type=login_failed,login_succeeded&username=member"
    ).json()
    assert len(both["results"]) == 2
    assert PASSWORD not in str(everything) and "wrong" not in str(everything)


def test_audit_events_are_append_only(world):
    event = AuditEvent.objects.create(event_type="logout", username="x")
    event.details = {"changed": True}
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()


def test_admin_deactivates_users_and_sends_resets(world, django_capture_on_commit_callbacks):
    admin_user = world.users["staff"]
    admin_user.is_superuser = True
    admin_user.save()
    browser = Client()
    browser.force_login(admin_user)
    member = world.users["member"]
    response = browser.post(
        "/admin/users/user/",
        {"action": "deactivate_users", "_selected_action": [member.pk]},
        follow=True,
    )
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.is_active is False
    assert AuditEvent.objects.filter(event_type="user_deactivated", target_user=member).exists()
    with django_capture_on_commit_callbacks(execute=True):
        browser.post(
            "/admin/users/user/",
            {"action": "send_password_reset", "_selected_action": [world.users["auditor"].pk]},
        )
    assert [m.to for m in mail.outbox] == [["auditor@example.org"]]
    browser.post(
        "/admin/users/user/", {"action": "activate_users", "_selected_action": [member.pk]}
    )
    member.refresh_from_db()
    assert member.is_active is True
