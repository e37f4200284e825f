"""GET /api/v1/health/: 200 with database/broker/workers, 503 naming the failed part."""

import pytest
from django.core.cache import cache

from apps.core import selectors

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def test_healthy_without_workers(client):
    response = client.get("/api/v1/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"] == "ok"
    assert body["workers"] == 0  # no worker process runs inside unit tests
    assert body["beat_last_seen"] is None
    assert response["Cache-Control"] == "no-store"


def test_reports_beat_heartbeat(client):
    from apps.core.tasks import beat_heartbeat

    beat_heartbeat()
    body = client.get("/api/v1/health/").json()
    assert body["beat_last_seen"].endswith("+00:00")


def test_database_down_is_503_naming_it(client, monkeypatch):
    def down():
        from django.db import OperationalError

        raise OperationalError("could not connect: password=hunter2")

    monkeypatch.setattr(selectors, "database_check", down)
    response = client.get("/api/v1/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "unavailable"
    assert body["broker"] == "ok"
    assert body["error_code"] == "service_unavailable"
    assert body["detail"] == "Unavailable: database."
    assert list(body["errors"]) == ["database"]
    assert b"hunter2" not in response.content


def test_broker_down_is_503_naming_it(client, monkeypatch):
    from kombu import Connection

    from seculite_api.celery import app

    # Nothing listens on port 1: the same failure as a stopped Redis.
    monkeypatch.setattr(app, "connection_for_write", lambda: Connection("redis://127.0.0.1:1/0"))
    response = client.get("/api/v1/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["broker"] == "unavailable"
    assert body["database"] == "ok"
    assert body["workers"] == 0
    assert body["detail"] == "Unavailable: broker."


def test_worker_count_is_cached_briefly(monkeypatch):
    calls = []

    class FakeControl:
        def ping(self, timeout):
            calls.append(timeout)
            return [{"w1@h": {"ok": "pong"}}, {"w2@h": {"ok": "pong"}}]

    from seculite_api.celery import app

    monkeypatch.setattr(app, "control", FakeControl())
    assert selectors.worker_count(timeout=0.1) == 2
    assert selectors.worker_count(timeout=0.1) == 2
    assert calls == [0.1]


def test_health_needs_no_authentication_and_no_csrf(client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.get("/api/v1/health/").status_code == 200
