"""Notifications on the real path: Gunicorn, a real Celery worker and beat, PostgreSQL and Redis.
A real scan ends; the worker e-mails the analyst through SMTP (a local SMTP sink) and delivers
the project's webhook to a local receiver, which fails the first attempt; beat's retry task
sends it again, signed."""

import hashlib
import hmac
import json
import shutil
import socketserver
import threading
import time

import pytest

from apps.findings.tests.reporting import Receiver
from apps.tools.tests.helpers import SAMPLE_APP, require_tool
from tests.live import LiveStack, create_database, drop_database, redis_database, stack_env

pytestmark = pytest.mark.stack


class SmtpSink:
    """Just enough SMTP to receive messages (no TLS, no auth), on 127.0.0.1."""

    def __init__(self):
        self.messages: list[dict] = []
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, text: str) -> None:
                self.wfile.write(text.encode() + b"\r\n")

            def handle(self):
                self.reply("220 sink ESMTP")
                recipients: list[str] = []
                while line := self.rfile.readline():
                    command = line.decode("utf-8", "replace").strip()
                    verb = command.upper()
                    if verb.startswith(("EHLO", "HELO")):
                        self.reply("250 sink")
                    elif verb.startswith("RCPT TO:"):
                        recipients.append(command[8:].strip().strip("<>"))
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 end with .")
                        lines = []
                        while (data := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                            lines.append(data)
                        sink.messages.append(
                            {"to": recipients, "data": b"".join(lines).decode("utf-8", "replace")}
                        )
                        recipients = []
                        self.reply("250 queued")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:  # MAIL FROM, RSET, NOOP
                        self.reply("250 OK")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def services():
    receiver, smtp = Receiver(), SmtpSink()
    yield receiver, smtp
    receiver.close()
    smtp.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory, postgres_params, redis_url, services):
    require_tool("bandit")
    _, smtp = services
    tmp = tmp_path_factory.mktemp("live-notify")
    shutil.copytree(SAMPLE_APP, tmp / "roots" / "sample")
    database = create_database(postgres_params)
    env = stack_env(
        tmp=tmp,
        postgres_params=postgres_params,
        database=database,
        broker_url=redis_database(redis_url, 13),
        SECULITE_SCAN_ROOTS=str(tmp / "roots"),
        SECULITE_ALLOWED_PRIVATE_TARGETS="127.0.0.0/8",
        SECULITE_WEBHOOK_RETRY_SECONDS="1",
        SECULITE_WEBHOOK_RETRY_BEAT_SECONDS="2",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp.port),
        EMAIL_USE_TLS="false",
        DEFAULT_FROM_EMAIL="seculite@example.org",
    )
    stack = LiveStack(tmp, env)
    try:
        stack.migrate()
        stack.start(workers=1, beat=True)
        stack.sign_up()
        stack.sample = tmp / "roots" / "sample"
        yield stack
    finally:
        stack.stop()
        drop_database(postgres_params, database)


def wait_until(check, timeout: float, stack, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen within {timeout}s\n" + stack.group.logs())


def test_a_finished_scan_emails_and_delivers_a_signed_webhook_with_a_retry(live, services):
    receiver, smtp = services
    receiver.codes = [500, 200]
    status, project = live.api("POST", "/api/v1/projects/", {"name": "Notified"})
    assert status == 201, project
    base = f"/api/v1/projects/{project['id']}"
    status, target = live.api(
        "POST",
        f"{base}/targets/",
        {"name": "sample", "asset_type": "git_repository", "identifier": str(live.sample)},
    )
    assert status == 201, target
    status, hook = live.api(
        "POST",
        f"{base}/webhooks/",
        {"name": "ci", "url": receiver.url, "events": ["scan_completed"]},
    )
    assert status == 201, hook
    status, config = live.api(
        "POST",
        f"{base}/scanconfigurations/",
        {
            "name": "bandit",
            "target_assets": [target["id"]],
            "tools_and_configs": [{"tool_id": "bandit"}],
        },
    )
    assert status == 201, config
    status, scan = live.api("POST", f"{base}/scanconfigurations/{config['id']}/launch/")
    assert status == 202, scan
    scan = live.wait_scan(scan["id"], timeout=240)
    assert scan["status"] == "completed", scan

    def delivered():
        status, log = live.api("GET", f"{base}/webhooks/{hook['id']}/deliveries/")
        assert status == 200, log
        done = [d for d in log["results"] if d["status"] == "delivered"]
        return done[0] if done else None

    delivery = wait_until(delivered, 90, live, "the webhook delivery")
    assert delivery["attempts"] == 2 and delivery["response_code"] == 200
    assert len(receiver.requests) == 2
    for request in receiver.requests:
        timestamp = request["headers"]["x-seculite-timestamp"]
        mac = hmac.new(
            hook["secret"].encode(), timestamp.encode() + b"." + request["body"], hashlib.sha256
        )
        assert request["headers"]["x-seculite-signature"] == "sha256=" + mac.hexdigest()
        assert json.loads(request["body"])["data"]["scan"]["id"] == scan["id"]

    message = wait_until(
        lambda: next((m for m in smtp.messages if "analyst@example.org" in m["to"]), None),
        60,
        live,
        "the e-mail",
    )
    assert f"Scan #{scan['id']} of Notified completed" in message["data"]
