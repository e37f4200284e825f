"""Hostile input against the real process layout (nginx, Gunicorn, a Celery worker, beat,
PostgreSQL, Redis): bad and malicious reports through the import endpoint, 2 GB uploads, target
values crafted for argument injection, path traversal and SSRF through the API, the admin and
the CLI, and a git repository crafted against the scanners (through the clone path and as a
local path scanned in place). Each test records its figures and asserts them."""

from __future__ import annotations

import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.processes import BACKEND_DIR
from verify import hostile_reports as reports
from verify.conftest import FULL, scaled
from verify.hostile_probes import (
    RESET,
    CanaryListener,
    DirectoryWatch,
    Multipart,
    group_pids,
    peak_rss_mb,
    send,
    upload,
    zeros,
)
from verify.hostile_repo import PWNED_NAMES, arm_check, build
from verify.hostile_stack import ADMIN_USER, AdminSession, start_hostile_stack

pytestmark = pytest.mark.stack

SUITE = "hostile input"
PYTHON = str(BACKEND_DIR / ".venv" / "bin" / "python")
TWO_GB = 2 << 30
#: A worker that imports hostile reports must stay far below what would endanger the host.
WORKER_RSS_LIMIT_MB = 1024
SCANNERS = ["bandit", "semgrep", "detect-secrets", "shellcheck", "hadolint", "checkov"]
FINISHED = ("completed", "failed", "error", "cancelled")


@pytest.fixture(scope="module")
def stack(tmp_path_factory, postgres_params, redis_url, nginx_binary, spa_dist):
    from apps.tools.tests.helpers import require_tool

    for slug in SCANNERS:
        require_tool(slug)
    tmp = tmp_path_factory.mktemp("hostile")
    stack = start_hostile_stack(
        tmp,
        postgres_params=postgres_params,
        redis_url=redis_url,
        nginx_binary=nginx_binary,
        spa_dist=spa_dist,
    )
    yield stack
    stack.stop()


@pytest.fixture
def listener():
    server = CanaryListener()
    yield server
    server.close()


def wait_all(stack, scan_ids: list[int], timeout: float) -> dict[int, dict]:
    """Poll every scan until it is finished; fail with the logs past `timeout`."""
    deadline = time.monotonic() + timeout
    done: dict[int, dict] = {}
    while time.monotonic() < deadline:
        for scan_id in scan_ids:
            if scan_id in done:
                continue
            status, scan = stack.live.api("GET", f"/api/v1/scans/{scan_id}/")
            assert status == 200, scan
            if scan["status"] in FINISHED:
                done[scan_id] = scan
        if len(done) == len(scan_ids):
            return done
        time.sleep(0.5)
    pending = sorted(set(scan_ids) - set(done))
    raise AssertionError(f"scans {pending} did not finish in {timeout}s\n{stack.live.group.logs()}")


def findings_of(stack, project_id: int) -> int:
    return stack.sql("SELECT count(*) FROM findings_finding WHERE project_id = %s", project_id)[0][
        0
    ]


