"""The authorization matrix: every URL pattern under /api/v1/ (read from the resolver, so a new
endpoint cannot slip past) and every method it allows, for every kind of caller, against an
object of the caller's organization and of another one.

Callers: anonymous, outsider (owner of another organization), auditor, member, admin, owner
(of organization A), and platform staff (a member of no organization). Each (route, method) in
MATRIX names the least role that may use it and the status of success; every other cell
follows from that: anonymous 401, a role below the minimum 403, an object of an organization the
caller is not in 404. A route missing from MATRIX fails the test."""

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

CALLERS = ("anonymous", "outsider", "auditor", "member", "admin", "owner", "staff")
RANK = {"auditor": 0, "member": 1, "admin": 2, "owner": 3}

# Minimum roles. PUBLIC: no authentication at all. USER: any signed-in user, about themselves.
# STAFF: platform staff. The four organization roles: that role or above in the object's org.
PUBLIC, USER, STAFF = "public", "user", "staff"


@dataclass
class Spec:
    minimum: str
    ok: int
    # Builds (kwargs for the URL, request body) for the given world and the organization whose
    # object is addressed ("a" or "b"); None means the route addresses no organization's object.
    setup: Callable | None = None
    body: Callable | None = None
    public_status: int | None = None  # what a public endpoint answers to this request
    # The answer outside the caller's organizations: 404 when the URL addresses the object,
    # 400 when the body names the organization (a field error, revealing nothing).
    outside: int = 404
    # A role whose success answer differs for a reason that is not authorization.
    by_role: dict = field(default_factory=dict)
    # "kwargs": builds URL kwargs for routes that address no organization's object.
    extra: dict = field(default_factory=dict)


def org(w, side):
    return w.org_a if side == "a" else w.org_b


def project(w, side):
    return w.project_a if side == "a" else w.project_b


def k_org(w, side):
    return {"pk": org(w, side).pk}


def k_org_nested(w, side):
    return {"organization_pk": org(w, side).pk}


def k_member(w, side):
    from apps.users.tests.factories import MembershipFactory, UserFactory

    extra = MembershipFactory(organization=org(w, side), user=UserFactory(), role="member")
    return {"organization_pk": org(w, side).pk, "pk": extra.pk}


def k_invitation(w, side):
    from django.utils import timezone

    from apps.users.models import Invitation

    inv = Invitation.objects.create(
        organization=org(w, side),
        email="inv@example.org",
        token_hash=uuid.uuid4().hex,
        expires_at=timezone.now() + timezone.timedelta(days=1),
    )
    return {"organization_pk": org(w, side).pk, "pk": inv.pk}


def k_project(w, side):
    return {"pk": project(w, side).pk}


def k_project_nested(w, side):
    return {"project_pk": project(w, side).pk}


def k_target(w, side):
    target = w.target_a if side == "a" else w.target_b
    return {"project_pk": project(w, side).pk, "pk": target.pk}


def k_group(w, side):
    group = w.group_a if side == "a" else w.group_b
    return {"project_pk": project(w, side).pk, "pk": group.pk}


def k_audit(w, side):
    from apps.users.models import AuditEvent

    return {"pk": AuditEvent.objects.create(event_type="logout").pk}


def k_config(w, side):
    config = w.config_a if side == "a" else w.config_b
    return {"project_pk": project(w, side).pk, "pk": config.pk}


def k_scan(w, side):
    return {"pk": (w.scan_a if side == "a" else w.scan_b).pk}


def k_scan_finished(w, side):
    scan = w.scan_a if side == "a" else w.scan_b
    scan.status = "completed"
    scan.save()
    return {"pk": scan.pk}


def k_raw(w, side):
    from django.conf import settings

    result = w.result_a if side == "a" else w.result_b
    relative = f"scan_tool_outputs/2026/11/27/scan-{result.scan_id}/bandit.json"
    path = settings.MEDIA_ROOT / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}")
    result.raw_output_path = relative
    result.save()
    return {"pk": result.scan_id, "result_pk": result.pk}


def k_webhook(w, side):
    from apps.scans.services.configurations import configuration_rotate_webhook

    return {"token": configuration_rotate_webhook(configuration=w.config_a)}


def b_config(w, side):
    repo = w.repo_a if side == "a" else w.repo_b
    return {
        "name": unique("c"),
        "tools_and_configs": [{"tool_id": "bandit"}],
        "target_assets": [repo.pk],
    }


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def b_project(w, side):
    return {"name": unique("p"), "organization": org(w, side).pk}


