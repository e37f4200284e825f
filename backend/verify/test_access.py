"""Access: the authorization matrix over HTTPS through nginx, session and CSRF cookies, CSRF on
session writes, API keys kept out of every log, `check --deploy`, and the Content-Security-Policy
(parsed, and proved in Debian's chromium).

One stack for the module (verify/access_stack.py): production settings with their defaults,
Gunicorn, a Celery worker and beat, nginx-https.conf with a self-signed certificate."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import missing_service
from tests.processes import BACKEND_DIR
from verify.access_stack import AccessStack, Answer, start_access_stack
from verify.conftest import SCALE

pytestmark = pytest.mark.stack

SUITE = "access"
REPO_DIR = BACKEND_DIR.parent
CHROMIUM = os.environ.get("SECULITE_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "Access-Verify-Passw0rd!"
EVIL = "https://evil.example"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def stack(tmp_path_factory, postgres_params, redis_url, nginx_binary, spa_dist, figures):
    tmp = tmp_path_factory.mktemp("access")
    # The matrix's worlds are made in the database while the processes start.
    plan_args = ["-m", "verify.access_matrix", "plan", str(tmp / "plan.json"), SCALE]
    started = start_access_stack(
        tmp,
        postgres_params=postgres_params,
        redis_url=redis_url,
        nginx_binary=nginx_binary,
        spa_dist=spa_dist,
        prelaunch={"plan": plan_args},
    )
    t = started.timings
    figures.add(
        SUITE,
        "stack up: production settings, nginx TLS, Gunicorn x2, worker, beat",
        1,
        f"{t['total']:.0f}s (database {t['database']:.0f}s, processes healthy "
        f"{t['processes']:.0f}s)",
        True,
    )
    yield started
    started.stop()


@pytest.fixture(scope="module")
def plan(stack) -> dict:
    """The matrix's worlds and cells, and the CSRF sweep, made in the stack's database."""
    stack.background_result("plan")
    return json.loads((stack.tmp / "plan.json").read_text())


# Tables whose rows the CSRF sweep must leave alone: accounts, projects, findings, scan
# configurations; less what background jobs write at any time (beat's snapshots and counts,
# the worker's retries of webhook deliveries to the matrix's unreachable webhooks).
DIGEST_SKIP = {"findingsnapshot", "findingcount", "webhookdelivery"}


def digest_tables() -> list[str]:
    from django.apps import apps

    from apps.scans.models import ScanConfiguration

    models = [
        model
        for label in ("users", "projects", "findings")
        for model in apps.get_app_config(label).get_models()
        if model._meta.model_name not in DIGEST_SKIP
    ]
    return sorted({m._meta.db_table for m in models} | {ScanConfiguration._meta.db_table})


# --- (d) API keys never logged (first, while the worker's queue is empty) -------------------------


def test_api_keys_never_logged(stack, figures, tmp_path):
    _register(stack, "key-owner")
    _, _, login_token = _login(stack, "key-owner")
    key = stack.request("POST", "/api/v1/auth/userprofile/api-key/", token=login_token).json()
    raw = key["key"]
    assert raw.startswith("slk_")
    org = stack.request("GET", "/api/v1/organizations/", token=raw).json()["results"][0]["id"]
    project = stack.request(
        "POST", "/api/v1/projects/", body={"name": "key-logs", "organization": org}, token=raw
    ).json()
    # A mistyped key (the real one with its last character changed) is refused, and a wrong
    # keyword is refused: both paths must keep the key out of the logs too.
    typo = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    requests = [
        stack.request("GET", "/api/v1/auth/user/", token=raw).status == 200,
        stack.request("GET", "/api/v1/projects/?page_size=1", token=raw).status == 200,
        stack.request("GET", "/api/v1/no-such-endpoint/", token=raw).status == 404,
        stack.request("GET", "/api/v1/auth/user/", token=typo).status == 401,
        stack.request(
            "GET", "/api/v1/auth/user/", headers={"Authorization": f"Bearer {raw}"}
        ).status
        == 401,
    ]
    # The CLI's --upload sends the key to the import endpoint; a worker ingests the report.
    sample = tmp_path / "sample"
    sample.mkdir()
    (sample / "app.py").write_text("import subprocess\nsubprocess.call('ls', shell=True)\n")
    cli = subprocess.run(
        [
            str(BACKEND_DIR / ".venv" / "bin" / "python"),
            "-m",
            "seculite",
            "scan",
            str(sample),
            "--tools",
            "bandit",
            "--upload",
            stack.origin,
            "--project",
            str(project["id"]),
        ],
        cwd=BACKEND_DIR,
        env={
            **stack.env,
            "SECULITE_API_KEY": raw,
            "SSL_CERT_FILE": str(stack.certs / "fullchain.pem"),
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "uploaded to project" in cli.stderr, cli.stdout + cli.stderr
    scan_id = int(re.search(r"import scan (\d+)", cli.stderr).group(1))
    deadline = time.monotonic() + 240
    scan = {}
    while time.monotonic() < deadline:
        scan = stack.request("GET", f"/api/v1/scans/{scan_id}/", token=raw).json()
        if scan["status"] in ("completed", "failed", "error"):
            break
        time.sleep(1)
    assert scan.get("status") == "completed", scan
    requests.append(True)
    time.sleep(1)  # nginx and the processes flush their logs

    secret = raw[len("slk_") + 8 :]  # the part after the public prefix shown in the UI
    windows = {secret[i : i + 16] for i in range(len(secret) - 15)}
    typo_windows = {typo[12:][i : i + 16] for i in range(len(typo) - 12 - 15)}
    # Every file the stack wrote (process logs, nginx's logs, media, var), whatever its
    # format: 16 characters of the key in a row anywhere is a leak.
    files = stack.written_files()
    names = {p.name for p in files}
    assert {"access.log", "error.log", "web.log", "beat.log"} <= names, names
    assert any(name.startswith("worker") for name in names), names
    leaks = []
    logged_bytes = 0
    for path in files:
        text = path.read_text(errors="replace")
        logged_bytes += len(text)
        if any(w in text for w in windows | typo_windows):
            leaks.append(str(path.relative_to(stack.tmp)))
    # The stack logged these requests (the check looks in the right place).
    access = (stack.nginx_dir / "logs" / "access.log").read_text(errors="replace")
    assert "/api/v1/no-such-endpoint/" in access and f"/api/v1/scans/{scan_id}/" in access
    if any(w in cli.stdout + cli.stderr for w in windows):
        leaks.append("CLI output")
    from psycopg import sql

    from apps.users.models import AuditEvent

    audit = sql.Identifier(AuditEvent._meta.db_table)
    events = stack.sql(sql.SQL("SELECT count(*) FROM {}").format(audit))[0][0]
    found = stack.sql(
        sql.SQL("SELECT id FROM {} AS e WHERE e::text LIKE ANY (%s)").format(audit),
        ([f"%{w}%" for w in windows],),
    )
    assert events > 0
    if found:
        leaks.append(f"audit events {[row[0] for row in found]}")
    figures.add(
        SUITE,
        "API key through nginx+Gunicorn+worker (7 uses), searched in every file written",
        len(files),
        f"{len(files)} files ({logged_bytes // 1024} KiB: process and nginx logs, media) + "
        f"{events} audit events + CLI output: "
        f"{'no trace of the key' if not leaks else 'key found in ' + ', '.join(leaks)}",
        not leaks and all(requests),
    )
    assert all(requests), requests
    assert not leaks, leaks


# --- (a) the authorization matrix over HTTPS through nginx --------------------------------------


def _replay(stack: AccessStack, cell: dict) -> str | None:
    """One cell over HTTP; None when it answered as the matrix says, else what went wrong."""
    answer = stack.request(cell["method"], cell["url"], body=cell["body"], token=cell["token"])
    label = f"{cell['method']} {cell['url']} ({cell['name']}) as {cell['caller']} on org "
    label += cell["side"].upper()
    if answer.status != cell["want"]:
        return f"{label}: got {answer.status}, want {cell['want']}: {answer.body[:200]!r}"
    if answer.status >= 400 and answer.header("content-type").startswith("application/json"):
        shape = answer.json()
        if not (isinstance(shape, dict) and {"detail", "errors", "error_code"} <= set(shape)):
            return f"{label}: error without the API's error shape: {answer.body[:200]!r}"
    return None


def test_authorization_matrix_over_https(stack, plan, figures):
    started = time.monotonic()
    matrix = plan["matrix"]
    routes = {(name, method) for name, method, _ in matrix["routes"]}
    missing, stale = matrix["missing"], matrix["stale"]
    figures.add(
        SUITE,
        "API (route, method) pairs with an authorization-matrix entry",
        len(routes),
        f"{len(routes) - len(missing)} covered, {len(missing)} missing, {len(stale)} stale",
        not missing and not stale,
    )

    # Every operation the live server advertises in its OpenAPI schema is a matrix route.
    schema = stack.request("GET", "/api/v1/schema/?format=json")
    assert schema.status == 200, schema.body[:300]
    advertised = _schema_operations(schema.json())
    unmatched = _unmatched_operations(advertised)
    figures.add(
        SUITE,
        "operations in the live OpenAPI schema that are matrix routes",
        len(advertised),
        f"{len(advertised) - len(unmatched)} mapped, {len(unmatched)} unmapped",
        not unmatched,
    )

    cells = matrix["cells"]
    with ThreadPoolExecutor(max_workers=3) as pool:
        failures = [f for f in pool.map(lambda c: _replay(stack, c), cells) if f]
    held = len(cells) - len(failures)
    figures.add(
        SUITE,
        f"authorization cells, HTTPS via nginx ({len(cells)} of {matrix['all_cells']} at "
        f"{SCALE} scale)",
        len(cells),
        f"{held}/{len(cells)} answered as the matrix says; {plan['worlds']} worlds made in "
        f"{plan['seconds']:.0f}s, cells sent in {time.monotonic() - started:.0f}s",
        not failures and len(cells) > 0,
    )
    problems = [f"routes without an authorization entry: {missing}"] if missing else []
    problems += [f"matrix entries for routes that no longer exist: {stale}"] if stale else []
    problems += [f"schema operations that are not matrix routes: {unmatched}"] if unmatched else []
    problems += [f"{len(failures)} cells failed:", *failures[:40]] if failures else []
    problems += _server_errors(stack) if failures else []
    assert len(cells) >= len(routes)
    assert not problems, "\n".join(problems)


def _server_errors(stack, limit: int = 40) -> list[str]:
    """The errors the stack's processes printed (to explain failed cells)."""
    lines = []
    for proc in stack.live.group.procs:
        for line in proc.output().splitlines():
            if '"ERROR"' in line or "Traceback" in line or "[error]" in line or "Error:" in line:
                lines.append(f"{proc.name}: {line[:4000]}")
    return ["server errors logged:", *lines[-limit:]] if lines else ["no server errors logged"]


