"""A new user registers, logs in, and creates a project with a Git target and a local-path target
inside the scan roots, through the API alone (token authentication, as a client would)."""

import pytest
from rest_framework.test import APIClient

from apps.projects import validators

pytestmark = pytest.mark.django_db


def test_new_user_gets_from_registration_to_targets(tmp_path, settings, monkeypatch):
    repo = tmp_path / "roots" / "webapp"
    repo.mkdir(parents=True)
    settings.SECULITE_SCAN_ROOTS = [tmp_path / "roots"]
    monkeypatch.setattr(validators, "resolve_host", lambda host: ["140.82.112.3"])

    client = APIClient()
    password = "Correct-Horse-Battery-9"
    registered = client.post(
        "/api/v1/auth/registration/",
        {
            "username": "dana",
            "email": "dana@example.org",
            "password": password,
            "password_confirm": password,
        },
        format="json",
    )
    assert registered.status_code == 201
    token = client.post(
        "/api/v1/auth/login/", {"username": "dana", "password": password}, format="json"
    ).json()["token"]

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    project = api.post(
        "/api/v1/projects/", {"name": "Webshop", "description": "Our shop"}, format="json"
    )
    assert project.status_code == 201, project.json()
    project_id = project.json()["id"]
    orgs = api.get("/api/v1/organizations/").json()["results"]
    assert project.json()["organization"] == orgs[0]["id"] and orgs[0]["role"] == "owner"

    git = api.post(
        f"/api/v1/projects/{project_id}/targets/",
        {
            "name": "webshop-repo",
            "asset_type": "git_repository",
            "identifier": "https://github.com/example/webshop.git",
            "metadata": {"branch": "main"},
            "description": "Main repository",
        },
        format="json",
    )
    assert git.status_code == 201, git.json()
    local = api.post(
        f"/api/v1/projects/{project_id}/targets/",
        {"name": "webshop-checkout", "asset_type": "git_repository", "identifier": str(repo)},
        format="json",
    )
    assert local.status_code == 201, local.json()
    assert local.json()["metadata"]["local"] is True

    listed = api.get(f"/api/v1/projects/{project_id}/targets/").json()["results"]
    assert [t["name"] for t in listed] == ["webshop-checkout", "webshop-repo"]
    # Duplicate names are refused per project; soft-deleted projects disappear.
    dup = api.post("/api/v1/projects/", {"name": "Webshop"}, format="json")
    assert dup.status_code == 400 and "name" in dup.json()["errors"]
    assert api.delete(f"/api/v1/projects/{project_id}/").status_code == 204
    assert api.get(f"/api/v1/projects/{project_id}/").status_code == 404
    assert api.post("/api/v1/projects/", {"name": "Webshop"}, format="json").status_code == 201