def b_target(w, side):
    return {"name": unique("t"), "asset_type": "docker_image", "identifier": "nginx:1.27"}


MATRIX: dict[tuple[str, str], Spec] = {
    # Platform
    ("health", "GET"): Spec(PUBLIC, 200, public_status=200),
    ("schema", "GET"): Spec(PUBLIC, 200, public_status=200),
    ("swagger-ui", "GET"): Spec(PUBLIC, 200, public_status=200),
    ("system-settings", "GET"): Spec(STAFF, 200),
    ("system-settings", "PUT"): Spec(
        STAFF,
        200,
        body=lambda w, s: {
            "smtp_host": "smtp.example.org",
            "smtp_port": 587,
            "smtp_user": "",
            "smtp_use_tls": True,
            "default_from_email": "sec@example.org",
        },
    ),
    ("system-settings", "PATCH"): Spec(STAFF, 200, body=lambda w, s: {"smtp_port": 2525}),
    ("audit-event-list", "GET"): Spec(STAFF, 200),
    ("audit-event-detail", "GET"): Spec(STAFF, 200, setup=k_audit),
    # Accounts (public endpoints get invalid bodies so that nothing is created)
    ("auth-csrf", "GET"): Spec(PUBLIC, 204, public_status=204),
    ("auth-registration", "POST"): Spec(PUBLIC, 400, public_status=400, body=lambda w, s: {}),
    ("auth-login", "POST"): Spec(
        PUBLIC, 400, public_status=400, body=lambda w, s: {"username": "nobody", "password": "x"}
    ),
    ("auth-password-reset", "POST"): Spec(
        PUBLIC, 200, public_status=200, body=lambda w, s: {"email": "nobody@example.org"}
    ),
    ("auth-password-reset-confirm", "POST"): Spec(
        PUBLIC, 400, public_status=400, body=lambda w, s: {}
    ),
    ("auth-logout", "POST"): Spec(USER, 204),
    ("auth-password-change", "POST"): Spec(USER, 400, body=lambda w, s: {}),
    ("auth-user", "GET"): Spec(USER, 200),
    ("auth-user", "PUT"): Spec(USER, 200, body=lambda w, s: {"first_name": "A", "last_name": "B"}),
    ("auth-user", "PATCH"): Spec(USER, 200, body=lambda w, s: {"first_name": "A"}),
    ("auth-userprofile", "GET"): Spec(USER, 200),
    ("auth-userprofile", "PUT"): Spec(USER, 200, body=lambda w, s: {"timezone": "UTC"}),
    ("auth-userprofile", "PATCH"): Spec(USER, 200, body=lambda w, s: {"timezone": "UTC"}),
    ("auth-api-key", "GET"): Spec(USER, 200),
    ("auth-api-key", "POST"): Spec(USER, 201),
    ("auth-api-key", "DELETE"): Spec(USER, 404),  # nobody has a key yet: a clear 404
    ("invitation-accept", "POST"): Spec(USER, 400, body=lambda w, s: {"token": "nope"}),
    # Organizations
    ("organization-list", "GET"): Spec(USER, 200),
    ("organization-list", "POST"): Spec(USER, 201, body=lambda w, s: {"name": unique("org")}),
    ("organization-detail", "GET"): Spec("auditor", 200, setup=k_org),
    ("organization-detail", "PUT"): Spec(
        "admin", 200, setup=k_org, body=lambda w, s: {"name": unique("org")}
    ),
    ("organization-detail", "PATCH"): Spec(
        "admin", 200, setup=k_org, body=lambda w, s: {"name": unique("org")}
    ),
    ("organization-detail", "DELETE"): Spec("owner", 204, setup=k_org),
    ("organization-member-list", "GET"): Spec("auditor", 200, setup=k_org_nested),
    ("organization-member-list", "POST"): Spec(
        "admin", 201, setup=k_org_nested, body=lambda w, s: {"email": "n@example.org"}
    ),
    ("organization-member-detail", "GET"): Spec("auditor", 200, setup=k_member),
    ("organization-member-detail", "PATCH"): Spec(
        "admin", 200, setup=k_member, body=lambda w, s: {"role": "auditor"}
    ),
    ("organization-member-detail", "DELETE"): Spec("admin", 204, setup=k_member),
    # The last owner may not leave (A and B each have one owner).
    ("organization-member-leave", "POST"): Spec(
        "auditor", 204, setup=k_org_nested, by_role={"owner": 400}
    ),
    ("organization-invitation-list", "GET"): Spec("admin", 200, setup=k_org_nested),
    ("organization-invitation-detail", "DELETE"): Spec("admin", 204, setup=k_invitation),
    # Projects, targets, target groups
    ("project-list", "GET"): Spec(USER, 200),
    ("project-list", "POST"): Spec(
        "member", 201, setup=lambda w, s: {}, body=b_project, outside=400
    ),
    ("project-detail", "GET"): Spec("auditor", 200, setup=k_project),
    ("project-detail", "PUT"): Spec(
        "member", 200, setup=k_project, body=lambda w, s: {"name": unique("p"), "description": ""}
    ),
    ("project-detail", "PATCH"): Spec(
        "member", 200, setup=k_project, body=lambda w, s: {"description": "changed"}
    ),
    ("project-detail", "DELETE"): Spec("member", 204, setup=k_project),
    ("project-target-list", "GET"): Spec("auditor", 200, setup=k_project_nested),
    ("project-target-list", "POST"): Spec("member", 201, setup=k_project_nested, body=b_target),
    ("project-target-detail", "GET"): Spec("auditor", 200, setup=k_target),
    ("project-target-detail", "PUT"): Spec("member", 200, setup=k_target, body=b_target),
    ("project-target-detail", "PATCH"): Spec(
        "member", 200, setup=k_target, body=lambda w, s: {"description": "x"}
    ),
    ("project-target-detail", "DELETE"): Spec("member", 204, setup=k_target),
    ("project-targetgroup-list", "GET"): Spec("auditor", 200, setup=k_project_nested),
    ("project-targetgroup-list", "POST"): Spec(
        "member", 201, setup=k_project_nested, body=lambda w, s: {"name": unique("g")}
    ),
    ("project-targetgroup-detail", "GET"): Spec("auditor", 200, setup=k_group),
    ("project-targetgroup-detail", "PUT"): Spec(
        "member", 200, setup=k_group, body=lambda w, s: {"name": unique("g"), "targets": []}
    ),
    ("project-targetgroup-detail", "PATCH"): Spec(
        "member", 200, setup=k_group, body=lambda w, s: {"description": "x"}
    ),
    ("project-targetgroup-detail", "DELETE"): Spec("member", 204, setup=k_group),
    # Scan configurations, scans, tool results, webhooks, tools
    ("project-scanconfiguration-list", "GET"): Spec("auditor", 200, setup=k_project_nested),
    ("project-scanconfiguration-list", "POST"): Spec(
        "member", 201, setup=k_project_nested, body=b_config
    ),
    ("project-scanconfiguration-detail", "GET"): Spec("auditor", 200, setup=k_config),
    ("project-scanconfiguration-detail", "PUT"): Spec("member", 200, setup=k_config, body=b_config),
    ("project-scanconfiguration-detail", "PATCH"): Spec(
        "member", 200, setup=k_config, body=lambda w, s: {"description": "x"}
    ),
    ("project-scanconfiguration-detail", "DELETE"): Spec("member", 204, setup=k_config),
    ("project-scanconfiguration-clone", "POST"): Spec("member", 201, setup=k_config),
    ("project-scanconfiguration-launch", "POST"): Spec("member", 202, setup=k_config),
    ("project-scanconfiguration-rotate-webhook", "POST"): Spec("member", 200, setup=k_config),
    ("scan-list", "GET"): Spec(USER, 200),
    ("scan-detail", "GET"): Spec("auditor", 200, setup=k_scan),
    ("scan-cancel", "POST"): Spec("member", 200, setup=k_scan),
    ("scan-rescan", "POST"): Spec("member", 202, setup=k_scan_finished),
    ("scan-toolresults", "GET"): Spec("auditor", 200, setup=k_scan),
    ("scan-raw", "GET"): Spec("auditor", 200, setup=k_raw),
    ("scan-webhook", "POST"): Spec(
        PUBLIC, 202, public_status=202, setup=None, extra={"kwargs": k_webhook}
    ),
    ("tooldefinition-list", "GET"): Spec(USER, 200),
    ("tooldefinition-detail", "GET"): Spec(
        USER, 200, extra={"kwargs": lambda w, s: {"tool_id": "bandit"}}
    ),
    ("tooldefinition-detail", "PUT"): Spec(
        STAFF,
        200,
        body=lambda w, s: {"enabled": True},
        extra={"kwargs": lambda w, s: {"tool_id": "bandit"}},
    ),
    ("tooldefinition-detail", "PATCH"): Spec(
        STAFF,
        200,
        body=lambda w, s: {"enabled": False},
        extra={"kwargs": lambda w, s: {"tool_id": "bandit"}},
    ),
}