def _schema_operations(schema: dict) -> list[tuple[str, str]]:
    methods = ("get", "put", "post", "patch", "delete")
    return sorted(
        (method.upper(), path)
        for path, item in schema.get("paths", {}).items()
        for method in item
        if method in methods
    )


def _unmatched_operations(operations) -> list[str]:
    """Schema operations whose path does not resolve to a (route, method) of the matrix."""
    from django.urls import Resolver404, resolve

    from tests.test_authorization_matrix import MATRIX

    unmatched = []
    for method, path in operations:
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        try:
            name = resolve(concrete).url_name
        except Resolver404:
            name = None
        if (name, method) not in MATRIX:
            unmatched.append(f"{method} {path} ({name})")
    return unmatched


# --- (b) cookies --------------------------------------------------------------------------------


def parse_set_cookie(values: list[str]) -> dict[str, dict[str, str]]:
    """Set-Cookie headers -> {name: {"value": ..., attribute (lower case): value or ""}}."""
    cookies = {}
    for header in values:
        first, *attributes = [part.strip() for part in header.split(";")]
        name, _, value = first.partition("=")
        parsed = {"value": value}
        for attribute in attributes:
            key, _, val = attribute.partition("=")
            parsed[key.strip().lower()] = val.strip()
        cookies[name.strip()] = parsed
    return cookies


