"""Logs, metrics and scaling out on the real path: Gunicorn (two workers, recycled every 20
requests), two Celery workers with their own node names and beat, started through entrypoint.sh
with the production settings, on PostgreSQL and Redis, running real scanners.

- Every line every process writes is a JSON object with timestamp, level, logger and message;
  a scan's lines carry its scan id, a request's lines the id returned in X-Request-ID; none of
  the test's own secrets (password, login token, API key, session id, a failed login's
  password, the secrets planted in the scanned code) is in any log.
- /api/v1/metrics/ counts every request exactly, whichever Gunicorn worker answered and however
  often the workers were replaced, and follows a scan through its lifecycle.
- Scans spread over both workers and no tool run runs twice."""

import http.cookiejar
import json
import re
import secrets
import shutil
import string
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from prometheus_client.parser import text_string_to_metric_families

from apps.tools.tests.helpers import SAMPLE_APP, require_tool
from tests.live import LiveStack, create_database, drop_database, redis_database, stack_env

pytestmark = pytest.mark.stack

BASE_FIELDS = {"timestamp", "level", "logger", "message"}
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def planted_secrets() -> dict[str, str]:
    """Fresh secrets for the scanned code: detect-secrets and bandit both report them."""
    alphabet = string.ascii_uppercase + string.digits
    return {
        "aws_key": "AKIA" + "".join(secrets.choice(alphabet) for _ in range(16)),
        "password": "pw-" + secrets.token_hex(12),
    }


@pytest.fixture(scope="module")
def live(tmp_path_factory, postgres_params, redis_url):
    for slug in ("bandit", "detect-secrets"):
        require_tool(slug)
    tmp = tmp_path_factory.mktemp("observability")
    sample = tmp / "roots" / "sample"
    shutil.copytree(SAMPLE_APP, sample)
    planted = planted_secrets()
    (sample / "app" / "credentials.py").write_text(
        f'AWS_ACCESS_KEY_ID = "{planted["aws_key"]}"\nSMTP_PASSWORD = "{planted["password"]}"\n'
    )
    database = create_database(postgres_params)
    env = stack_env(
        tmp=tmp,
        postgres_params=postgres_params,
        database=database,
        broker_url=redis_database(redis_url, int(urlparse(redis_url).path.strip("/") or 0)),
        SECULITE_SCAN_ROOTS=str(tmp / "roots"),
        GUNICORN_MAX_REQUESTS="20",
        GUNICORN_MAX_REQUESTS_JITTER="0",
    )
    assert "SECULITE_LOG_FORMAT" not in env, "JSON must be the production default"
    # Only the two scanners used here: migrate's version detection of the others takes minutes
    # on a busy host.
    tools = tmp / "tools"
    tools.mkdir()
    for slug in ("bandit", "detect-secrets"):
        (tools / slug).symlink_to(Path(env["SECULITE_TOOLS_DIR"]) / slug)
    env["SECULITE_TOOLS_DIR"] = str(tools)
    stack = LiveStack(tmp, env)
    stack.planted = planted
    stack.metrics_dir = tmp / "var" / "metrics"
    try:
        stack.migrate()
        stack.start(workers=2, beat=True)
        stack.sign_up("observer")
        status, project = stack.api("POST", "/api/v1/projects/", {"name": "Observed"})
        assert status == 201, project
        stack.project = project["id"]
        status, target = stack.api(
            "POST",
            f"/api/v1/projects/{stack.project}/targets/",
            {"name": "sample", "asset_type": "git_repository", "identifier": str(sample)},
        )
        assert status == 201, target
        stack.target = target["id"]
        yield stack
    finally:
        stack.stop()
        drop_database(postgres_params, database)