# --- 1. reports ----------------------------------------------------------------------------------
def test_hostile_reports_end_as_failed_imports_through_nginx(stack, figures, listener):
    started = time.monotonic()
    project = stack.projects["reports"]
    path = f"/api/v1/projects/{project}/imports/"
    corpus = reports.corpus()
    generated = (
        reports.xml_attacks(listener.url, quadratic_kb=scaled(64, 256))
        + reports.archives(bomb_mb=scaled(1024, 4095))
        + reports.structure(depth=scaled(100_000, 1_000_000))
        + [reports.huge_value(scaled(70, 190) << 20)]
    )
    items = corpus + generated
    pgid = stack.worker_pgids()[0]
    worker_pids = group_pids(pgid)

    answers, scan_ids = {}, {}
    for item in items:
        content = item.content() if callable(item.content) else item.content
        fields = {"format": item.format} if item.format else {}
        form = Multipart(
            content,
            item.size,
            filename=Path(item.name).name,
            fields=fields,
            file_headers=item.file_headers or {},
        )
        reply = upload(
            stack.nginx_port,
            path,
            form,
            token=stack.live.token,
            headers=item.request_headers,
        )
        answers[item.name] = reply
        if reply.status == 202:
            scan_ids[item.name] = reply.json()["id"]
    errors_5xx = {n: r.status for n, r in answers.items() if r.status >= 500}
    refused = {n: (r.status, r.body[:200]) for n, r in answers.items() if r.status != 202}
    assert not errors_5xx, errors_5xx
    assert not refused, refused

    scans = wait_all(stack, list(scan_ids.values()), timeout=scaled(300, 900))
    by_name = {name: scans[scan_id] for name, scan_id in scan_ids.items()}
    wrong = {}
    for name, scan in by_name.items():
        results = scan["tool_results"]
        messages = [r["error_message"] for r in results]
        if (
            scan["status"] != "failed"
            or not scan.get("error_message")
            or not results
            or any(r["status"] != "failed" for r in results)
            or any(not m.startswith("Import failed: ") for m in messages)
            or any(r["findings_count"] for r in results)
        ):
            wrong[name] = (scan["status"], scan.get("error_message"), messages)
    findings = findings_of(stack, project)
    all_messages = "\n".join(
        f"{s.get('error_message')}\n" + "\n".join(r["error_message"] for r in s["tool_results"])
        for s in by_name.values()
    )
    passwd_leaked = "root:x:0:0" in all_messages or "root:x:0:0" in stack.database_text()
    peak = peak_rss_mb(pgid)
    alive = all(pid in group_pids(pgid) for pid in worker_pids)
    status, health = stack.via_nginx("GET", "/api/v1/health/")
    healthy = status == 200 and health["workers"] >= 1

    # The worker still imports a good report: the hostile ones left it working.
    good = reports.GOOD_SARIF.read_bytes()
    control = upload(
        stack.nginx_port,
        f"/api/v1/projects/{stack.projects['control']}/imports/",
        Multipart(good, len(good), filename="hadolint.sarif"),
        token=stack.live.token,
    )
    assert control.status == 202, control.body
    control_scan = wait_all(stack, [control.json()["id"]], timeout=120)[control.json()["id"]]
    control_ok = control_scan["status"] == "completed" and control_scan["summary"]["total"] > 0
    elapsed = time.monotonic() - started

    xml_names = [i.name for i in generated if i.name.endswith(".xml")]
    archive_names = [i.name for i in reports.archives(1)]
    unknown = [
        n
        for n in archive_names
        if "not recognised" not in by_name[n]["tool_results"][0]["error_message"]
        and "not valid UTF-8" not in by_name[n]["tool_results"][0]["error_message"]
    ]
    figures.add(
        SUITE,
        f"bad reports through nginx ({len(corpus)} corpus + {len(generated)} generated)",
        len(items),
        f"{len(items) - len(wrong)} failed imports with a message, {findings} findings, "
        f"{len(errors_5xx)} 5xx, {elapsed:.0f}s",
        not wrong and findings == 0 and not errors_5xx,
    )
    figures.add(
        SUITE,
        "XXE (file:// and loopback), DTDs, XInclude, stylesheet, entity expansion",
        len(xml_names),
        f"listener requests: {len(listener.hits)}; /etc/passwd leaked: {passwd_leaked}",
        not listener.hits and not passwd_leaked,
    )
    figures.add(
        SUITE,
        f"zip/gzip bombs ({scaled(1024, 4095)} MB inside) and compressed reports",
        len(archive_names),
        f"{len(archive_names) - len(unknown)} refused as not JSON/XML (no import unpacks)",
        not unknown,
    )
    figures.add(
        SUITE,
        "worker during the hostile imports",
        len(items),
        f"peak RSS {peak:.0f} MB (limit {WORKER_RSS_LIMIT_MB}); pool alive: {alive}; "
        f"health ok: {healthy}; good report after: {control_scan['status']}",
        peak < WORKER_RSS_LIMIT_MB and alive and healthy and control_ok,
    )
    assert not wrong, wrong
    assert findings == 0
    assert not listener.hits, listener.hits
    assert not passwd_leaked
    assert not unknown, {n: by_name[n]["tool_results"][0]["error_message"] for n in unknown}
    assert peak < WORKER_RSS_LIMIT_MB, peak
    assert alive and healthy, stack.live.group.logs()
    assert control_ok, control_scan


