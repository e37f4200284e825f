"""Structured logs: the JSON and plain formats, the context of requests and Celery tasks, and the
masking of secrets."""

import io
import json
import logging

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.core import logs


@pytest.fixture
def capture():
    """A handler set up like the production console handler, on a logger of its own."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.ContextFilter())
    handler.addFilter(logs.RedactingFilter())
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("seculite.test.capture")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    token = logs.replace()

    def lines():
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield logger, lines
    logs.reset(token)
    logger.removeHandler(handler)


def test_a_json_line_has_the_base_fields_and_only_the_context_that_applies(capture):
    logger, lines = capture
    logger.info("plain %s", "message")
    with logs.bound(request_id="r-12345678", scan_id=7):
        logger.warning("inside")
    first, second = lines()
    assert first["message"] == "plain message"
    assert first["level"] == "INFO" and first["logger"] == "seculite.test.capture"
    assert first["timestamp"].endswith("Z") and "T" in first["timestamp"]
    assert "request_id" not in first and "scan_id" not in first
    assert second["request_id"] == "r-12345678" and second["scan_id"] == 7
    assert second["level"] == "WARNING"


def test_extra_fields_are_kept_but_arbitrary_record_attributes_are_not(capture):
    logger, lines = capture

    class Request:
        body = b"password=hunter2"

    logger.warning("Bad Request: /x", extra={"status_code": 400, "request": Request()})
    (line,) = lines()
    assert line["status_code"] == 400
    assert "request" not in line
    assert "hunter2" not in json.dumps(line)


def test_exceptions_are_one_line_of_json_and_redacted(capture):
    logger, lines = capture
    try:
        raise ValueError("clone of https://bob:pa55word@git.example.org/a.git failed")
    except ValueError:
        logger.exception("tool crashed")
    (line,) = lines()
    assert "Traceback" in line["exception"] and "ValueError" in line["exception"]
    assert "pa55word" not in line["exception"]
    assert "https://bob:***@git.example.org" in line["exception"]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Token slk_AbCdEf0123456789xyz", "AbCdEf0123456789xyz"),
        ("{'HTTP_AUTHORIZATION': 'Token abcdef0123456789', 'PATH_INFO': '/'}", "abcdef0123456789"),
        ("user token slt_Zm9vYmFyYmF6cXV4 expired", "Zm9vYmFyYmF6cXV4"),
        ("POST body password=Hunter2Hunter2&username=ann", "Hunter2Hunter2"),
        ('{"username": "ann", "password": "S3cret-Pw!"}', "S3cret-Pw!"),
        ("Cookie: sessionid=0123abcdsessionvalue; csrftoken=zz", "0123abcdsessionvalue"),
        ("sessionid=0123abcdsessionvalue", "0123abcdsessionvalue"),
        ("git clone https://user:tok3n-value@git.example.org/x.git", "tok3n-value"),
        ("POST /api/v1/webhooks/scans/WhTok3nValue123/ 202", "WhTok3nValue123"),
        ("Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc123", "eyJhbGciOiJIUzI1NiJ9"),
        ("api_key=k3y-value-123", "k3y-value-123"),
    ],
)
def test_redaction_masks_known_secret_shapes(text, secret):
    masked = logs.redact(text)
    assert secret not in masked
    assert logs.MASK in masked


def test_redaction_leaves_ordinary_text_alone():
    for text in (
        "Token authentication failed for user 4",
        "scan 12 finished: completed",
        "detect-secrets: 3 findings",
        "Invalid username or password.",
    ):
        assert logs.redact(text) == text


def test_the_redacting_filter_masks_arguments_before_formatting(capture):
    logger, lines = capture
    logger.info("headers %s", {"Authorization": "Token slk_AbCdEf0123456789"})
    (line,) = lines()
    assert "AbCdEf0123456789" not in line["message"]
    assert "slk_***" in line["message"] or "'Authorization': '***'" in line["message"]


def test_user_id_comes_from_a_user_already_loaded_and_never_triggers_a_lookup(capture):
    from django.contrib.auth.models import AnonymousUser
    from django.utils.functional import SimpleLazyObject

    logger, lines = capture

    class Request:
        pass

    class User:
        pk = 42
        is_authenticated = True

    loaded = Request()
    loaded.user = User()
    lazy = Request()
    calls = []
    lazy.user = SimpleLazyObject(lambda: calls.append(1) or User())
    anonymous = Request()
    anonymous.user = AnonymousUser()
    for request in (loaded, lazy, anonymous):
        with logs.bound(request=request):
            logger.info("x")
    assert [line.get("user_id") for line in lines()] == [42, None, None]
    assert calls == [], "logging evaluated the lazy user"


def test_plain_format_is_one_readable_line_with_the_context():
    record = logging.LogRecord("seculite.scans", logging.INFO, __file__, 1, "scan %s", (3,), None)
    with logs.bound(scan_id=3, task_id="abc"):
        logs.ContextFilter().filter(record)
    text = logs.PlainFormatter().format(record)
    assert text.endswith("INFO seculite.scans scan 3 [scan_id=3 task_id=abc]")


def test_logging_config_refuses_an_unknown_format():
    with pytest.raises(ImproperlyConfigured, match="SECULITE_LOG_FORMAT"):
        logs.logging_config(log_format="xml")


def test_production_settings_default_to_json_and_base_to_plain(tmp_path):
    import subprocess
    import sys

    from django.conf import settings

    probe = (
        "from django.conf import settings; "
        "print(settings.SECULITE_LOG_FORMAT, settings.LOGGING['handlers']['console']['formatter'])"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SECRET_KEY": "x" * 60,
        "SECULITE_VAR_DIR": str(tmp_path),
    }
    answers = {}
    for module in ("production", "local"):
        done = subprocess.run(
            [sys.executable, "-c", probe],
            cwd=settings.BACKEND_DIR,
            env={**env, "DJANGO_SETTINGS_MODULE": f"seculite_api.settings.{module}"},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        answers[module] = done.stdout.split()
    assert answers == {"production": ["json", "json"], "local": ["plain", "plain"]}


# --- Celery ------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_task_about_a_scan_logs_with_its_task_and_scan_ids(capture, world):
    """task_prerun/postrun (eager here, as in a worker): every line of the task carries its
    task id, and the scan it is about, found from a tool result id too."""
    from apps.scans.tasks import scans_queue_probe, tool_run

    logger, lines = capture
    task_logger = logging.getLogger("seculite.tasks")
    handler = logger.handlers[0]
    task_logger.addHandler(handler)
    try:
        with logs.bound(request_id="req-0123456789"):
            # The tool result of the world is already running elsewhere: the task only logs.
            tool_run.apply(args=(world.result_a.pk,), task_id="task-1")
            scans_queue_probe.apply(args=("probe",), task_id="task-2")
        logger.info("after the tasks")
    finally:
        task_logger.removeHandler(handler)
    started = [line for line in lines() if line["message"] == "task started"]
    assert [(s["task_id"], s.get("scan_id"), s.get("tool_result_id")) for s in started] == [
        ("task-1", world.scan_a.pk, world.result_a.pk),
        ("task-2", None, None),
    ]
    assert started[0]["task_name"] == "apps.scans.tasks.tool_run"
    # Sent from a request, a task carries its request id; afterwards the context is back.
    assert {s["request_id"] for s in started} == {"req-0123456789"}
    after = lines()[-1]
    assert "task_id" not in after and "request_id" not in after


def test_task_scan_fields_by_argument_name():
    class Task:
        name = "apps.findings.jobs.imports.report_import_process"

        def run(self, scan_id):
            pass

    assert logs.task_scan_fields(Task(), (12,), {}) == {"scan_id": 12}
    assert logs.task_scan_fields(Task(), (), {"scan_id": 5}) == {"scan_id": 5}

    class Other:
        name = "apps.core.tasks.beat_heartbeat"

        def run(self):
            pass

    assert logs.task_scan_fields(Other(), (), {}) == {}


def test_tasks_sent_during_a_request_carry_its_request_id():
    headers = {}
    with logs.bound(request_id="req-abcdef0123"):
        logs.celery_task_publishing(headers=headers)
    logs.celery_task_publishing(headers=(outside := {}))
    assert headers == {"seculite_request_id": "req-abcdef0123"}
    assert outside == {}