def call(stack, method, path, body=None, *, headers=None, opener=None, token=None):
    """(status, response headers, parsed body) of one request."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(stack.base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Token {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with (opener or urllib.request.build_opener()).open(request, timeout=30) as resp:
            raw, status, answer = resp.read(), resp.status, resp.headers
    except urllib.error.HTTPError as err:
        raw, status, answer = err.read(), err.code, err.headers
    content_type = answer.get("Content-Type", "")
    parsed = json.loads(raw) if raw and content_type.startswith("application/json") else raw
    return status, answer, parsed


def configure_and_launch(stack, name, tools, **headers):
    status, config = stack.api(
        "POST",
        f"/api/v1/projects/{stack.project}/scanconfigurations/",
        {
            "name": name,
            "target_assets": [stack.target],
            "tools_and_configs": [{"tool_id": t} for t in tools],
        },
    )
    assert status == 201, config
    path = f"/api/v1/projects/{stack.project}/scanconfigurations/{config['id']}/launch/"
    status, answer, scan = call(stack, "POST", path, token=stack.token, headers=headers)
    assert status == 202, scan
    return scan, answer


def log_lines(stack) -> dict[str, list[dict]]:
    """Every line of every process, parsed; fails on the first line that is not a JSON object
    with the base fields."""
    parsed = {}
    for proc in stack.group.procs:
        lines = []
        for number, raw in enumerate(proc.output().splitlines(), 1):
            try:
                line = json.loads(raw)
            except ValueError:
                raise AssertionError(f"{proc.name} line {number} is not JSON: {raw!r}") from None
            assert isinstance(line, dict), (proc.name, number, raw)
            missing = BASE_FIELDS - set(line)
            assert not missing, f"{proc.name} line {number} lacks {missing}: {raw}"
            assert TIMESTAMP.fullmatch(line["timestamp"]), raw
            lines.append(line)
        parsed[proc.name] = lines
    return parsed


def scrape(stack) -> dict:
    status, headers, body = call(stack, "GET", "/api/v1/metrics/")
    assert status == 200, body
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def sample(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_logs_are_json_with_request_and_scan_ids_and_no_secrets(live):
    started = time.monotonic()
    secrets_used = dict(live.planted)
    secrets_used["password"] = "Live-Stack-Passw0rd!"  # LiveStack.sign_up's
    secrets_used["login_token"] = live.token
    secrets_used["planted_password"] = live.planted["password"]

    # An API key, used for a request.
    status, _, body = call(live, "POST", "/api/v1/auth/userprofile/api-key/", token=live.token)
    assert status == 201, body
    secrets_used["api_key"] = body["key"]
    status, key_answer, _ = call(live, "GET", "/api/v1/projects/", token=body["key"])
    assert status == 200
    # A session: log in with the password, then use the cookie.
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    status, _, _ = call(
        live,
        "POST",
        "/api/v1/auth/login/",
        {"username": "observer", "password": secrets_used["password"]},
        opener=browser,
    )
    assert status == 200
    session = next(c.value for c in jar if c.name == "sessionid")
    secrets_used["session_id"] = session
    status, session_answer, me = call(live, "GET", "/api/v1/auth/user/", opener=browser)
    assert status == 200 and me["username"] == "observer"
    # A failed login with a known password.
    wrong = "Wrong-" + secrets.token_hex(10)
    secrets_used["wrong_password"] = wrong
    status, failed_answer, _ = call(
        live,
        "POST",
        "/api/v1/auth/login/",
        {"username": "observer", "password": wrong},
        headers={"X-Request-ID": "failed-login-0001"},
    )
    assert status == 400
    assert failed_answer["X-Request-ID"] == "failed-login-0001"
    # An unusable incoming request id is replaced.
    _, replaced, _ = call(live, "GET", "/api/v1/health/", headers={"X-Request-ID": "bad id"})
    assert re.fullmatch(r"[0-9a-f]{32}", replaced["X-Request-ID"])

    # A full scan that finds the planted secrets.
    scan, launch_answer = configure_and_launch(
        live, "logged", ["bandit", "detect-secrets"], **{"X-Request-ID": "launch-req-000001"}
    )
    final = live.wait_scan(scan["id"], timeout=120)
    assert final["status"] == "completed", final
    status, findings = live.api("GET", f"/api/v1/findings/?scan_id={scan['id']}&page_size=500")
    assert status == 200, findings
    found = {(f["tool_id"], f["rule_id"], f["file_path"]) for f in findings["results"]}
    assert ("detect-secrets", "AWS Access Key", "app/credentials.py") in found, found
    assert ("bandit", "B105", "app/credentials.py") in found, found
    # The scanner's raw output holds the planted password (it must stay out of the logs).
    bandit = next(r for r in final["tool_results"] if r["tool_id"] == "bandit")
    raw_path = f"/api/v1/scans/{scan['id']}/toolresults/{bandit['id']}/raw/"
    status, _, raw = call(live, "GET", raw_path, token=live.token)
    assert status == 200
    assert live.planted["password"] in (raw.decode() if isinstance(raw, bytes) else json.dumps(raw))

    # (a) every line of every process is JSON with the base fields.
    lines = log_lines(live)
    assert set(lines) == {"web", "beat", *(f"worker-{name}" for name in live.workers)}
    every = [line for proc in lines.values() for line in proc]
    web = lines["web"]

    # (b) requests: an access line per request with the id the response returned, and the user.
    access = {line["request_id"]: line for line in web if line["logger"] == "gunicorn.access"}
    for answer, path in (
        (key_answer, "/api/v1/projects/"),
        (session_answer, "/api/v1/auth/user/"),
        (failed_answer, "/api/v1/auth/login/"),
        (replaced, "/api/v1/health/"),
        (launch_answer, f"/api/v1/projects/{live.project}/scanconfigurations/"),
    ):
        line = access[answer["X-Request-ID"]]
        assert line["path"].startswith(path), line
        assert line["status"] == int(line["message"].split()[-1])
    assert access[key_answer["X-Request-ID"]]["user_id"] == me["id"]
    assert access[session_answer["X-Request-ID"]]["user_id"] == me["id"]
    rejected = [line for line in web if line["logger"] == "django.request"]
    assert any(
        line["request_id"] == "failed-login-0001" and line["status_code"] == 400
        for line in rejected
    ), rejected
    # Gunicorn's own lines are JSON too.
    assert any(line["logger"] == "gunicorn.error" for line in web)

    # (b) the scan: its tasks' lines carry its id, from the request that launched it on.
    ours = [line for line in every if line.get("scan_id") == scan["id"]]
    starts = [line for line in ours if line["message"] == "task started"]
    names = sorted(line["task_name"] for line in starts)
    # Its start, both tool runs, and what follows it (the notifications of its end).
    assert names.count("apps.scans.tasks.scan_start") == 1, names
    assert names.count("apps.scans.tasks.tool_run") == 2, names
    assert {line["request_id"] for line in starts} == {"launch-req-000001"}
    assert any(line["message"] == f"scan {scan['id']} finished: completed" for line in ours)
    task_ids = {line["task_id"] for line in starts}
    pids = {line["pid"] for line in starts}
    for line in every:
        if line.get("task_id") in task_ids and line["pid"] in pids:
            assert line.get("scan_id") == scan["id"], line

    # (c) no secret of this test anywhere in the logs.
    everything = "\n".join(proc.output() for proc in live.group.procs)
    leaked = {name: value for name, value in secrets_used.items() if value in everything}
    assert not leaked, f"secrets in the logs: {sorted(leaked)}"
    assert time.monotonic() - started < 90


def test_metrics_count_every_request_across_recycled_workers_and_follow_a_scan(live):
    started = time.monotonic()
    csrf = {"method": "GET", "route": "/api/v1/auth/csrf/", "status": "204"}
    before = scrape(live)
    requests_before = sample(before, "seculite_http_requests_total", **csrf)
    completed_before = sample(before, "seculite_scans", trigger="api", status="completed")
    bandit_runs_before = sample(before, "seculite_tool_run_duration_seconds_count", tool="bandit")
    pids = set()
    for _ in range(60):
        status, _, _ = call(live, "GET", "/api/v1/auth/csrf/")
        assert status == 204
    for line in log_lines(live)["web"]:
        if line["logger"] == "gunicorn.error" and line["message"].startswith("Booting worker"):
            pids.add(line["pid"])
    after = scrape(live)
    # Exactly the 60 requests, although Gunicorn replaced its workers on the way (20 requests
    # each) and the scrape was answered by whichever worker.
    assert sample(after, "seculite_http_requests_total", **csrf) - requests_before == 60
    assert len(pids) >= 4, f"workers were not recycled: {pids}"
    assert sample(after, "seculite_http_request_duration_seconds_count", **csrf) >= 60
    # Exited workers' files were merged: the live workers' and the archives, no pile-up.
    files = sorted(p.name for p in live.metrics_dir.glob("*.db"))
    assert {"counter_archive.db", "histogram_archive.db"} <= set(files), files
    assert len(files) <= 2 + 2 * 2, files
    for queue in ("default", "scans"):
        assert ("seculite_celery_queue_length", (("queue", queue),)) in after
    assert ("seculite_celery_unacked_tasks", ()) in after

    # A scan's lifecycle: queued or running, then completed; its tool run's duration counted.
    scan, _ = configure_and_launch(live, "measured", ["bandit"])
    during = scrape(live)
    states = ("queued", "running", "completed")
    seen = sum(sample(during, "seculite_scans", trigger="api", status=s) for s in states)
    assert seen == completed_before + 1, during
    assert live.wait_scan(scan["id"], timeout=60)["status"] == "completed"
    done = scrape(live)
    assert sample(done, "seculite_scans", trigger="api", status="completed") == completed_before + 1
    assert sample(done, "seculite_scans", trigger="api", status="running") == 0
    assert (
        sample(done, "seculite_tool_run_duration_seconds_count", tool="bandit")
        == bandit_runs_before + 1
    )
    assert sum(v for (n, _), v in done.items() if n == "seculite_findings") > 0
    assert time.monotonic() - started < 60


def test_scans_spread_over_two_workers_and_no_tool_run_runs_twice(live):
    started = time.monotonic()
    assert len(live.workers) == 2
    scans = [configure_and_launch(live, f"spread {i}", ["bandit"])[0] for i in range(8)]
    results = []
    for scan in scans:
        final = live.wait_scan(scan["id"], timeout=90)
        assert final["status"] == "completed", final
        results += final["tool_results"]
    assert len(results) == 8
    # Each ran once, on a worker of this stack.
    assert [r["attempts"] for r in results] == [1] * 8
    by_worker = {}
    for result in results:
        node = result["worker"].split("@", 1)[0]
        assert node in live.workers, result["worker"]
        by_worker.setdefault(node, []).append(result["id"])
    assert len(by_worker) == 2, f"one worker ran everything: {by_worker}"
    # The logs agree: one start per tool result, in the log of the worker the row names.
    lines = log_lines(live)
    for node, result_ids in by_worker.items():
        for result_id in result_ids:
            starts = [
                (proc, line)
                for proc, proc_lines in lines.items()
                for line in proc_lines
                if line["message"] == "task started" and line.get("tool_result_id") == result_id
            ]
            assert [proc for proc, _ in starts] == [f"worker-{node}"], starts
    assert time.monotonic() - started < 60


def test_rundev_writes_json_lines_when_asked(tmp_path):
    """`make dev` on the embedded database and broker with SECULITE_LOG_FORMAT=json: web
    (runserver), worker and beat lines all come out as JSON on stdout; only the generated
    administrator password goes to stderr."""
    import os
    import signal
    import subprocess
    import sys

    from tests.processes import BACKEND_DIR, base_env, free_port, http_get, wait_for

    started = time.monotonic()
    tools = tmp_path / "tools"
    tools.mkdir()
    port = free_port()
    env = base_env(
        DJANGO_SETTINGS_MODULE="seculite_api.settings.local",
        SECULITE_VAR_DIR=str(tmp_path / "var"),
        SECULITE_TOOLS_DIR=str(tools),  # no scanner: sync_tools is quick
        SECULITE_BEAT_HEARTBEAT_SECONDS="1",
        SECULITE_LOG_FORMAT="json",
    )
    out, err = (tmp_path / "stdout.log").open("wb"), (tmp_path / "stderr.log").open("wb")
    dev = subprocess.Popen(
        [sys.executable, "manage.py", "rundev", "--port", str(port)],
        cwd=BACKEND_DIR,
        env=env,
        stdout=out,
        stderr=err,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            lambda: (a := http_get(f"{base}/api/v1/health/", timeout=5)).status == 200
            and a.json()["beat_last_seen"],
            timeout=120,
            what="health with beat's heartbeat",
        )
        request = urllib.request.Request(
            f"{base}/api/v1/auth/csrf/", headers={"X-Request-ID": "rundev-request-01"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.headers["X-Request-ID"] == "rundev-request-01"
    finally:
        dev.send_signal(signal.SIGINT)
        try:
            code = dev.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(dev.pid, signal.SIGKILL)
            dev.wait()
            raise
    assert code == 0, (tmp_path / "stderr.log").read_text()[-3000:]
    lines = []
    for raw in (tmp_path / "stdout.log").read_text().splitlines():
        line = json.loads(raw)  # fails on any line that is not JSON
        assert BASE_FIELDS <= set(line), raw
        lines.append(line)
    loggers = {line["logger"] for line in lines}
    # The web server's request lines, Celery's (worker and beat) and rundev's own.
    assert {"django.server", "seculite.rundev", "celery.beat"} <= loggers, loggers
    assert any(name.startswith("celery.worker") or name == "celery.apps.worker" for name in loggers)
    served = [line for line in lines if line.get("request_id") == "rundev-request-01"]
    assert served and served[-1]["logger"] == "django.server", served
    assert "password:" in (tmp_path / "stderr.log").read_text()
    assert time.monotonic() - started < 120
