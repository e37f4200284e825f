"""Hostile API input: schemathesis against the OpenAPI schema that the live stack serves at
/api/v1/schema/, through nginx, every operation, as an organization owner (platform-admin
operations as a staff user) with path ids of objects that exist; and the report upload endpoint
fed hostile multipart bodies on top. No answer may be a 5xx.

Sizes (VERIFY_SCALE): up to 25 cases per mode per operation within about 5 minutes (full); 4
within about 90 s (ci). VERIFY_FUZZ_SEED replays a run. Throttles are raised for this stack
through their settings (SECULITE_THROTTLE_*, SECULITE_LOGIN_FAILURE_LIMIT): otherwise the
public endpoints answer 429 after a few cases and their validation is never reached."""

from __future__ import annotations

import os
import random
import time
from collections import Counter

import pytest
import requests
import schemathesis

from apps.tools.tests.helpers import require_tool
from verify.conftest import scaled
from verify.fuzz_runner import Fuzzer
from verify.fuzz_world import SARIF, build_world

pytestmark = pytest.mark.stack

TOOL = "shellcheck"
EXAMPLES = scaled(4, 25)
BUDGET_S = scaled(90, 300)
SEED = int(os.environ.get("VERIFY_FUZZ_SEED") or random.SystemRandom().randrange(2**32))
UNLIMITED = "100000/min"


@pytest.fixture(scope="module")
def stack(start_nginx_stack):
    require_tool(TOOL)
    with start_nginx_stack(
        "fuzz",
        workers=1,
        beat=False,
        SECULITE_THROTTLE_LOGIN=UNLIMITED,
        SECULITE_THROTTLE_REGISTRATION=UNLIMITED,
        SECULITE_THROTTLE_PASSWORD_RESET=UNLIMITED,
        SECULITE_THROTTLE_WEBHOOK=UNLIMITED,
        SECULITE_LOGIN_FAILURE_LIMIT="1000000",
        # The seeded notification webhook points at a closed loopback port: deliveries fail
        # at once instead of waiting for an unreachable host.
        SECULITE_ALLOWED_PRIVATE_TARGETS="127.0.0.1",
    ) as live:
        live.world = build_world(live, TOOL)
        yield live


HOSTILE_UPLOADS = {
    "empty file": {"files": {"file": ("empty.json", b"")}},
    "random bytes": {"files": {"file": ("blob.bin", os.urandom(64 * 1024))}},
    "NUL and invalid UTF-8, traversal name": {
        "files": {"file": ("../../../etc/passwd", b"\x00\xff\xfe{\x00}" * 1000)}
    },
    "newline, unicode and very long name": {
        "files": {"file": ("a\nb\u202e" + "x" * 400 + ".sarif", SARIF)}
    },
    "name that is only dots": {"files": {"file": ("..", SARIF)}},
    "file as a plain field": {"data": {"file": SARIF.decode()}},
    "no file, target only": {"data": {"target_id": "1"}},
    "target_id not a number": {"files": {"file": ("r.sarif", SARIF)}, "data": {"target_id": "x"}},
    "target_id past bigint": {
        "files": {"file": ("r.sarif", SARIF)},
        "data": {"target_id": str(2**70)},
    },
    "target_id negative": {"files": {"file": ("r.sarif", SARIF)}, "data": {"target_id": "-5"}},
    "unknown format": {"files": {"file": ("r.sarif", SARIF)}, "data": {"format": "../x"}},
    "two files": {"files": [("file", ("a.sarif", SARIF)), ("file", ("b.sarif", SARIF))]},
    "other file field only": {"files": {"report": ("r.sarif", SARIF)}},
    "JSON body": {"json": {"file": "x"}},
    "multipart without boundary": {
        "data": b"--x\r\n",
        "headers": {"Content-Type": "multipart/form-data"},
    },
    "truncated multipart": {
        "data": b'--b\r\nContent-Disposition: form-data; name="file"; filename="r"\r\n\r\nabc',
        "headers": {"Content-Type": "multipart/form-data; boundary=b"},
    },
}


