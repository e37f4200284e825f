"""Every API error has the shape {"detail", "errors", "error_code"}."""

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.urls("apps.core.tests.urls")]

SHAPE = {"detail", "errors", "error_code"}


def test_validation_errors_are_per_field(client):
    response = client.post(
        "/api/v1/echo/",
        {"name": "too long", "count": 0, "items": [1, "x"]},
        content_type="application/json",
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body) == SHAPE
    assert body["detail"] == "Invalid input."
    assert body["error_code"] == "max_length"
    assert body["errors"]["name"] == ["Ensure this field has no more than 5 characters."]
    assert body["errors"]["count"] == ["Ensure this value is greater than or equal to 1."]
    assert body["errors"]["items.1"] == ["A valid integer is required."]


def test_missing_fields_are_named(client):
    response = client.post("/api/v1/echo/", {}, content_type="application/json")
    body = response.json()
    assert response.status_code == 400
    assert body["error_code"] == "required"
    assert set(body["errors"]) == {"name", "count", "items"}


def test_non_field_error_becomes_the_detail(client):
    body = client.post("/api/v1/nonfield/", {}, content_type="application/json").json()
    assert body["detail"] == "The two dates are in the wrong order."
    assert body["errors"] == {"non_field_errors": ["The two dates are in the wrong order."]}


def test_malformed_json_is_a_parse_error(client):
    response = client.post("/api/v1/echo/", "{not json", content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == SHAPE and body["error_code"] == "parse_error"


@pytest.mark.parametrize("depth", [100_000, 2_000])
def test_json_nested_too_deeply_is_a_parse_error(client, depth):
    """Python's decoder gives up with a RecursionError, which DRF's parser let through (500)."""
    response = client.post(
        "/api/v1/echo/", b"[" * depth + b"]" * depth, content_type="application/json"
    )
    assert response.status_code == 400
    assert set(response.json()) == SHAPE
    assert response.json()["error_code"] == "parse_error"


def test_authentication_required(client):
    response = client.get("/api/v1/private/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "detail": "Authentication credentials were not provided.",
        "errors": {},
        "error_code": "not_authenticated",
    }


def test_method_not_allowed(client):
    response = client.delete("/api/v1/echo/")
    assert response.status_code == 405
    assert response.json()["error_code"] == "method_not_allowed"


def test_unknown_api_url_is_json_404(client):
    response = client.get("/api/v1/does-not-exist/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found.", "errors": {}, "error_code": "not_found"}


def test_unexpected_error_is_500_without_internals(client):
    response = client.get("/api/v1/broken/")
    assert response.status_code == 500
    body = response.json()
    assert body == {"detail": "Internal server error.", "errors": {}, "error_code": "server_error"}
    assert b"secret internal detail" not in response.content


def test_database_failure_is_503_without_internals(client):
    response = client.get("/api/v1/dbdown/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.json()
    assert body["error_code"] == "service_unavailable"
    assert b"hunter2" not in response.content


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("data", 400, "invalid"),
        ("integrity", 409, "conflict"),
        ("programming", 500, "server_error"),
    ],
)
def test_database_errors_that_are_not_an_outage(client, kind, status, code):
    """Only an unavailable database is a 503: a refused value is the request's fault, a unique
    conflict is a 409, and a programming error is a bug (500, logged with its stack)."""
    response = client.get(f"/api/v1/dbrefuses/?kind={kind}")
    assert response.status_code == status
    assert response.json()["error_code"] == code
    assert b"hunter2" not in response.content
    assert "Retry-After" not in response


def test_too_many_form_fields_is_a_parse_error(client):
    """Found by schemathesis (verify/test_fuzz.py): a form body of more than
    DATA_UPLOAD_MAX_NUMBER_FIELDS fields raised Django's TooManyFieldsSent inside the view,
    answered 500."""
    body = "&".join(f"items={i}" for i in range(1500))
    response = client.post("/api/v1/echo/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    answer = response.json()
    assert set(answer) == SHAPE and answer["error_code"] == "parse_error"
    assert "Traceback" not in response.content.decode()


def test_a_body_past_the_memory_limit_is_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = client.post(
        "/api/v1/echo/", '{"name": "' + "x" * 4096 + '"}', content_type="application/json"
    )
    assert response.status_code == 413
    answer = response.json()
    assert set(answer) == SHAPE and answer["error_code"] == "request_too_large"