class Browserish:
    """A client that keeps cookies the way the SPA's browser would, for one origin."""

    def __init__(self, stack: AccessStack):
        self.stack = stack
        self.cookies: dict[str, str] = {}
        self.set_cookies: list[dict] = []

    def send(self, method, path, *, body=None, csrf=None, origin=True, referer=None, **extra):
        headers = dict(extra.pop("headers", {}))
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if csrf:
            headers["X-CSRFToken"] = csrf
        if origin is True:
            headers["Origin"] = self.stack.origin
        elif origin:
            headers["Origin"] = origin
        if referer:
            headers["Referer"] = referer
        answer = self.stack.request(method, path, body=body, headers=headers, **extra)
        parsed = parse_set_cookie(answer.all("set-cookie"))
        self.set_cookies.append(parsed)
        for name, cookie in parsed.items():
            if cookie.get("max-age") == "0" or not cookie["value"]:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = cookie["value"]
        return answer, parsed


def _register(stack: AccessStack, username: str) -> None:
    answer = stack.request(
        "POST",
        "/api/v1/auth/registration/",
        body={
            "username": username,
            "email": f"{username}@example.org",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert answer.status == 201, answer.body[:300]


def _login(stack: AccessStack, username: str) -> tuple[Browserish, dict, str]:
    """The SPA's login: CSRF cookie first, then the login with the token; returns the client,
    the cookies set by the login answer and the login token."""
    client = Browserish(stack)
    answer, first = client.send("GET", "/api/v1/auth/csrf/")
    assert answer.status == 204 and "csrftoken" in first, answer.headers
    answer, cookies = client.send(
        "POST",
        "/api/v1/auth/login/",
        body={"username": username, "password": PASSWORD},
        csrf=client.cookies["csrftoken"],
    )
    assert answer.status == 200, answer.body[:300]
    return client, {**first, **cookies}, answer.json()["token"]


def test_session_and_csrf_cookies(stack, figures):
    """Production defaults: the session cookie is Secure, HttpOnly and SameSite; the CSRF cookie
    is Secure and SameSite but readable by the SPA (it sends it back as X-CSRFToken)."""
    _register(stack, "cookie-owner")
    client, cookies, _ = _login(stack, "cookie-owner")
    session, csrf = cookies.get("sessionid", {}), cookies.get("csrftoken", {})
    problems = []
    for name, cookie, want_httponly in (("sessionid", session, True), ("csrftoken", csrf, False)):
        if not cookie:
            problems.append(f"{name} was not set")
            continue
        if "secure" not in cookie:
            problems.append(f"{name} is not Secure")
        if ("httponly" in cookie) != want_httponly:
            problems.append(f"{name} HttpOnly is {'httponly' in cookie}, want {want_httponly}")
        if cookie.get("samesite", "").lower() not in ("lax", "strict"):
            problems.append(f"{name} SameSite is {cookie.get('samesite')!r}")
        if cookie.get("path") != "/":
            problems.append(f"{name} Path is {cookie.get('path')!r}")

    # The session works, and logging out ends it (the cookie is cleared, the session refused).
    assert client.send("GET", "/api/v1/auth/user/")[0].status == 200
    answer, cleared = client.send("POST", "/api/v1/auth/logout/", csrf=client.cookies["csrftoken"])
    assert answer.status == 204, answer.body[:300]
    if cleared.get("sessionid", {}).get("max-age") != "0":
        problems.append("logout did not clear the session cookie")
    client.cookies["sessionid"] = session["value"]
    if client.send("GET", "/api/v1/auth/user/")[0].status != 401:
        problems.append("the session of a logged-out user still works")

    # Plain HTTP only redirects to HTTPS: no cookie is ever handed out over it.
    plain = _plain_http(stack, "/api/v1/auth/csrf/")
    if plain.status != 301 or not plain.header("location").startswith("https://"):
        problems.append(f"plain HTTP answered {plain.status}, not a redirect to HTTPS")
    if plain.all("set-cookie"):
        problems.append("plain HTTP set a cookie")
    hsts = stack.request("GET", "/api/v1/health/").header("strict-transport-security")
    if "max-age=" not in hsts:
        problems.append("no Strict-Transport-Security over HTTPS")

    figures.add(
        SUITE,
        "session + CSRF cookie attributes (production defaults, HTTPS via nginx)",
        2,
        "sessionid: Secure HttpOnly SameSite=Lax; csrftoken: Secure SameSite=Lax, readable by "
        "the SPA; logout clears; HTTP only redirects; HSTS"
        if not problems
        else "; ".join(problems),
        not problems,
    )
    assert not problems, problems


def _plain_http(stack: AccessStack, path: str) -> Answer:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", stack.http_port, timeout=30)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return Answer(resp.status, resp.getheaders(), resp.read())
    finally:
        conn.close()


# --- (c) CSRF on session writes -----------------------------------------------------------------


def multipart(body) -> tuple[bytes, str]:
    """`body` as multipart/form-data (nested values as JSON), as an HTML form would post it."""
    boundary = uuid.uuid4().hex
    parts = []
    for key, value in (body or {}).items():
        text = value if isinstance(value, str) else json.dumps(value)
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{text}\r\n'
        )
    data = ("".join(parts) + f"--{boundary}--\r\n").encode()
    return data, f"multipart/form-data; boundary={boundary}"


def _csrf_refused(answer: Answer) -> bool:
    if answer.status != 403:
        return False
    try:
        return "CSRF" in answer.json().get("detail", "")
    except ValueError:
        return False


def test_csrf_holds_for_session_writes(stack, plan, figures):
    # 1. The sweep: every unsafe non-public (route, method) with a session of a caller allowed
    # to use it, without the token, and with the token but from a foreign origin.
    sweep = plan["csrf"]
    tables = digest_tables()
    before = stack.digest(tables)
    token = Browserish(stack)
    token.send("GET", "/api/v1/auth/csrf/")
    real = token.cookies["csrftoken"]
    failures = []
    sent = 0
    for req in sweep["requests"]:
        form, form_type = multipart(req["body"])
        variants = (
            # What a cross-site <form> can send: multipart, the session cookie, no token.
            (None, EVIL, form, {"Content-Type": form_type}),
            # The same from this origin (no Origin check to fail first): the token is missing.
            (None, True, form, {"Content-Type": form_type}),
            # The token (read somehow) sent from a foreign origin, as the SPA would send it.
            (real, EVIL, req["body"], {}),
        )
        for csrf, origin, body, headers in variants:
            client = Browserish(stack)
            client.cookies = {"sessionid": req["session"], "csrftoken": real}
            answer, _ = client.send(
                req["method"], req["url"], body=body, csrf=csrf, origin=origin, headers=headers
            )
            sent += 1
            if not _csrf_refused(answer):
                failures.append(
                    f"{req['method']} {req['url']} ({req['name']}) as {req['caller']}, "
                    f"token={'yes' if csrf else 'no'}, origin={origin}: {answer.status} "
                    f"{answer.body[:160]!r}"
                )
    after = stack.digest(tables)
    changed = sorted(label for label in before if before[label] != after.get(label))
    rows = sum(count for count, _ in after.values())
    figures.add(
        SUITE,
        "unsafe routes with a session: cross-site form, no token, token from foreign origin",
        sent,
        f"{sent - len(failures)}/{sent} refused 403 (CSRF) over {len(sweep['requests'])} "
        f"(route, method) pairs; {rows} rows in {len(after)} tables, changed: {changed or 'none'}",
        not failures and not changed and sent > 0,
    )

    # 2. One owner's writes, each variant in turn: refused and nothing changed, then accepted.
    _register(stack, "csrf-owner")
    client, _, login_token = _login(stack, "csrf-owner")
    org = client.send("GET", "/api/v1/organizations/")[0].json()["results"][0]["id"]
    good = client.cookies["csrftoken"]
    bad_variants = {
        "no X-CSRFToken": {"csrf": None},
        "wrong X-CSRFToken": {"csrf": secrets.token_hex(32)},
        "foreign Origin": {"csrf": good, "origin": EVIL},
        "Origin null": {"csrf": good, "origin": "null"},
        "foreign Referer, no Origin": {"csrf": good, "origin": None, "referer": EVIL + "/x"},
        "no Origin, no Referer (HTTPS)": {"csrf": good, "origin": None},
        "no csrftoken cookie": {"csrf": good, "drop_cookie": True},
    }
    name = f"csrf-{uuid.uuid4().hex[:6]}"

    def state():
        projects = client.send("GET", f"/api/v1/projects/?organization_id={org}")[0].json()
        key = client.send("GET", "/api/v1/auth/userprofile/api-key/")[0].json()
        return (
            sorted((p["name"], p.get("description", "")) for p in projects["results"]),
            key.get("prefix"),
        )

    project_id = None

    def write(kind: str, variant: dict) -> Answer:
        variant = dict(variant)
        saved = dict(client.cookies)
        if variant.pop("drop_cookie", False):
            client.cookies.pop("csrftoken", None)
        try:
            if kind == "create":
                body = {"name": name, "organization": org}
                return client.send("POST", "/api/v1/projects/", body=body, **variant)[0]
            if kind == "update":
                body = {"description": "changed by a forged request"}
                path = f"/api/v1/projects/{project_id}/"
                return client.send("PATCH", path, body=body, **variant)[0]
            if kind == "rotate key":
                return client.send("POST", "/api/v1/auth/userprofile/api-key/", **variant)[0]
            return client.send("DELETE", f"/api/v1/projects/{project_id}/", **variant)[0]
        finally:
            client.cookies = saved

    ok_status = {"create": 201, "update": 200, "rotate key": 201, "delete": 204}
    refused = tried = 0
    for kind in ("create", "update", "rotate key", "delete"):
        earlier = state()
        for label, variant in bad_variants.items():
            tried += 1
            answer = write(kind, variant)
            if _csrf_refused(answer) and state() == earlier:
                refused += 1
            else:
                failures.append(f"{kind} with {label}: {answer.status} {answer.body[:160]!r}")
        answer = write(kind, {"csrf": good})
        if answer.status != ok_status[kind]:
            failures.append(f"{kind} with a valid token: {answer.status} {answer.body[:160]!r}")
        elif kind == "create":
            project_id = answer.json()["id"]
    figures.add(
        SUITE,
        "session writes (create, update, key rotation, delete) x 7 forged variants",
        tried,
        f"{refused}/{tried} refused with nothing changed; the 4 with a valid token and "
        "same Origin worked",
        refused == tried and not failures,
    )

    # 3. API keys and login tokens are not subject to CSRF: no cookie, no token, any Origin.
    key = stack.request("POST", "/api/v1/auth/userprofile/api-key/", token=login_token).json()
    token_writes = []
    for credential in (key["key"], login_token):
        answer = stack.request(
            "POST",
            "/api/v1/projects/",
            body={"name": f"api-{uuid.uuid4().hex[:6]}", "organization": org},
            token=credential,
            headers={"Origin": EVIL},
        )
        token_writes.append(answer.status)
    figures.add(
        SUITE,
        "token-authenticated writes without CSRF (API key, login token)",
        len(token_writes),
        f"answered {token_writes}",
        token_writes == [201, 201],
    )

    # 4. Login CSRF: the public account endpoints refuse a browser's cross-site request (a
    # foreign page must not log the visitor into an account of its choosing).
    login = {"username": "csrf-owner", "password": PASSWORD}
    form = b"username=csrf-owner&password=" + PASSWORD.encode()
    cross_site = [
        ("login, JSON", "/api/v1/auth/login/", login, {}),
        ("login, HTML form", "/api/v1/auth/login/", form, {"Content-Type": FORM}),
        (
            "registration",
            "/api/v1/auth/registration/",
            {
                "username": "csrf-victim",
                "email": "csrf-victim@example.org",
                "password": PASSWORD,
                "password_confirm": PASSWORD,
            },
            {},
        ),
        ("password reset", "/api/v1/auth/password/reset/", {"email": "x@example.org"}, {}),
    ]
    refused_cross = []
    for label, path, body, headers in cross_site:
        answer = stack.request("POST", path, body=body, headers={"Origin": EVIL, **headers})
        if answer.status == 403 and not answer.all("set-cookie"):
            refused_cross.append(label)
        else:
            failures.append(f"cross-site {label}: {answer.status} {answer.body[:160]!r}")
    same_site = stack.request(
        "POST", "/api/v1/auth/login/", body=login, headers={"Origin": stack.origin}
    )
    if same_site.status != 200:
        failures.append(f"same-site login: {same_site.status} {same_site.body[:160]!r}")
    figures.add(
        SUITE,
        "cross-site login, registration, reset (foreign Origin: login CSRF)",
        len(cross_site),
        f"{len(refused_cross)}/{len(cross_site)} refused 403 without a cookie; the same login "
        f"from this site answered {same_site.status}",
        len(refused_cross) == len(cross_site) and same_site.status == 200,
    )
    assert not failures, "\n".join(failures[:40])
    assert not changed, f"tables changed by refused requests: {changed}"
    assert token_writes == [201, 201]


# --- (e) check --deploy -------------------------------------------------------------------------


def test_check_deploy_is_clean(stack, figures):
    """`manage.py check --deploy` with the production settings and a production-like
    environment (HTTPS defaults on, a real host name)."""
    env = {
        key: value
        for key, value in stack.env.items()
        if not key.startswith(("SECULITE_THROTTLE", "SECULITE_LOGIN_FAILURE"))
    }
    env["DJANGO_ALLOWED_HOSTS"] = "seculite.example.org"
    env["DJANGO_CSRF_TRUSTED_ORIGINS"] = "https://seculite.example.org"
    env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(64)
    done = subprocess.run(
        [
            str(BACKEND_DIR / ".venv" / "bin" / "python"),
            "manage.py",
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
        ],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    issues = re.findall(r"^\S+: \((\S+)\)", output, flags=re.M)
    clean = done.returncode == 0 and "no issues (0 silenced)" in output
    figures.add(
        SUITE,
        "manage.py check --deploy --fail-level WARNING (production settings)",
        1,
        "no issues, 0 silenced" if clean else f"issues: {issues or output[-300:]}",
        clean,
    )
    assert clean, output


# --- (f) Content-Security-Policy ----------------------------------------------------------------

UNSAFE_SOURCES = ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "data:", "blob:", "*")


def parse_csp(header: str) -> dict[str, list[str]]:
    policy = {}
    for directive in header.split(";"):
        parts = directive.split()
        if parts:
            policy.setdefault(parts[0].lower(), parts[1:])
    return policy


def csp_problems(header: str) -> list[str]:
    """What lets a script run that the page did not ship as a same-origin file."""
    if not header:
        return ["no Content-Security-Policy"]
    policy = parse_csp(header)
    if "sandbox" in policy and policy.get("default-src") == ["'none'"]:
        return []
    scripts = policy.get("script-src", policy.get("default-src"))
    if scripts is None:
        return ["neither script-src nor default-src"]
    problems = [f"script-src allows {s}" for s in scripts if s.lower() in UNSAFE_SOURCES]
    problems += [
        f"script-src allows any {s} URL" for s in scripts if s.lower() in ("http:", "https:")
    ]
    for directive in ("script-src-elem", "script-src-attr"):
        problems += [
            f"{directive} allows {s}" for s in policy.get(directive, []) if s in UNSAFE_SOURCES
        ]
    if policy.get("object-src", policy.get("default-src")) != ["'none'"]:
        problems.append("object-src is not 'none'")
    if "base-uri" not in policy:
        problems.append("no base-uri")
    return problems


def test_content_security_policy_blocks_inline_script(stack, figures, spa_dist):
    asset = next((spa_dist / "assets").glob("*.js")).name
    paths = [
        "/",
        "/projects/42",
        "/index.html",
        f"/assets/{asset}",
        "/api/v1/health/",
        "/api/v1/projects/",
        "/api/v1/no-such-endpoint/",
        "/api/v1/docs/",
        "/api/v1/schema/",
        "/admin/login/",
    ]
    problems = {}
    for path in paths:
        answer = stack.request("GET", path, headers={"Accept": "text/html,*/*"})
        found = csp_problems(answer.header("content-security-policy"))
        if found:
            problems[path] = found
    figures.add(
        SUITE,
        "CSP on SPA, assets, API, docs and admin: script-src without inline/eval/data:",
        len(paths),
        f"{len(paths) - len(problems)}/{len(paths)} strict" + (f"; {problems}" if problems else ""),
        not problems,
    )
    assert not problems, problems

    # In the browser: a page served by nginx (beside the SPA) tries five ways of running script
    # that the page did not ship as a same-origin file; only the same-origin file may run.
    if not Path(CHROMIUM).is_file():
        missing_service(f"chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    if shutil.which("node") is None:
        missing_service("node is not installed (apt-get install nodejs)")
    _write_probe(stack.spa_root)
    done = subprocess.run(
        [
            "node",
            str(Path(__file__).with_name("access_csp_probe.cjs")),
            stack.origin,
            "/csp-probe.html",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={
            **os.environ,
            "SECULITE_CHROMIUM": CHROMIUM,
            "NODE_PATH": str(REPO_DIR / "frontend" / "node_modules"),
        },
    )
    assert done.returncode == 0, done.stdout + done.stderr
    seen = json.loads(done.stdout)
    probe, spa = seen["probe"], seen["spa"]
    flags = probe["flags"] or {}
    ran = sorted(k for k in ("inline", "handler", "jsurl", "data", "eval") if flags.get(k))
    violations = probe["violations"]
    spa_violations = [m for m in spa["console"] if "Content Security Policy" in m]
    held = (
        probe["status"] == 200
        and flags.get("external") is True  # the control: the same-origin file ran
        and flags.get("evalBlocked")
        and not ran
        and len(violations) >= 4
        and spa["appChildren"] > 0
        and not spa_violations
    )
    figures.add(
        SUITE,
        "chromium: inline script, handler, javascript: URL, data: script, eval on an nginx page",
        5,
        f"{5 - len(ran)}/5 blocked ({len(violations)} CSP violations reported), same-origin "
        f"file ran: {flags.get('external') is True}; SPA rendered with "
        f"{len(spa_violations)} violations",
        bool(held),
    )
    assert held, seen


PROBE_HTML = """<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>csp probe</title>
<script src="/csp-probe.js"></script>
<script>window.__probe.inline = true;</script>
<script src="data:text/javascript,window.__probe.data=true"></script>
</head>
<body>
<img src="/favicon.svg" alt="" onload="window.__probe.handler = true">
<a id="js-link" href="javascript:window.__probe.jsurl=true">link</a>
</body>
</html>
"""

PROBE_JS = """window.__probe = { external: true };
window.__violations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__violations.push(e.violatedDirective + ' ' + e.blockedURI);
});
try { eval('window.__probe.eval = true'); } catch (e) { window.__probe.evalBlocked = String(e); }
"""


def _write_probe(root: Path) -> None:
    (root / "csp-probe.html").write_text(PROBE_HTML)
    (root / "csp-probe.js").write_text(PROBE_JS)