# --- 2. 2 GB uploads ------------------------------------------------------------------------------
def _imports_on_disk(stack) -> list[Path]:
    root = stack.media / "imports"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_two_gigabyte_uploads_are_refused_by_nginx_and_by_the_app(stack, figures):
    path = f"/api/v1/projects/{stack.projects['reports']}/imports/"
    token = stack.live.token
    before = set(_imports_on_disk(stack))
    web_pgid = stack.live.web.popen.pid
    limit_mb = 200  # SECULITE_MAX_UPLOAD_MB's default, and nginx's client_max_body_size

    def declared(port: int, *, promise: int, stream: int) -> object:
        form = Multipart(zeros(stream), stream)
        return send(
            port,
            "POST",
            path,
            chunks=form.chunks(),
            headers={
                "Authorization": f"Token {token}",
                "Content-Type": form.content_type,
                "Content-Length": str(promise),
                "Accept": "application/json",
            },
        )

    def honest(port: int, total: int) -> object:
        """A body of exactly `total` bytes (its true Content-Length) whose file part is as big
        as fits: the header check passes, the file goes past the limit."""
        overhead = Multipart(b"", 0).length
        form = Multipart(zeros(total - overhead), total - overhead)
        return upload(port, path, form, token=token)

    def chunked(port: int, total: int) -> object:
        form = Multipart(zeros(total), total)
        return send(
            port,
            "POST",
            path,
            chunks=form.chunks(),
            chunked=True,
            headers={
                "Authorization": f"Token {token}",
                "Content-Type": form.content_type,
                "Accept": "application/json",
            },
        )

    cases = {
        "nginx, Content-Length 2 GB": declared(stack.nginx_port, promise=TWO_GB, stream=64 << 20),
        "nginx, 2 GB chunked from a generator": chunked(stack.nginx_port, TWO_GB),
        "app, Content-Length 2 GB": declared(stack.web_port, promise=TWO_GB, stream=64 << 20),
        "app, Content-Length under the limit, file past it": honest(
            stack.web_port, total=(limit_mb + 1) * (1 << 20) - 1
        ),
        "app, 2 GB chunked from a generator": chunked(stack.web_port, TWO_GB),
    }
    # What each must answer: nginx's JSON 413, the app's own 413 (file_too_large); past the
    # limit mid-body, Gunicorn may reset the connection before its 413 arrives (it closes with
    # the client still sending; behind nginx that cannot happen: nginx refuses first). Without
    # a Content-Length Django reads no body at all: a 400 for the missing file.
    expected = {
        "nginx, Content-Length 2 GB": ({413}, "request_too_large"),
        "nginx, 2 GB chunked from a generator": ({413}, "request_too_large"),
        "app, Content-Length 2 GB": ({413}, "file_too_large"),
        "app, Content-Length under the limit, file past it": ({413, RESET}, "file_too_large"),
        "app, 2 GB chunked from a generator": ({400, 413, RESET}, None),
    }
    problems = {}
    for name, reply in cases.items():
        body = {}
        try:
            body = reply.json()
        except ValueError:
            pass
        statuses, code = expected[name]
        shaped = isinstance(body.get("detail"), str) and "errors" in body
        ok = reply.status in statuses and (
            reply.status == RESET or (shaped and (code is None or body["error_code"] == code))
        )
        # What was sent before the refusal: the limit plus what the sockets hold in flight.
        ok = ok and reply.sent <= (limit_mb + 32) << 20
        if not ok:
            problems[name] = (reply.status, reply.sent, reply.body[:300])
        answer = "connection reset" if reply.status == RESET else reply.status
        figures.add(
            SUITE,
            f"2 GB upload: {name}",
            1,
            f"{answer} {body.get('error_code', '')} after {reply.sent / (1 << 20):.0f} MB "
            f"sent, {reply.seconds}s",
            ok,
        )
    leftovers = sorted(set(_imports_on_disk(stack)) - before)
    web_peak = peak_rss_mb(web_pgid)
    nginx_temp = stack.tmp / "nginx" / "cache" / "client_temp"
    temp_left = [p for p in nginx_temp.rglob("*") if p.is_file()] if nginx_temp.exists() else []
    figures.add(
        SUITE,
        "2 GB uploads: what stayed behind",
        len(cases),
        f"{len(leftovers)} stored files, {len(temp_left)} nginx temp files; Gunicorn peak RSS "
        f"{web_peak:.0f} MB",
        not leftovers and not temp_left and web_peak < 512,
    )
    assert not problems, problems
    assert cases["app, Content-Length 2 GB"].sent < (limit_mb << 20)
    assert cases["nginx, Content-Length 2 GB"].sent < (limit_mb << 20)
    assert not leftovers, leftovers
    assert not temp_left, temp_left
    assert web_peak < 512, web_peak