def _load_area_matrices() -> None:
    """Each area may keep its rows in tests/authz/<area>.py as `MATRIX = {...}` (same Spec)."""
    import importlib
    import pkgutil

    import tests.authz

    for info in pkgutil.iter_modules(tests.authz.__path__):
        module = importlib.import_module(f"tests.authz.{info.name}")
        overlap = set(module.MATRIX) & set(MATRIX)
        assert not overlap, f"routes listed twice: {sorted(overlap)}"
        MATRIX.update(module.MATRIX)


_load_area_matrices()


def api_routes() -> set[tuple[str, str, str]]:
    """(route name, HTTP method, path pattern) for every endpoint under /api/v1/."""
    found = set()

    def walk(patterns, prefix):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                path = prefix + str(entry.pattern)
                if not path.startswith("api/v1/") or "format" in path:
                    continue
                callback = entry.callback
                actions = getattr(callback, "actions", None)
                if actions:
                    methods = {m.upper() for m in actions}
                else:
                    view = getattr(callback, "view_class", None) or callback.cls
                    methods = {
                        m.upper()
                        for m in view.http_method_names
                        if hasattr(view, m) and m not in ("options", "head")
                    }
                methods.discard("OPTIONS")
                methods.discard("HEAD")
                for method in methods:
                    found.add((entry.name, method, path))

    walk(get_resolver().url_patterns, "")
    return found


