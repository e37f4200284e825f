"""Target values: hostile ones are refused with a field error and nothing saved; good ones pass.
The same rules apply through the API, the admin form and the service the CLI uses."""

import os

import pytest

from apps.projects import validators
from apps.projects.models import TargetAsset

pytestmark = pytest.mark.django_db

FAKE_DNS = {
    "example.org": ["93.184.215.14"],
    "git.example.org": ["93.184.215.15"],
    "internal.example.org": ["10.1.2.3"],
    "rebind.example.org": ["93.184.215.14", "127.0.0.1"],
    "metadata.example.org": ["169.254.169.254"],
}


@pytest.fixture(autouse=True)
def fake_dns(monkeypatch):
    """Model DNS without a network: known names resolve as above, numeric forms as the system
    resolver would (inet_aton semantics), everything else does not resolve."""
    real = validators.resolve_host

    def resolve(host):
        if host in FAKE_DNS:
            return FAKE_DNS[host]
        if host == "localhost" or all(c in "0123456789abcdefx." for c in host.lower()):
            return real(host)
        raise OSError("no such host")

    monkeypatch.setattr(validators, "resolve_host", resolve)


@pytest.fixture
def scan_root(tmp_path, settings):
    root = tmp_path / "scan-root"
    (root / "repo").mkdir(parents=True)
    (root / "repo" / "app.py").write_text("print('hello')\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, root / "escape")
    os.symlink("/etc", root / "etc-link")
    settings.SECULITE_SCAN_ROOTS = [root]
    return root


def post_target(client, world, asset_type, identifier, metadata=None):
    client.force_authenticate(world.users["member"])
    body = {"name": "t", "asset_type": asset_type, "identifier": identifier}
    if metadata is not None:
        body["metadata"] = metadata
    return client.post(f"/api/v1/projects/{world.project_a.pk}/targets/", body, format="json")


HOSTILE = [
    ("git_repository", "--upload-pack=touch /tmp/x", "identifier"),
    ("git_repository", "-c core.sshCommand=touch /tmp/x", "identifier"),
    ("git_repository", "ext::sh -c touch% /tmp/x", "identifier"),
    ("git_repository", "fd::17", "identifier"),
    ("git_repository", "file:///etc", "identifier"),
    ("git_repository", "/etc", "identifier"),
    ("git_repository", "{root}/repo/../../outside", "identifier"),
    ("git_repository", "{root}/escape", "identifier"),
    ("git_repository", "{root}/etc-link", "identifier"),
    ("git_repository", "relative/path", "identifier"),
    ("git_repository", "http://git.example.org/repo.git", "identifier"),
    ("git_repository", "https://127.0.0.1/repo.git", "identifier"),
    ("git_repository", "https://internal.example.org/repo.git", "identifier"),
    ("git_repository", "git@169.254.169.254:repo.git", "identifier"),
    ("git_repository", "git@git.example.org:-oProxyCommand=x", "identifier"),
    ("git_repository", "https://user:pw@git.example.org/r.git", "identifier"),
    ("url", "http://169.254.169.254/", "identifier"),
    ("url", "http://127.0.0.1:8000/", "identifier"),
    ("url", "http://[::1]/", "identifier"),
    ("url", "http://0x7f000001/", "identifier"),
    ("url", "http://2130706433/", "identifier"),
    ("url", "http://127.1/", "identifier"),
    ("url", "http://localhost/", "identifier"),
    ("url", "http://[::ffff:127.0.0.1]/", "identifier"),
    ("url", "http://internal.example.org/", "identifier"),
    ("url", "http://metadata.example.org/latest/meta-data/", "identifier"),
    ("url", "http://rebind.example.org/", "identifier"),
    ("url", "http://no-such-host.invalid/", "identifier"),
    ("url", "ftp://example.org/", "identifier"),
    ("url", "file:///etc/passwd", "identifier"),
    ("url", "javascript:alert(1)", "identifier"),
    ("url", "https://example.org/\nHost: evil", "identifier"),
    # urllib raises ValueError("Invalid IPv6 URL") on these: a field error, not a 500.
    ("url", "http://[::1", "identifier"),
    ("url", "http://[example.org]/", "identifier"),
    ("git_repository", "https://[::1/repo.git", "identifier"),
    ("ip_address", "10.0.0.1", "identifier"),
    ("ip_address", "192.168.1.1", "identifier"),
    ("ip_address", "100.64.0.1", "identifier"),
    ("ip_address", "0.0.0.0", "identifier"),  # noqa: S104
    ("ip_address", "fe80::1", "identifier"),
    ("ip_address", "not-an-ip", "identifier"),
    ("domain_name", "localhost", "identifier"),
    ("domain_name", "internal.example.org", "identifier"),
    ("domain_name", "-example.org", "identifier"),
    ("docker_image", "--privileged", "identifier"),
    ("docker_image", "UPPER/Case", "identifier"),
    ("docker_image", "nginx; rm -rf /", "identifier"),
    ("file_upload", "../../etc/passwd", "identifier"),
    ("file_upload", "/etc/passwd", "identifier"),
    ("nonsense", "x", "asset_type"),
]


@pytest.mark.parametrize(("asset_type", "identifier", "field"), HOSTILE)
def test_hostile_values_are_refused_and_nothing_saved(
    api_client, world, scan_root, asset_type, identifier, field
):
    identifier = identifier.replace("{root}", str(scan_root))
    response = post_target(api_client, world, asset_type, identifier)
    assert response.status_code == 400, response.json()
    body = response.json()
    assert field in body["errors"], body
    assert not TargetAsset.objects.filter(project=world.project_a, name="t").exists()


@pytest.mark.parametrize("branch", ["--upload-pack=x", "main..evil", "a b", "x.lock", "@{-1}"])
def test_hostile_branches_are_refused(api_client, world, branch):
    response = post_target(
        api_client,
        world,
        "git_repository",
        "https://git.example.org/team/app.git",
        {"branch": branch},
    )
    assert response.status_code == 400
    assert "metadata" in response.json()["errors"]


GOOD = [
    (
        "git_repository",
        "https://git.example.org/team/app.git",
        "https://git.example.org/team/app.git",
    ),
    ("git_repository", "ssh://git@git.example.org:2222/team/app.git", None),
    ("git_repository", "git@git.example.org:team/app.git", None),
    ("url", "https://example.org/login?next=/", None),
    ("ip_address", "93.184.215.14", None),
    ("domain_name", "Example.org.", "example.org"),
    ("docker_image", "registry.example.org:5000/team/app:1.2.3", None),
    ("docker_image", "python@sha256:" + "a" * 64, None),
    ("file_upload", "reports/semgrep.sarif", None),
]


@pytest.mark.parametrize(("asset_type", "identifier", "stored"), GOOD)
def test_good_values_are_accepted(api_client, world, asset_type, identifier, stored):
    response = post_target(
        api_client,
        world,
        asset_type,
        identifier,
        {"branch": "main"} if asset_type == "git_repository" else None,
    )
    assert response.status_code == 201, response.json()
    assert response.json()["identifier"] == (stored or identifier)


def test_local_path_inside_the_scan_roots(api_client, world, scan_root):
    response = post_target(api_client, world, "git_repository", str(scan_root / "repo"))
    assert response.status_code == 201, response.json()
    assert response.json()["metadata"] == {"local": True}


def test_local_paths_are_off_without_scan_roots(api_client, world, settings, tmp_path):
    settings.SECULITE_SCAN_ROOTS = []
    response = post_target(api_client, world, "git_repository", str(tmp_path))
    assert response.status_code == 400
    assert "SECULITE_SCAN_ROOTS is empty" in response.json()["errors"]["identifier"][0]


def test_file_urls_only_when_enabled(api_client, world, settings, scan_root):
    url = f"file://{scan_root / 'repo'}"
    assert post_target(api_client, world, "git_repository", url).status_code == 400
    settings.SECULITE_ALLOW_FILE_GIT_URLS = True
    assert post_target(api_client, world, "git_repository", url).status_code == 201


def test_private_targets_allowed_when_listed(api_client, world, settings):
    settings.SECULITE_ALLOWED_PRIVATE_TARGETS = ["127.0.0.0/8", "internal.example.org"]
    assert post_target(api_client, world, "url", "http://127.0.0.1:8000/").status_code == 201
    api_client.force_authenticate(world.users["member"])
    second = api_client.post(
        f"/api/v1/projects/{world.project_a.pk}/targets/",
        {"name": "internal", "asset_type": "url", "identifier": "http://internal.example.org/"},
        format="json",
    )
    assert second.status_code == 201
    # Still not the cloud metadata address.
    third = api_client.post(
        f"/api/v1/projects/{world.project_a.pk}/targets/",
        {"name": "meta", "asset_type": "url", "identifier": "http://169.254.169.254/"},
        format="json",
    )
    assert third.status_code == 400


def test_update_is_validated_too(api_client, world):
    api_client.force_authenticate(world.users["member"])
    url = f"/api/v1/projects/{world.project_a.pk}/targets/{world.target_a.pk}/"
    response = api_client.patch(
        url, {"asset_type": "url", "identifier": "http://10.0.0.1/"}, format="json"
    )
    assert response.status_code == 400
    world.target_a.refresh_from_db()
    assert world.target_a.asset_type == "docker_image"


def test_admin_form_uses_the_same_rules(world):
    from apps.projects.admin import TargetAssetForm

    form = TargetAssetForm(
        data={
            "project": world.project_a.pk,
            "name": "x",
            "asset_type": "url",
            "identifier": "http://169.254.169.254/",
            "metadata": "{}",
            "is_active": True,
        }
    )
    assert not form.is_valid()
    assert "identifier" in form.errors


def test_target_groups_only_take_targets_of_their_project(api_client, world):
    api_client.force_authenticate(world.users["member"])
    url = f"/api/v1/projects/{world.project_a.pk}/targetgroups/"
    bad = api_client.post(
        url, {"name": "mixed", "targets": [world.target_a.pk, world.target_b.pk]}, format="json"
    )
    assert bad.status_code == 400 and "targets" in bad.json()["errors"]
    good = api_client.post(url, {"name": "web", "targets": [world.target_a.pk]}, format="json")
    assert good.status_code == 201
    assert good.json()["targets"] == [world.target_a.pk]