# --- 3. targets -----------------------------------------------------------------------------------
def hostile_targets(roots: Path) -> list[tuple[str, str, dict | None, str]]:
    """(asset type, identifier, metadata, field that must carry the error)."""
    r = str(roots)
    injection = [
        ("git_repository", "--output=/etc/x", None),
        ("git_repository", "-oX", None),
        ("git_repository", "--upload-pack=touch /tmp/pwned", None),
        ("git_repository", "-c core.sshCommand=touch /tmp/pwned", None),
        ("git_repository", "ext::sh -c touch% /tmp/pwned", None),
        ("git_repository", "fd::17", None),
        ("git_repository", "git@example.org:-oProxyCommand=touch%20/tmp/pwned", None),
        ("git_repository", "https://example.org/a.git\n--upload-pack=x", None),
        ("git_repository", f"{r}/$(touch pwned)", None),
        ("git_repository", f"{r}/`touch pwned`", None),
        ("git_repository", f"{r}/plain\n-oX", None),
        ("url", "-oX", None),
        ("url", "http://example.org/\n--output=/etc/x", None),
        ("url", "http://example.org/$(id)", None),
        ("ip_address", "--output=/etc/x", None),
        ("ip_address", "127.0.0.1;id", None),
        ("ip_address", "-oX", None),
        ("domain_name", "-oX.example.org", None),
        ("domain_name", "$(id).example.org", None),
        ("domain_name", "`id`.example.org", None),
        ("docker_image", "--output=/etc/x", None),
        ("docker_image", "--privileged", None),
        ("docker_image", "alpine:$(id)", None),
        ("docker_image", "alpine;id", None),
        ("file_upload", "-oX", None),
    ]
    traversal = [
        ("git_repository", f"{r}/../../etc", None),
        ("git_repository", f"{r}/plain/../../..", None),
        ("git_repository", "/etc", None),
        ("git_repository", "/proc/self", None),
        ("git_repository", "/proc/self/cwd", None),
        ("git_repository", "/proc/self/root/etc", None),
        ("git_repository", f"{r}/link-to-etc", None),
        ("git_repository", f"{r}/link-to-outside", None),
        ("git_repository", "relative/path", None),
        ("git_repository", f"file://{r}/../../etc", None),
        ("git_repository", "file:///etc", None),
        ("git_repository", "file:///proc/self/root", None),
        ("file_upload", "../../etc/passwd", None),
        ("file_upload", "/etc/shadow", None),
    ]
    ssrf = [
        ("url", "http://127.0.0.1/", None),
        ("url", "http://127.0.0.1:6379/", None),
        ("url", "http://169.254.169.254/latest/meta-data/", None),
        ("url", "http://[::1]/", None),
        ("url", "http://0x7f000001/", None),
        ("url", "http://2130706433/", None),
        ("url", "http://0177.0.0.1/", None),
        ("url", "http://127.1/", None),
        ("url", "http://0.0.0.0/", None),
        ("url", "http://[::ffff:127.0.0.1]/", None),
        ("url", "http://[::ffff:a9fe:a9fe]/", None),
        ("url", "http://localhost/", None),
        ("url", "http://vm/", None),  # /etc/hosts: a DNS name that resolves to loopback
        ("url", "http://example.org@127.0.0.1/", None),
        ("url", "http://127.0.0.1#@example.org/", None),
        ("url", "http://169.254.169.254.nip.io/", None),
        ("url", "file:///etc/passwd", None),
        ("url", "gopher://127.0.0.1:6379/_FLUSHALL", None),
        ("url", "dict://127.0.0.1:6379/info", None),
        ("url", "ftp://127.0.0.1/", None),
        ("git_repository", "https://127.0.0.1/repo.git", None),
        ("git_repository", "https://localhost/repo.git", None),
        ("git_repository", "ssh://[::1]/repo.git", None),
        ("git_repository", "git@169.254.169.254:repo.git", None),
        ("git_repository", "http://127.0.0.1/repo.git", None),
        ("ip_address", "127.0.0.1", None),
        ("ip_address", "169.254.169.254", None),
        ("ip_address", "::1", None),
        ("ip_address", "10.0.0.1", None),
        ("ip_address", "0.0.0.0", None),  # noqa: S104 - a hostile target value
        ("domain_name", "localhost", None),
        ("domain_name", "vm", None),
    ]
    branches = [
        ("git_repository", f"{r}/plain", {"branch": "--upload-pack=touch /tmp/pwned"}),
        ("git_repository", f"{r}/plain", {"branch": "main\n-oX"}),
        ("git_repository", f"{r}/plain", {"branch": "$(touch pwned)"}),
    ]
    out = []
    for kind, items in (("injection", injection), ("traversal", traversal), ("ssrf", ssrf)):
        out += [(kind, t, i, m, "identifier") for t, i, m in items]
    out += [("injection", t, i, m, "metadata") for t, i, m in branches]
    return out


