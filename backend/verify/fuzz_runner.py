"""Schemathesis against the live stack's own OpenAPI schema, every operation, bounded in time.

Each operation is fed generated cases in both of schemathesis' modes (positive: values the schema
allows; negative: values it forbids), with its path parameters fixed to objects that exist so the
authorized code paths are reached. Every response is checked with `not_a_server_error`; 2xx
responses also with `response_schema_conformance` and `content_type_conformance` (mismatches are
collected, not raised, and reported).

The main thread generates the cases (Hypothesis), a few threads send them, as several API
clients would: reads and writes concurrently, then what invalidates ids or the caller's login and
the deletions one at a time in order. The run is bounded: past the deadline each operation still
sends its first case of each mode, and no more."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import requests
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from verify.fuzz_world import FuzzWorld, login

STAFF_PATHS = ("/api/v1/system-settings/", "/api/v1/audit-events/")
#: Operations after which the caller's login token may be gone: checked, and logged in again.
AUTH_BREAKERS = {
    ("POST", "/api/v1/auth/logout/"),
    ("POST", "/api/v1/auth/password/change/"),
    ("POST", "/api/v1/auth/password/reset/confirm/"),
}
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
SENDERS = 4


@dataclass
class Tally:
    operations: list[str] = field(default_factory=list)
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    server_errors: list[dict] = field(default_factory=list)
    transport_errors: list[str] = field(default_factory=list)
    mismatches: dict[tuple[str, str], str] = field(default_factory=dict)
    negative_not_applicable: list[str] = field(default_factory=list)
    relogins: int = 0
    cut_for_time: int = 0

    @property
    def server_error_count(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


def label(operation) -> str:
    return f"{operation.method.upper()} {operation.path}"


def needs_staff(operation) -> bool:
    method, path = operation.method.upper(), operation.path
    return path.startswith(STAFF_PATHS) or (
        path.startswith("/api/v1/tooldefinitions/") and method in ("PUT", "PATCH")
    )


def negatable(operation) -> bool:
    """Whether the negative mode has anything to break: query parameters or a body. The path
    ids are fixed here, and the security schemes' header and cookie accept any string (asked to
    break those, Hypothesis searches for seconds before it gives up)."""
    return bool(list(operation.body)) or any(
        parameter.location == ParameterLocation.QUERY for parameter in operation.iter_parameters()
    )


def run_order(operation) -> tuple:
    """Reads first, then writes (both concurrently); then, one at a time, what invalidates a
    path id or the login (webhook token, leaving the organization, logout), then deletions,
    deepest paths first and the organization last: a deletion must not take away the objects
    that later operations point at."""
    method, path = operation.method.upper(), operation.path
    if method == "DELETE":
        return (3, path == "/api/v1/organizations/{id}/", -path.count("/"), path)
    if path.endswith(("/rotate-webhook/", "/leave/")) or (method, path) in AUTH_BREAKERS:
        return (2, False, 0, path)
    return (0 if method == "GET" else 1, False, 0, path)


class Fuzzer:
    def __init__(self, *, stack, schema, world: FuzzWorld, examples: int, budget_s: float, rng):
        self.stack = stack
        self.schema = schema
        self.world = world
        self.examples = examples
        self.budget_s = budget_s
        self.seed = rng
        self.tally = Tally()
        self.lock = threading.Lock()
        self.local = threading.local()
        self.deadline = 0.0

    def operations(self) -> list:
        found = [result.ok() for result in self.schema.get_all_operations()]
        return sorted(found, key=run_order)

    def run(self) -> Tally:
        self.deadline = time.monotonic() + self.budget_s
        groups: dict[int, list] = {}
        for operation in self.operations():
            groups.setdefault(run_order(operation)[0], []).append(operation)
        for group, operations in sorted(groups.items()):
            with ThreadPoolExecutor(max_workers=SENDERS if group < 2 else 1) as pool:
                pending = []
                for operation in operations:
                    batches = [self.generate(operation, mode) for mode in MODES]
                    pending.append(pool.submit(self.send_all, operation, batches))
                    self.tally.operations.append(label(operation))
                wait(pending)
                for future in pending:
                    future.result()
        return self.tally

    def generate(self, operation, mode) -> list:
        """Up to `examples` cases of one mode (one once the deadline has passed)."""
        if mode is GenerationMode.NEGATIVE and not negatable(operation):
            self.tally.negative_not_applicable.append(label(operation))
            return []
        fixed = self.world.path_parameters(operation.path)
        count = self.examples if time.monotonic() < self.deadline else 1
        cases: list = []

        @seed(self.seed)
        @settings(
            max_examples=count,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,
        )
        @given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed))
        def collect(case):
            cases.append(case)

        try:
            collect()
        except Unsatisfiable:
            if mode is not GenerationMode.NEGATIVE:
                raise
            self.tally.negative_not_applicable.append(label(operation))
        return cases

    def send_all(self, operation, batches: list[list]) -> None:
        for cases in batches:
            for index, case in enumerate(cases):
                if index and time.monotonic() > self.deadline:
                    with self.lock:
                        self.tally.cut_for_time += len(cases) - index
                    break
                self.send(operation, case)

    def session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def token_for(self, operation) -> str:
        return self.world.staff_token if needs_staff(operation) else self.world.owner_token

    def send(self, operation, case) -> None:
        headers = {"Authorization": f"Token {self.token_for(operation)}"}
        try:
            response = case.call(
                base_url=self.stack.base, session=self.session(), headers=headers, timeout=120
            )
        except requests.RequestException as exc:
            with self.lock:
                self.tally.transport_errors.append(
                    f"{label(operation)}: {type(exc).__name__}: {exc}"
                )
            return
        server_error = None
        try:
            case.validate_response(response, checks=[not_a_server_error])
        except FailureGroup:
            server_error = {
                "operation": label(operation),
                "status": response.status_code,
                "curl": case.as_curl_command(),
                "answer": response.text[:400],
            }
        mismatches = {}
        if 200 <= response.status_code < 300:
            try:
                case.validate_response(
                    response, checks=[response_schema_conformance, content_type_conformance]
                )
            except FailureGroup as group:
                for failure in group.exceptions:
                    mismatches[(label(operation), failure.title)] = str(failure.message)[:300]
        with self.lock:
            self.tally.requests += 1
            self.tally.statuses[response.status_code] += 1
            if server_error:
                self.tally.server_errors.append(server_error)
            for key, message in mismatches.items():
                self.tally.mismatches.setdefault(key, message)
        if (case.method.upper(), operation.path) in AUTH_BREAKERS or (
            response.status_code == 401 and not needs_staff(operation)
        ):
            self.keep_logged_in()

    def keep_logged_in(self) -> None:
        with self.lock:
            answer = self.session().get(
                f"{self.stack.base}/api/v1/auth/user/",
                headers={"Authorization": f"Token {self.world.owner_token}"},
                timeout=30,
            )
            if answer.status_code == 401:
                self.world.owner_token = login(self.stack, "fuzzowner")
                self.tally.relogins += 1
