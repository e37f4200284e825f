"""The request id (X-Request-ID in and out, on every log line of the request) and the request
metrics counted by ObservabilityMiddleware."""

import io
import json
import logging
import re

import pytest

from apps.core import logs
from apps.core.middleware import request_id_from, route_template

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_lines():
    """JSON lines of everything logged while the test runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.ContextFilter())
    handler.addFilter(logs.RedactingFilter())
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)  # django.* and seculite.* propagate to it
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def test_a_sane_incoming_request_id_is_kept_and_returned(client):
    response = client.get("/api/v1/metrics/", HTTP_X_REQUEST_ID="0f1e2d3c4b5a69788796a5b4c3d2e1f0")
    assert response["X-Request-ID"] == "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


@pytest.mark.parametrize("incoming", [None, "", "short", "a b c d e f g h", "x" * 200, "é" * 10])
def test_other_request_ids_are_replaced_by_a_generated_one(client, incoming):
    extra = {"HTTP_X_REQUEST_ID": incoming} if incoming is not None else {}
    response = client.get("/api/v1/metrics/", **extra)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert response["X-Request-ID"] != incoming


def test_request_ids_differ_between_requests(client):
    first = client.get("/api/v1/metrics/")["X-Request-ID"]
    second = client.get("/api/v1/metrics/")["X-Request-ID"]
    assert first != second


def test_request_id_from():
    assert request_id_from("req-12345678") == "req-12345678"
    assert request_id_from("bad\nid-12345678") != "bad\nid-12345678"


def test_the_lines_of_a_request_carry_its_id_and_user(client, world, log_lines):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(world.users["member"])
    # 404 for an object of another organization: django.request logs it after the view.
    response = api.get(f"/api/v1/scans/{world.scan_b.pk}/", HTTP_X_REQUEST_ID="req-abcdef012345")
    assert response.status_code == 404
    (line,) = [x for x in log_lines() if x["logger"] == "django.request"]
    assert line["request_id"] == "req-abcdef012345"
    assert line["user_id"] == world.users["member"].pk
    assert line["scan_id"] == world.scan_b.pk
    assert line["status_code"] == 404
    # The context ends with the request.
    logging.getLogger("seculite.test").warning("between requests")
    assert "request_id" not in log_lines()[-1]


def test_a_failed_login_logs_neither_the_body_nor_the_password(client, log_lines):
    from apps.users.tests.factories import UserFactory

    UserFactory(username="ann")
    password = "Wrong-Passw0rd-7f3a9c"
    response = client.post(
        "/api/v1/auth/login/",
        {"username": "ann", "password": password},
        content_type="application/json",
        HTTP_X_REQUEST_ID="req-login-0001",
    )
    assert response.status_code == 400
    lines = log_lines()
    request_lines = [x for x in lines if x["logger"] == "django.request"]
    assert request_lines and request_lines[0]["message"] == "Bad Request: /api/v1/auth/login/"
    assert all(x.get("request_id") == "req-login-0001" for x in request_lines)
    assert password not in json.dumps(lines)


def test_route_templates_are_patterns_not_paths(client, world):
    from django.urls import resolve

    class Request:
        pass

    request = Request()
    request.resolver_match = resolve(f"/api/v1/projects/{world.project_a.pk}/targets/")
    assert route_template(request, 200) == "/api/v1/projects/{project_pk}/targets/"
    request.resolver_match = resolve(f"/api/v1/scans/{world.scan_a.pk}/")
    assert route_template(request, 200) == "/api/v1/scans/{pk}/"
    request.resolver_match = resolve("/api/v1/webhooks/scans/s3cr3t-token/")
    assert route_template(request, 202) == "/api/v1/webhooks/scans/{token}/"
    request.resolver_match = None
    assert route_template(request, 404) == "unmatched"
    assert route_template(request, 301) == "other"


def test_requests_are_counted_by_method_route_and_status(client):
    from apps.core.metrics import HTTP_LATENCY, HTTP_REQUESTS

    def count(route, status):
        return HTTP_REQUESTS.labels("GET", route, status)._value.get()

    before = count("/api/v1/health/", "401"), count("unmatched", "404")
    client.get("/api/v1/nothing-here/")
    client.get("/api/v1/nothing-here/again/")
    assert count("unmatched", "404") == before[1] + 2
    latency = HTTP_LATENCY.labels("GET", "unmatched", "404")
    assert latency._sum.get() > 0