def target_count(stack, project: int) -> int:
    return stack.sql("SELECT count(*) FROM projects_targetasset WHERE project_id = %s", project)[0][
        0
    ]


def test_hostile_targets_are_refused_through_the_api_the_admin_and_the_cli(
    stack, figures, listener, tmp_path
):
    from django.conf import settings

    started = time.monotonic()
    roots = stack.roots
    (roots / "plain").mkdir(exist_ok=True)
    (roots / "plain" / "app.py").write_text("x = 1\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    for name, target in (("link-to-etc", Path("/etc")), ("link-to-outside", outside)):
        if not (roots / name).exists():
            (roots / name).symlink_to(target)
    project = stack.projects["targets"]
    cases = hostile_targets(roots)

    # The default policy of a fresh install (pytest runs on the base settings' defaults).
    default_policy = (
        list(settings.SECULITE_ALLOWED_PRIVATE_TARGETS) == []
        and list(settings.SECULITE_SCAN_ROOTS) == []
        and settings.SECULITE_ALLOW_FILE_GIT_URLS is False
    )
    figures.add(
        SUITE,
        "default target policy",
        "-",
        "no private/loopback targets, no local paths, no file:// URLs unless configured "
        f"(this stack: scan root {roots.name}/, file:// on, no private targets)",
        default_policy,
    )

    # API: each refused with a field error; nothing saved.
    api_wrong = {}
    for kind, asset_type, identifier, metadata, field in cases:
        body = {"name": "hostile", "asset_type": asset_type, "identifier": identifier}
        if metadata is not None:
            body["metadata"] = metadata
        status, answer = stack.via_nginx("POST", f"/api/v1/projects/{project}/targets/", body)
        if status != 400 or field not in (answer or {}).get("errors", {}):
            api_wrong[(kind, asset_type, identifier)] = (status, answer)
    saved = target_count(stack, project)
    # Updates go through the same rules: a good target cannot be turned hostile.
    status, good = stack.via_nginx(
        "POST",
        f"/api/v1/projects/{project}/targets/",
        {"name": "good", "asset_type": "git_repository", "identifier": str(roots / "plain")},
    )
    assert status == 201, good
    patched_wrong = {}
    for _, asset_type, identifier, metadata, field in cases:
        if asset_type != "git_repository":
            continue
        body = {"identifier": identifier, **({"metadata": metadata} if metadata else {})}
        status, answer = stack.via_nginx(
            "PATCH", f"/api/v1/projects/{project}/targets/{good['id']}/", body
        )
        if status != 400 or field not in (answer or {}).get("errors", {}):
            patched_wrong[identifier] = (status, answer)
    stored = stack.sql(
        "SELECT identifier, metadata::text FROM projects_targetasset WHERE id = %s", good["id"]
    )[0]
    patched_count = sum(1 for c in cases if c[1] == "git_repository")
    by_kind = {k: sum(1 for c in cases if c[0] == k) for k in ("injection", "traversal", "ssrf")}
    figures.add(
        SUITE,
        "hostile targets via the API (POST; "
        + ", ".join(f"{n} {k}" for k, n in by_kind.items())
        + ")",
        len(cases),
        f"{len(cases) - len(api_wrong)} refused with a field error; {saved} saved",
        not api_wrong and saved == 0,
    )
    figures.add(
        SUITE,
        "hostile git targets via the API (PATCH of a good target)",
        patched_count,
        f"{patched_count - len(patched_wrong)} refused; stored value unchanged: "
        f"{stored[0] == str(roots / 'plain')}",
        not patched_wrong and stored[0] == str(roots / "plain"),
    )

    # The Django admin, through nginx, as a staff user.
    admin = AdminSession(f"http://127.0.0.1:{stack.nginx_port}")
    admin.log_in(ADMIN_USER, stack.admin_password)
    admin_cases = [c for c in cases if c[4] == "identifier"][:: scaled(3, 1)]
    admin_wrong = {}
    before = target_count(stack, project)
    for _kind, asset_type, identifier, _metadata, _field in admin_cases:
        status, page, _location = admin.add_target(project, asset_type, identifier)
        if status != 200 or "errorlist" not in page:
            admin_wrong[(asset_type, identifier)] = (status, page[:300])
    branch_status, branch_page, _ = admin.add_target(
        project, "git_repository", str(roots / "plain"), '{"branch": "--upload-pack=x"}'
    )
    admin_saved = target_count(stack, project) - before
    control_status, _page, _loc = admin.add_target(project, "docker_image", "nginx:1.27")
    figures.add(
        SUITE,
        "hostile targets via the Django admin add form (staff, through nginx)",
        len(admin_cases) + 1,
        f"{len(admin_cases) + 1 - len(admin_wrong) - (branch_status != 200)} refused with a "
        f"form error; {admin_saved} saved; a good one saved: {control_status == 302}",
        not admin_wrong and branch_status == 200 and admin_saved == 0 and control_status == 302,
    )

    # The CLI: hostile paths and options; a clear error, exit 2, nothing written anywhere.
    cli_dir = tmp_path / "cli"
    cli_dir.mkdir()
    empty = cli_dir / "empty"
    empty.mkdir()
    weird = cli_dir / "$(touch pwned-cli)"
    weird.mkdir()
    (weird / "app.py").write_text("eval(input())\n")
    env = {
        "PATH": f"{BACKEND_DIR / '.venv' / 'bin'}:/usr/bin:/bin",
        "PYTHONPATH": str(BACKEND_DIR),
        "HOME": str(cli_dir),
        "LANG": "C.UTF-8",
        "SECULITE_API_KEY": "slk_hostile",
        "SECULITE_TOOLS_DIR": stack.live.env["SECULITE_TOOLS_DIR"],
    }
    e = str(empty)
    cli_cases = {
        "PATH missing, --output=/etc/x": (["--output=/etc/seculite-hostile-x"], "PATH"),
        "PATH missing, -oX": (["-oX"], "PATH"),
        "PATH $(touch ...)": (["$(touch pwned-cli)x"], "does not exist"),
        "PATH with a newline and an option": ([f"{e}\n--output=/etc/x"], "does not exist"),
        "PATH ../../etc/passwd (a file)": ([e + "/.." * 30 + "/etc/passwd"], "not a directory"),
        "PATH -- --output=x": (["--", "--output=x"], "does not exist"),
        "--tools with a shell command": ([e, "--tools", "bandit;touch pwned-cli"], "unknown tool"),
        "--tools with an option": ([e, "--tools", "--version"], "--tools"),
        "--output into a missing folder": ([e, "--output", "/nonexistent/x.json"], "folder"),
        "--upload file://": ([e, "--upload", "file:///etc/passwd", "--project", "1"], "http"),
        "--upload gopher:// to a listener": (
            [e, "--upload", f"gopher://127.0.0.1:{listener.port}/_x", "--project", "1"],
            "http",
        ),
        "--timeout nan": ([e, "--timeout", "nan"], "positive"),
        "--format with a shell command": ([e, "--format", "sarif;id"], "invalid choice"),
    }

    def run_cli(args: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(
            [PYTHON, "-m", "seculite", "scan", *args],
            cwd=cli_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = dict(
            zip(cli_cases, pool.map(run_cli, [a for a, _ in cli_cases.values()]), strict=True)
        )
        weird_scan = pool.submit(
            run_cli, [str(weird), "--tools", "bandit", "--format", "json"]
        ).result()
    cli_wrong = {
        name: (done.returncode, done.stderr[-300:])
        for name, done in outcomes.items()
        if done.returncode != 2 or cli_cases[name][1] not in done.stderr
    }
    written = sorted(
        str(p) for p in (cli_dir.rglob("*")) if p.name.startswith(("pwned", "X", "x", "--"))
    )
    etc_written = Path("/etc/seculite-hostile-x").exists()
    weird_ok = weird_scan.returncode == 0 and '"B307"' in weird_scan.stdout
    figures.add(
        SUITE,
        "hostile paths and options via the CLI (python -m seculite scan)",
        len(cli_cases),
        f"{len(cli_cases) - len(cli_wrong)} exit 2 with a clear error; files written: "
        f"{len(written) + etc_written}; listener requests: {len(listener.hits)}",
        not cli_wrong and not written and not etc_written and not listener.hits,
    )
    figures.add(
        SUITE,
        "CLI scan of a directory named $(touch ...)",
        1,
        f"exit {weird_scan.returncode}, finding reported: {weird_ok}, command run: "
        f"{bool(written)}; {time.monotonic() - started:.0f}s for the target checks",
        weird_ok and not written,
    )
    assert not api_wrong, api_wrong
    assert saved == 0
    assert not patched_wrong, patched_wrong
    assert stored[0] == str(roots / "plain") and "upload-pack" not in stored[1], stored
    assert not admin_wrong, admin_wrong
    assert branch_status == 200 and "errorlist" in branch_page
    assert admin_saved == 0
    assert control_status == 302
    assert not cli_wrong, cli_wrong
    assert not written and not etc_written, written
    assert not listener.hits
    assert weird_ok, (weird_scan.returncode, weird_scan.stdout[-500:], weird_scan.stderr[-500:])
    assert default_policy


# --- 4. a repository crafted against the scanners -------------------------------------------------
def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under `root` (symlinks not followed): size, mtime and mode."""
    seen = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            path = Path(folder) / name
            st = path.lstat()
            seen[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns, st.st_mode)
    return seen


def shadow_line() -> str:
    """The first line of /etc/shadow with a password field: its text must never leak."""
    for line in Path("/etc/shadow").read_text().splitlines():
        if line.count(":") >= 2 and line.split(":")[1] not in ("", "*", "!", "!*"):
            return line
    return Path("/etc/shadow").read_text().splitlines()[0]


def text_files(*roots: Path) -> list[Path]:
    files = []
    for root in roots:
        if root.is_dir():
            for folder, _dirs, names in os.walk(root, followlinks=False):
                for name in names:
                    path = Path(folder) / name
                    if not path.is_symlink() and path.stat().st_size < (64 << 20):
                        files.append(path)
    return files


def test_a_repository_crafted_against_the_scanners(stack, figures, tmp_path):
    base = tmp_path
    repo = build(base, stack.roots, sparse_gb=10)
    fired = arm_check(repo, base)
    assert "MARKER-fsmonitor" in fired, fired
    assert "MARKER-hookspath-post-checkout" in fired, fired
    figures.add(
        SUITE,
        "hostile repo traps armed (plain git in it runs them)",
        len(fired),
        ", ".join(sorted(fired)),
        True,
    )
    before = snapshot(repo.source)
    watch = DirectoryWatch(repo.outside)
    project = stack.projects["repos"]
    targets = {}
    for name, identifier in (("clone", f"file://{repo.source}"), ("local", str(repo.source))):
        status, target = stack.live.api(
            "POST",
            f"/api/v1/projects/{project}/targets/",
            {"name": name, "asset_type": "git_repository", "identifier": identifier},
        )
        assert status == 201, target
        targets[name] = target["id"]
    clone_tools = SCANNERS if FULL else ["bandit", "detect-secrets", "shellcheck", "hadolint"]
    scan_ids = {}
    started = time.monotonic()
    for name, tools in (("local", SCANNERS), ("clone", clone_tools)):
        status, config = stack.live.api(
            "POST",
            f"/api/v1/projects/{project}/scanconfigurations/",
            {
                "name": f"hostile-{name}",
                "target_assets": [targets[name]],
                "tools_and_configs": [{"tool_id": t} for t in tools],
            },
        )
        assert status == 201, config
        status, scan = stack.live.api(
            "POST",
            f"/api/v1/projects/{project}/scanconfigurations/{config['id']}/launch/",
        )
        assert status == 202, scan
        scan_ids[name] = scan["id"]
    scans = wait_all(stack, list(scan_ids.values()), timeout=scaled(600, 1200))
    elapsed = time.monotonic() - started

    # The CLI on the same tree, in place (a developer's `seculite scan .` on a hostile clone).
    cli_tools = SCANNERS if FULL else ["bandit", "detect-secrets", "shellcheck", "hadolint"]
    cli_started = time.monotonic()
    cli = subprocess.run(
        [
            PYTHON,
            "-m",
            "seculite",
            "scan",
            str(repo.source),
            "--tools",
            ",".join(cli_tools),
            "--format",
            "json",
        ],
        cwd=base,
        env={
            "PATH": f"{BACKEND_DIR / '.venv' / 'bin'}:/usr/bin:/bin",
            "PYTHONPATH": str(BACKEND_DIR),
            "HOME": str(base),
            "LANG": "C.UTF-8",
            "SECULITE_TOOLS_DIR": stack.live.env["SECULITE_TOOLS_DIR"],
        },
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    cli_seconds = time.monotonic() - cli_started
    try:
        cli_report = json.loads(cli.stdout)
    except ValueError:
        cli_report = {"tools": [], "findings": []}
    cli_tools_ok = sorted(
        t["tool"] for t in cli_report["tools"] if t["status"] == "completed" and t["findings_count"]
    ) == sorted(cli_tools)
    events = [e for e in watch.poll()]
    watch.close()
    after = snapshot(repo.source)

    results = {
        (name, r["tool_id"]): r for name, scan_id in scan_ids.items()
        for r in scans[scan_id]["tool_results"]
    }  # fmt: skip
    not_clean = {
        key: (r["status"], r["error_message"][:300])
        for key, r in results.items()
        if r["status"] not in ("completed", "no_findings")
    }
    no_findings = sorted(
        tool for (name, tool), r in results.items() if name == "local" and not r["findings_count"]
    )
    shadow = shadow_line()
    logs = [p for p in stack.tmp.glob("*.log")]
    haystack_files = text_files(stack.media, stack.tmp / "workspaces") + logs
    leaked_files = []
    for path in haystack_files:
        data = path.read_bytes()
        if repo.canary.encode() in data or shadow.encode() in data:
            leaked_files.append(str(path.relative_to(stack.tmp)))
    database = stack.database_text()
    leaked_db = repo.canary in database or shadow in database
    leaked_cli = repo.canary in cli.stdout + cli.stderr or shadow in cli.stdout + cli.stderr
    # A shell run on a file name would create these in its working directory: the worker's
    # (backend/), a scanner's (the workspace, its scratch), the CLI's (base).
    pwned = [
        str(p)
        for pattern, root in (
            ("pwned-*", BACKEND_DIR),
            ("**/pwned-*", stack.roots),
            ("**/pwned-*", stack.tmp),
            ("**/pwned-*", base),
        )
        for p in root.glob(pattern)
        if p.name.split(".")[0] in PWNED_NAMES
    ]
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    workspaces_left = sorted(p.name for p in (stack.tmp / "workspaces").glob("scan-*"))
    markers = [p.name for p in repo.markers]

    figures.add(
        SUITE,
        f"hostile repo scanned: {len(SCANNERS)} tools in place + {len(clone_tools)} on the "
        "clone path",
        len(results),
        f"{len(results) - len(not_clean)} completed; both scans ended in {elapsed:.0f}s "
        f"(10 GB sparse files x{len(repo.sparse_files)} present)",
        not not_clean and not no_findings,
    )
    figures.add(
        SUITE,
        "hostile repo: reads/writes outside the workspace (inotify on the canary folder)",
        len(results) + 1,
        f"{len(events)} events, markers {markers or 'none'}, shell names run: {len(pwned)}",
        not events and not markers and not pwned,
    )
    figures.add(
        SUITE,
        "hostile repo: canary secret and /etc/shadow in findings, raw output, logs, CLI",
        len(haystack_files) + 2,
        f"leaked in {len(leaked_files)} files, database: {leaked_db}, CLI: {leaked_cli}",
        not leaked_files and not leaked_db and not leaked_cli,
    )
    figures.add(
        SUITE,
        "hostile repo: scanned tree and workspaces after the scans",
        len(before),
        f"{len(changed)} entries changed in the scanned tree; {len(workspaces_left)} workspaces "
        f"left; CLI ({len(cli_tools)} tools) exit {cli.returncode} in {cli_seconds:.0f}s, every "
        f"tool completed with findings: {cli_tools_ok}",
        not changed and not workspaces_left and cli.returncode == 0 and cli_tools_ok,
    )
    assert not not_clean, not_clean
    assert not no_findings, f"tools that found nothing on the hostile repo: {no_findings}"
    assert not events, events[:50]
    assert not markers, markers
    assert not pwned, pwned
    assert not leaked_files, leaked_files
    assert not leaked_db
    assert not leaked_cli
    assert not changed, changed[:50]
    assert not workspaces_left, workspaces_left
    assert cli.returncode == 0 and cli_tools_ok, (cli.returncode, cli.stderr[-2000:])