def test_every_api_route_is_in_the_matrix():
    routes = {(name, method) for name, method, _ in api_routes()}
    missing = routes - set(MATRIX)
    stale = set(MATRIX) - routes
    assert not missing, f"routes without an authorization entry: {sorted(missing)}"
    assert not stale, f"matrix entries for routes that no longer exist: {sorted(stale)}"


def expected(spec: Spec, caller: str, side: str) -> int:
    """The status a caller should get for this (route, method) on an object of org `side`."""
    if spec.minimum == PUBLIC:
        return spec.public_status
    if caller == "anonymous":
        return 401
    if spec.minimum == USER:
        return spec.ok
    if spec.minimum == STAFF:
        return spec.ok if caller == "staff" else 403
    # Organization roles. Callers of org A: auditor..owner; the outsider owns org B.
    member_of, role = ("b", "owner") if caller == "outsider" else ("a", caller)
    if caller == "staff" or member_of != side:
        return spec.outside
    if RANK[role] < RANK[spec.minimum]:
        return 403
    return spec.by_role.get(role, spec.ok)


CASES = [
    (name, method, caller, side)
    for (name, method), spec in sorted(MATRIX.items())
    for caller, side in itertools.product(CALLERS, ("a", "b"))
    # Routes about no organization's object are checked once per caller.
    if spec.setup is not None or side == "a"
]


@pytest.mark.parametrize(("name", "method", "caller", "side"), CASES)
def test_authorization_cell(world, name, method, caller, side):
    from django.urls import reverse

    spec = MATRIX[(name, method)]
    if spec.setup:
        kwargs = spec.setup(world, side)
    elif "kwargs" in spec.extra:
        kwargs = spec.extra["kwargs"](world, side)
    else:
        kwargs = {}
    url = reverse(name, kwargs=kwargs)
    client = APIClient()
    if caller != "anonymous":
        client.force_authenticate(world.users[caller])
    body = spec.body(world, side) if spec.body else None
    response = getattr(client, method.lower())(url, body, format="json")
    want = expected(spec, caller, side)
    assert response.status_code == want, (
        f"{method} {url} as {caller} on org {side.upper()}: got {response.status_code}, "
        f"want {want}: {response.content[:300]!r}"
    )
    if want >= 400 and response["Content-Type"].startswith("application/json"):
        assert set(response.json()) >= {"detail", "errors", "error_code"}


def test_outsider_sees_nothing_of_another_organization_in_lists(world):
    client = APIClient()
    client.force_authenticate(world.users["outsider"])
    projects = client.get("/api/v1/projects/").json()["results"]
    assert [p["name"] for p in projects] == ["Project B"]
    orgs = client.get("/api/v1/organizations/").json()["results"]
    assert [o["name"] for o in orgs] == ["Org B"]
    filtered = client.get(f"/api/v1/projects/?organization_id={world.org_a.pk}").json()
    assert filtered["results"] == []
