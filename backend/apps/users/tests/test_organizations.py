"""Organizations, members, invitations, roles and the last-owner rule."""

import re

import pytest
from django.core import mail
from django.utils import timezone

from apps.users.models import AuditEvent, Invitation, OrganizationMembership
from apps.users.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def members_url(world, suffix=""):
    return f"/api/v1/organizations/{world.org_a.pk}/members/{suffix}"


def membership(world, role):
    return OrganizationMembership.objects.get(organization=world.org_a, user=world.users[role])


def test_create_organization_makes_the_caller_owner(api_client, world):
    api_client.force_authenticate(world.users["member"])
    response = api_client.post("/api/v1/organizations/", {"name": "Security Team"}, format="json")
    assert response.status_code == 201
    assert response.json()["role"] == "owner"
    duplicate = api_client.post("/api/v1/organizations/", {"name": "security team"}, format="json")
    assert duplicate.status_code == 400 and "name" in duplicate.json()["errors"]


def test_list_shows_only_my_organizations_with_my_role(api_client, world):
    api_client.force_authenticate(world.users["auditor"])
    results = api_client.get("/api/v1/organizations/").json()["results"]
    assert [(o["name"], o["role"]) for o in results] == [("Org A", "auditor")]


def test_invite_accept_flow(api_client, world, django_capture_on_commit_callbacks):
    api_client.force_authenticate(world.users["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            members_url(world), {"email": "New@Example.org", "role": "member"}, format="json"
        )
    assert response.status_code == 201
    assert "token" not in response.json()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["New@Example.org"]
    token = re.search(r"token=([\w-]+)", mail.outbox[0].body).group(1)
    assert not Invitation.objects.filter(token_hash=token).exists()  # only the hash is stored

    stranger = UserFactory(username="stranger", email="someone@example.org")
    api_client.force_authenticate(stranger)
    wrong = api_client.post("/api/v1/invitations/accept/", {"token": token}, format="json")
    assert wrong.status_code == 400

    invitee = UserFactory(username="newbie", email="new@example.org")
    api_client.force_authenticate(invitee)
    accepted = api_client.post("/api/v1/invitations/accept/", {"token": token}, format="json")
    assert accepted.status_code == 200
    assert accepted.json()["role"] == "member"
    assert OrganizationMembership.objects.filter(organization=world.org_a, user=invitee).exists()
    reused = api_client.post("/api/v1/invitations/accept/", {"token": token}, format="json")
    assert reused.status_code == 400
    assert AuditEvent.objects.filter(event_type="member_added", target_user=invitee).exists()


def test_the_invitation_token_is_masked_in_the_task_log(
    api_client, world, django_capture_on_commit_callbacks, monkeypatch
):
    """The raw token must reach the worker (only its hash is stored), but Flower and the worker
    log show the task's kwargsrepr, which masks it."""
    from apps.users.tasks import send_invitation_email

    queued = []
    task = send_invitation_email._get_current_object()
    original = task.apply_async

    def spy(args=None, kwargs=None, **options):
        queued.append((kwargs, options.get("kwargsrepr")))
        return original(args, kwargs, **options)

    monkeypatch.setattr(task, "apply_async", spy)
    api_client.force_authenticate(world.users["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            members_url(world), {"email": "new@example.org", "role": "member"}, format="json"
        )
    assert response.status_code == 201
    token = re.search(r"token=([\w-]+)", mail.outbox[0].body).group(1)
    [(kwargs, shown)] = queued
    assert kwargs["token"] == token
    assert token not in shown and "********" in shown


def test_expired_invitation_is_refused(api_client, world, django_capture_on_commit_callbacks):
    api_client.force_authenticate(world.users["owner"])
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(members_url(world), {"email": "late@example.org"}, format="json")
    token = re.search(r"token=([\w-]+)", mail.outbox[0].body).group(1)
    Invitation.objects.update(expires_at=timezone.now() - timezone.timedelta(seconds=1))
    api_client.force_authenticate(UserFactory(username="late", email="late@example.org"))
    response = api_client.post("/api/v1/invitations/accept/", {"token": token}, format="json")
    assert response.status_code == 400
    assert "expired" in response.json()["errors"]["token"][0]


def test_only_owners_grant_owner(api_client, world):
    api_client.force_authenticate(world.users["admin"])
    target = membership(world, "member")
    denied = api_client.patch(members_url(world, f"{target.pk}/"), {"role": "owner"}, format="json")
    assert denied.status_code == 400
    invite = api_client.post(
        members_url(world), {"email": "x@example.org", "role": "owner"}, format="json"
    )
    assert invite.status_code == 400
    ok = api_client.patch(members_url(world, f"{target.pk}/"), {"role": "auditor"}, format="json")
    assert ok.status_code == 200 and ok.json()["role"] == "auditor"
    event = AuditEvent.objects.get(event_type="role_changed")
    assert event.details == {"old_role": "member", "new_role": "auditor"}
    assert event.actor == world.users["admin"]


def test_last_owner_cannot_leave_or_be_demoted(api_client, world):
    owner = membership(world, "owner")
    api_client.force_authenticate(world.users["owner"])
    demote = api_client.patch(members_url(world, f"{owner.pk}/"), {"role": "admin"}, format="json")
    assert demote.status_code == 400 and "last owner" in demote.json()["errors"]["role"][0]
    leave = api_client.post(members_url(world, "leave/"))
    assert leave.status_code == 400
    assert OrganizationMembership.objects.filter(pk=owner.pk, role="owner").exists()
    # With a second owner, the first may leave.
    MembershipFactory(organization=world.org_a, user=UserFactory(username="owner2"), role="owner")
    assert api_client.post(members_url(world, "leave/")).status_code == 204
    assert not OrganizationMembership.objects.filter(pk=owner.pk).exists()


def test_members_and_auditors_cannot_manage_members(api_client, world):
    target = membership(world, "admin")
    for role in ("member", "auditor"):
        api_client.force_authenticate(world.users[role])
        assert api_client.get(members_url(world)).status_code == 200
        assert api_client.delete(members_url(world, f"{target.pk}/")).status_code == 403
        assert (
            api_client.post(
                members_url(world), {"email": "x@example.org"}, format="json"
            ).status_code
            == 403
        )


def test_admin_removes_a_member_and_it_is_audited(api_client, world):
    api_client.force_authenticate(world.users["admin"])
    target = membership(world, "member")
    assert api_client.delete(members_url(world, f"{target.pk}/")).status_code == 204
    assert AuditEvent.objects.filter(
        event_type="member_removed", target_user=world.users["member"]
    ).exists()
    # Admins cannot remove owners.
    owner = membership(world, "owner")
    assert api_client.delete(members_url(world, f"{owner.pk}/")).status_code == 400


def test_member_leaves(api_client, world):
    api_client.force_authenticate(world.users["auditor"])
    assert api_client.post(members_url(world, "leave/")).status_code == 204
    assert api_client.get(members_url(world)).status_code == 404


def test_personal_organization_cannot_be_deleted(api_client, db):
    from rest_framework.test import APIClient

    client = APIClient()
    client.post(
        "/api/v1/auth/registration/",
        {
            "username": "carol",
            "email": "carol@example.org",
            "password": "Unguessable-Passw0rd!",
            "password_confirm": "Unguessable-Passw0rd!",
        },
        format="json",
    )
    from django.contrib.auth import get_user_model

    carol = get_user_model().objects.get(username="carol")
    client.force_authenticate(carol)
    org_id = client.get("/api/v1/organizations/").json()["results"][0]["id"]
    assert client.delete(f"/api/v1/organizations/{org_id}/").status_code == 400