def test_upload_endpoint_refuses_hostile_multipart_cleanly(stack, figures):
    """The imports endpoint (the API's only upload) with bodies no schema generator makes."""
    url = f"{stack.base}/api/v1/projects/{stack.world.ids['projects']}/imports/"
    # Every format the server names, each given content of the wrong kind.
    stack.token = stack.world.owner_token
    status, schema = stack.api("GET", "/api/v1/schema/?format=json")
    assert status == 200, schema
    enum = [name for name in schema["components"]["schemas"]["FormatEnum"]["enum"] if name]
    assert "sarif" in enum
    cases = dict(HOSTILE_UPLOADS)
    for name in enum:
        cases[f"format {name} with random bytes"] = {
            "files": {"file": ("r", os.urandom(2048))},
            "data": {"format": name},
        }
    answers = {}
    for name, kwargs in cases.items():
        headers = {"Authorization": f"Token {stack.world.owner_token}", **kwargs.get("headers", {})}
        extra = {k: v for k, v in kwargs.items() if k != "headers"}
        answer = requests.post(url, headers=headers, timeout=60, **extra)
        answers[name] = answer.status_code
        if answer.status_code >= 400:
            shape = answer.json()
            assert set(shape) >= {"detail", "errors", "error_code"}, (name, shape)
    server_errors = {name: code for name, code in answers.items() if code >= 500}
    figures.add(
        "hostile input",
        "report upload (imports, multipart `file`): hostile bodies beyond the schema "
        f"({len(enum)} formats with the wrong content included)",
        len(cases),
        f"5xx: {len(server_errors)}; answers "
        + ", ".join(f"{k}: {v}" for k, v in sorted(Counter(answers.values()).items())),
        not server_errors,
    )
    assert not server_errors, server_errors
    assert answers["empty file"] in (202, 400) and answers["JSON body"] == 415


def test_every_operation_fuzzed_without_a_server_error(stack, figures):
    schema = schemathesis.openapi.from_url(f"{stack.base}/api/v1/schema/?format=json")
    fuzzer = Fuzzer(
        stack=stack,
        schema=schema,
        world=stack.world,
        examples=EXAMPLES,
        budget_s=BUDGET_S,
        rng=SEED,
    )
    started = time.monotonic()
    tally = fuzzer.run()
    took = time.monotonic() - started
    print(f"\nfuzz: {len(tally.operations)} operations, {tally.requests} requests, seed {SEED}")
    print(f"statuses: {dict(sorted(tally.statuses.items()))}")
    for error in tally.server_errors:
        print(f"SERVER ERROR {error}")
    for (operation, title), message in sorted(tally.mismatches.items()):
        print(f"MISMATCH {operation}: {title}: {message}")

    operations = len(tally.operations)
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(tally.statuses.items()))
    figures.add(
        "hostile input",
        "schemathesis (positive + negative) on every operation of /api/v1/schema/ via nginx, "
        "as an org owner (staff for platform-admin ops), real path ids; excluded: none",
        f"{operations} ops, {tally.requests:,} req, {took:.0f} s",
        f"5xx: {tally.server_error_count}, transport errors: {len(tally.transport_errors)}; "
        f"statuses {statuses}; re-logins after logout {tally.relogins}; throttles raised by "
        f"env; seed {SEED}",
        tally.server_error_count == 0 and not tally.transport_errors,
    )
    mismatched_ops = sorted({operation for operation, _ in tally.mismatches})
    successes = sum(n for status, n in tally.statuses.items() if 200 <= status < 300)
    figures.add(
        "hostile input",
        "response schema + content type conformance of the 2xx answers of that run (reported, "
        "not asserted: the issue asks for no 5xx)",
        f"{successes:,} answers",
        f"{len(tally.mismatches)} mismatches in {len(mismatched_ops)} ops"
        + (f": {', '.join(mismatched_ops)}" if mismatched_ops else ""),
        True,
    )
    assert operations == len(list(schema.get_all_operations()))
    assert tally.requests >= 2 * operations - len(tally.negative_not_applicable)
    assert not tally.server_errors, tally.server_errors
    assert tally.server_error_count == 0
    assert not tally.transport_errors, tally.transport_errors
