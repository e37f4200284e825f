"""docker-compose.worker.yml, the file of a worker-only host: valid Compose, only the worker of
the main host's image, pointed at the main host's services by .env, nothing published."""

import json
import re

import jsonschema
import yaml

from tests.test_deploy_files import (
    COMPOSE_SCHEMA,
    ENV_EXAMPLE,
    INTERPOLATION_RE,
    REPO_DIR,
    parse_env_example,
)

WORKER_FILE = REPO_DIR / "docker-compose.worker.yml"


def load() -> dict:
    return yaml.safe_load(WORKER_FILE.read_text(encoding="utf-8"))


def test_it_matches_the_compose_specification():
    validator = jsonschema.Draft7Validator(json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8")))
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(load())]
    assert not errors, errors


def test_only_the_worker_of_the_main_image_runs_and_nothing_is_published():
    document = load()
    assert list(document["services"]) == ["worker"]
    worker = document["services"]["worker"]
    main = yaml.safe_load((REPO_DIR / "docker-compose.prod.yml").read_text())["services"]["worker"]
    assert worker["command"] == main["command"] == ["worker"]
    assert worker["build"] == {"context": "./backend"}
    assert worker["healthcheck"]["test"] == main["healthcheck"]["test"]
    assert worker["stop_grace_period"] == main["stop_grace_period"]
    assert "ports" not in worker and "depends_on" not in worker
    assert set(document) <= {"services", "x-logging"}


def test_the_shared_services_come_from_dot_env_and_are_required():
    environment = load()["services"]["worker"]["environment"]
    assert environment["DJANGO_SETTINGS_MODULE"] == "seculite_api.settings.production"
    for name in (
        "DJANGO_SECRET_KEY",
        "DB_HOST",
        "DB_PASSWORD",
        "CELERY_BROKER_URL",
        "CELERY_RESULT_BACKEND",
        "CACHE_URL",
    ):
        # ${NAME:?message}: compose refuses to start without it, never a compose-network host.
        assert re.fullmatch(rf"\$\{{{name}:\?[^}}]+\}}", environment[name]), (name, environment)
    (media,) = load()["services"]["worker"]["volumes"]
    assert media.startswith("${SECULITE_MEDIA_PATH:?") and media.endswith(":/app/media")


def test_every_variable_it_uses_is_documented():
    used = set(INTERPOLATION_RE.findall(WORKER_FILE.read_text(encoding="utf-8")))
    assert {"SECULITE_MEDIA_PATH", "DB_HOST", "CELERY_BROKER_URL"} <= used
    documented = set(parse_env_example().values)
    assert used <= documented, f"{ENV_EXAMPLE.name} lacks {sorted(used - documented)}"
