"""The authorization matrix (tests/test_authorization_matrix.py + tests/authz/) as plans of HTTP
requests against a live stack. Run with the stack's environment (production settings, the
stack's database), it works through the ORM and answers in JSON:

    python -m verify.access_matrix plan OUT.json ci|full   worlds + every cell, CSRF sweep plan

Matrix cells. In-process, every cell gets a fresh world in a rolled-back transaction. Over
HTTP nothing is rolled back, so: the cells of one (route, method) that cannot change anything
when authorization holds (reads, and everything answered 4xx) share one world; every cell
expected to succeed at a write gets a world of its own. At ci scale only the first such write
cell of each (route, method) is kept (the least role that may write, on its own organization);
every refusal and every read is still checked. At full scale every cell is.

Callers authenticate with login tokens (`Token slt_...`), as the CLI does after logging in: an
API key would change the answers of the API-key endpoints themselves.

CSRF sweep. Every unsafe (route, method) that is not public, addressed at an object of the
caller's organization, with a Django session of a caller who may use it (the owner, or staff):
the suite sends each without a valid CSRF token and expects 403 and unchanged tables."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def writes(method: str, want: int) -> bool:
    """A cell that changes something when it gets the answer the matrix expects."""
    return method not in SAFE_METHODS and 200 <= want < 300


class Worlds:
    """conftest.World, renamed after it is made so that the next one can be made beside it;
    login tokens are issued on first use."""

    def __init__(self):
        self.count = 0
        self.tokens: dict = {}

    def new(self):
        from django.db.models import Value
        from django.db.models.functions import Concat

        from apps.users.models import Organization, User
        from conftest import World

        self.count += 1
        suffix = f"-w{self.count}"
        world = World()
        world.number = self.count
        User.objects.filter(pk__in=[u.pk for u in world.users.values()]).update(
            username=Concat("username", Value(suffix)),
            email=Concat("username", Value(f"{suffix}@example.org")),
        )
        Organization.objects.filter(pk__in=[world.org_a.pk, world.org_b.pk]).update(
            name=Concat("name", Value(suffix))
        )
        return world

    def token(self, world, caller: str) -> str | None:
        from apps.users.services import login_token_issue

        if caller == "anonymous":
            return None
        key = (world.number, caller)
        if key not in self.tokens:
            self.tokens[key] = login_token_issue(user=world.users[caller])
        return self.tokens[key]


def _url(spec, world, side, name):
    from django.urls import reverse

    if spec.setup:
        kwargs = spec.setup(world, side)
    elif "kwargs" in spec.extra:
        kwargs = spec.extra["kwargs"](world, side)
    else:
        kwargs = {}
    return reverse(name, kwargs=kwargs)


def ci_sample(cases, expected_of) -> set:
    """The boundary cells of each (route, method): anonymous, the other organization's owner,
    organization A's owner on organization B's object, staff, the highest role refused 403 and
    the lowest role that succeeds (on organization A's object); successful writes only for
    every CI_WRITE_EVERY-th (route, method) that has one."""
    keep = set()
    by_pair: dict = {}
    for case in cases:
        by_pair.setdefault(case[:2], []).append(case)
    write_pairs = 0
    for pair, cells in sorted(by_pair.items()):
        side_a = [c for c in cells if c[3] == "a"]
        boundary = [c for c in cells if (c[2], c[3]) in BOUNDARY]
        refused = [c for c in side_a if expected_of(c) == 403]
        allowed = [c for c in side_a if expected_of(c) < 400 and c[2] != "staff"]
        chosen = set(boundary + refused[-1:] + allowed[:1])
        if any(writes(pair[1], expected_of(c)) for c in chosen):
            write_pairs += 1
            if write_pairs % CI_WRITE_EVERY != 1:
                chosen = {c for c in chosen if not writes(pair[1], expected_of(c))}
        keep |= chosen
    return keep


BOUNDARY = {("anonymous", "a"), ("outsider", "a"), ("owner", "b"), ("staff", "a")}
CI_WRITE_EVERY = 4


def matrix_plan(worlds: Worlds, full: bool) -> dict:
    from tests.test_authorization_matrix import CASES, MATRIX, api_routes, expected

    routes = sorted(api_routes())
    pairs = {(name, method) for name, method, _ in routes}

    def expected_of(case):
        return expected(MATRIX[case[:2]], case[2], case[3])

    cases = CASES if full else [c for c in CASES if c in ci_sample(CASES, expected_of)]
    plan: dict = {
        "routes": [list(r) for r in routes],
        "missing": sorted(pairs - set(MATRIX)),
        "stale": sorted(set(MATRIX) - pairs),
        "cells": [],
        "all_cells": len(CASES),
    }
    shared: dict = {}
    for name, method, caller, side in cases:
        spec = MATRIX[(name, method)]
        want = expected(spec, caller, side)
        if writes(method, want):
            world = worlds.new()
        else:
            # Full: one world per (route, method). ci: one per setup function (cells whose
            # setups are the same cannot disturb each other's answers).
            key = (name, method) if full else (spec.setup, spec.extra.get("kwargs"))
            if key not in shared:
                shared[key] = worlds.new()
            world = shared[key]
        url = _url(spec, world, side, name)
        plan["cells"].append(
            {
                "name": name,
                "method": method,
                "caller": caller,
                "side": side,
                "url": url,
                "body": spec.body(world, side) if spec.body else None,
                "token": worlds.token(world, caller),
                "want": want,
                "world": world.number,
                "write": writes(method, want),
            }
        )
    return plan


def session_for(user) -> str:
    """A Django session of `user`, as login() makes one; returns the session key."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def csrf_plan(worlds: Worlds) -> dict:
    """One world; every unsafe non-public (route, method) as its owner (or staff)."""
    from tests.test_authorization_matrix import MATRIX, PUBLIC, STAFF

    world = worlds.new()
    sessions = {who: session_for(world.users[who]) for who in ("owner", "staff")}
    requests = []
    for (name, method), spec in sorted(MATRIX.items()):
        if method in SAFE_METHODS or spec.minimum == PUBLIC:
            continue
        who = "staff" if spec.minimum == STAFF else "owner"
        requests.append(
            {
                "name": name,
                "method": method,
                "url": _url(spec, world, "a", name),
                "body": spec.body(world, "a") if spec.body else None,
                "session": sessions[who],
                "caller": who,
            }
        )
    return {"requests": requests}


def main(argv: list[str]) -> int:
    import django

    django.setup()
    from django.db import transaction
    from django.test.utils import override_settings

    command = argv[0]
    if command == "plan":
        out, scale = Path(argv[1]), argv[2]
        started = time.monotonic()
        worlds = Worlds()
        # The worlds' users never log in with a password: a fast hasher keeps worlds cheap.
        # One transaction: a commit per row would cost an fsync each.
        with override_settings(PASSWORD_HASHERS=FAST_HASHER), transaction.atomic():
            plan = {
                "matrix": matrix_plan(worlds, full=scale == "full"),
                "csrf": csrf_plan(worlds),
            }
        plan["worlds"] = worlds.count
        plan["seconds"] = round(time.monotonic() - started, 1)
        out.write_text(json.dumps(plan, default=str))
    else:
        print(f"unknown command {command!r}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
