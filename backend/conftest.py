"""Shared pytest fixtures: which real services this run may use.

PostgreSQL and Redis come from the same variables the platform reads (DB_*, CELERY_BROKER_URL).
Without them a test that needs one is skipped with a reason naming it; with
SECULITE_REQUIRE_SERVICES=1 (CI) a missing service fails the test instead."""

import os
import shutil
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest

BACKEND_DIR = Path(__file__).resolve().parent
REPO_DIR = BACKEND_DIR.parent
REQUIRE_SERVICES = os.environ.get("SECULITE_REQUIRE_SERVICES") == "1"


def missing_service(reason: str):
    """Fail when services are required (CI), skip with the reason otherwise."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (SECULITE_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_params() -> dict:
    """Connection parameters of the PostgreSQL server named by DB_*."""
    if not (os.environ.get("DB_ENGINE") or os.environ.get("DB_NAME")):
        missing_service("PostgreSQL is not configured: set DB_ENGINE, DB_NAME, DB_HOST, ...")
    params = {
        "host": os.environ.get("DB_HOST", "127.0.0.1"),
        "port": int(os.environ.get("DB_PORT", "5432")),
        "user": os.environ.get("DB_USER", "seculite"),
        "password": os.environ.get("DB_PASSWORD", ""),
        "dbname": os.environ.get("DB_NAME", "seculite"),
    }
    if not _reachable(params["host"], params["port"]):
        missing_service(f"PostgreSQL is not reachable at {params['host']}:{params['port']}")
    return params


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis broker URL named by CELERY_BROKER_URL."""
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith(("redis://", "rediss://")):
        missing_service("Redis is not configured: set CELERY_BROKER_URL=redis://...")
    parsed = urlparse(url)
    if not _reachable(parsed.hostname or "127.0.0.1", parsed.port or 6379):
        missing_service(f"Redis is not reachable at {parsed.hostname}:{parsed.port or 6379}")
    return url


@pytest.fixture(scope="session")
def nginx_binary() -> str:
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not path:
        missing_service("nginx is not installed (apt-get install nginx-light)")
    return path


@pytest.fixture(scope="session")
def spa_dist() -> Path:
    """The built single-page app; `make test` builds it before pytest runs."""
    dist = Path(os.environ.get("SECULITE_SPA_DIST_DIR") or REPO_DIR / "frontend" / "dist")
    if not (dist / "index.html").is_file():
        pytest.fail("frontend/dist is not built: run `make test` (or `npm run build` in frontend/)")
    return dist


# --- Accounts, organizations and projects ------------------------------------------------------
ROLES = ("owner", "admin", "member", "auditor")


class World:
    """Two organizations: A with one user per role and B owned by an outsider, each with a
    project, a target and a target group. `users` also has a platform staff user."""

    def __init__(self):
        from apps.scans.models import Scan, ScanConfiguration, ScanToolResult
        from apps.users.tests.factories import (
            MembershipFactory,
            OrganizationFactory,
            ProjectFactory,
            TargetFactory,
            TargetGroupFactory,
            UserFactory,
        )

        self.org_a = OrganizationFactory(name="Org A")
        self.org_b = OrganizationFactory(name="Org B")
        self.users = {}
        for role in ROLES:
            user = UserFactory(username=role)
            MembershipFactory(organization=self.org_a, user=user, role=role)
            self.users[role] = user
        self.users["outsider"] = UserFactory(username="outsider")
        MembershipFactory(organization=self.org_b, user=self.users["outsider"], role="owner")
        self.users["staff"] = UserFactory(username="staff", is_staff=True)
        self.project_a = ProjectFactory(organization=self.org_a, name="Project A")
        self.project_b = ProjectFactory(organization=self.org_b, name="Project B")
        self.target_a = TargetFactory(project=self.project_a)
        self.target_b = TargetFactory(project=self.project_b)
        self.group_a = TargetGroupFactory(project=self.project_a)
        self.group_a.targets.add(self.target_a)
        self.group_b = TargetGroupFactory(project=self.project_b)
        for side, project in (("a", self.project_a), ("b", self.project_b)):
            repo = TargetFactory(
                project=project,
                name=f"repo-{side}",
                asset_type="git_repository",
                identifier="https://git.example.org/team/app.git",
            )
            config = ScanConfiguration.objects.create(
                project=project,
                name=f"config-{side}",
                tools_and_configs=[{"tool_id": "bandit", "overrides": {}}],
            )
            config.target_assets.set([repo])
            scan = Scan.objects.create(
                project=project, configuration=config, trigger_type="manual", status="running"
            )
            result = ScanToolResult.objects.create(
                scan=scan, tool_id="bandit", target=repo, status="running"
            )
            setattr(self, f"repo_{side}", repo)
            setattr(self, f"config_{side}", config)
            setattr(self, f"scan_{side}", scan)
            setattr(self, f"result_{side}", result)


@pytest.fixture
def world(db) -> World:
    return World()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture(autouse=True)
def _reset_cache_and_throttles():
    """Throttle and lockout counters live in the cache: every test starts from zero."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
