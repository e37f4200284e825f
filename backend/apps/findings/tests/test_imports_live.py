"""Imports on the real path: a multipart upload through Gunicorn, a real Celery worker (and beat
with its reaper) on PostgreSQL and Redis. A generated Bandit report of 20,000 findings, its
reimport with 50% overlap, a real SARIF log, a bad report, and the upload limit."""

import http.client
import json
import uuid
from pathlib import Path

import pytest

from tests.live import LiveStack, create_database, drop_database, redis_database, stack_env

from .import_helpers import CORPUS

pytestmark = pytest.mark.stack


def write_bandit_report(path: Path, count: int, first: int = 0) -> Path:
    """The benchmark's generator (bench/bench_import.py), one line per finding."""
    from bench.bench_import import bandit_result

    with path.open("w") as out:
        results = ",\n".join(json.dumps(bandit_result(i)) for i in range(first, first + count))
        out.write(f'{{"errors": [], "generated_at": "x", "metrics": {{}}, "results": [{results}]}}')
    return path


def post_file(stack: LiveStack, project: int, path: Path, **fields) -> tuple[int, dict]:
    boundary = uuid.uuid4().hex
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"'
        "\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=120)
    connection.putrequest("POST", f"/api/v1/projects/{project}/imports/")
    connection.putheader("Authorization", f"Token {stack.token}")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(len(head) + path.stat().st_size + len(tail)))
    connection.endheaders()
    try:
        connection.send(head)
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                connection.send(chunk)
        connection.send(tail)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered (413) before the body was sent
    response = connection.getresponse()
    body = json.loads(response.read() or b"{}")
    connection.close()
    return response.status, body


@pytest.fixture(scope="module")
def live(tmp_path_factory, postgres_params, redis_url):
    tmp = tmp_path_factory.mktemp("imports-live")
    database = create_database(postgres_params)
    env = stack_env(
        tmp=tmp,
        postgres_params=postgres_params,
        database=database,
        broker_url=redis_database(redis_url, 13),
        SECULITE_MAX_UPLOAD_MB="20",
        SECULITE_REAPER_SECONDS="2",
    )
    stack = LiveStack(tmp, env)
    try:
        stack.migrate()
        stack.start(workers=1, beat=True)
        stack.sign_up("importer")
        status, project = stack.api("POST", "/api/v1/projects/", {"name": "Imports"})
        assert status == 201, project
        stack.project = project["id"]
        stack.tmp = tmp
        yield stack
    finally:
        stack.stop()
        drop_database(postgres_params, database)


def test_a_big_report_its_reimport_and_the_lifecycle(live):
    first = write_bandit_report(live.tmp / "bandit-a.json", 20_000)
    status, body = post_file(live, live.project, first)
    assert status == 202, body
    assert body["trigger_type"] == "import"
    scan = live.wait_scan(body["id"], timeout=180)
    assert scan["status"] == "completed", scan
    assert scan["summary"]["total"] == 20_000
    assert scan["summary"]["new"] == 20_000
    (result,) = scan["tool_results"]
    assert (result["tool_id"], result["findings_count"]) == ("bandit", 20_000)

    overlap = write_bandit_report(live.tmp / "bandit-b.json", 20_000, first=10_000)
    status, body = post_file(live, live.project, overlap)
    assert status == 202, body
    scan = live.wait_scan(body["id"], timeout=180)
    assert scan["status"] == "completed", scan
    assert scan["summary"]["new"] == 10_000
    assert scan["summary"]["recurring"] == 10_000
    assert scan["summary"]["resolved"] == 10_000


def test_a_real_sarif_log_and_a_bad_report(live):
    status, body = post_file(live, live.project, CORPUS / "good" / "semgrep.sarif")
    assert status == 202, body
    scan = live.wait_scan(body["id"], timeout=120)
    assert scan["status"] == "completed", scan
    assert scan["summary"]["total"] == 27
    assert scan["tool_results"][0]["tool_id"] == "sarif:semgrep-oss"

    status, body = post_file(live, live.project, CORPUS / "bad" / "billion-laughs.xml")
    assert status == 202, body
    scan = live.wait_scan(body["id"], timeout=120)
    assert scan["status"] == "failed"
    assert scan["tool_results"][0]["error_message"].startswith("Import failed: ")
    assert scan["summary"]["total"] == 0


def test_an_upload_over_the_limit_is_413_through_gunicorn(live):
    big = live.tmp / "big.json"
    with big.open("wb") as out:
        out.write(b'{"results": [' + b"1," * (11 * 1024 * 1024) + b"1]}")
    status, body = post_file(live, live.project, big)
    assert status == 413, body
    assert body["error_code"] == "file_too_large"
    status, listing = live.api("GET", f"/api/v1/projects/{live.project}/imports/")
    assert status == 200
    assert all(row["size_bytes"] < 20 * 1024 * 1024 for row in listing["results"])
    assert live.api("GET", "/api/v1/health/", auth=False)[0] == 200
