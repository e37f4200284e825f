"""Render the repository's nginx configuration (nginx/) for a native nginx.

The files under nginx/ are written for the nginx container: the upstream is the compose service
`backend:8000`, the SPA, static files and media live at fixed paths, and the snippets are included
from /etc/nginx/seculite/. `render_nginx_conf` copies nginx/ into a directory of its own and
rewrites those tokens by plain string replacement, so that `nginx -t` or a real nginx can run
from there, as root or unprivileged (pid file, logs and temporary files move into that directory
too). Tests of the deployment files and the stack test both use it.

The tokens (each written exactly like this in nginx/*.conf and nginx/seculite/*.conf):

    backend:8000              upstream server (in `upstream seculite_backend { ... }`)
    listen 80;                plain HTTP listener
    listen 443 ssl http2;     TLS listener (nginx-https.conf)
    https://$host$request_uri HTTP -> HTTPS redirect target (nginx-https.conf)
    /usr/share/nginx/html     root of the built SPA
    /var/www/static/          alias of /static/ (collected static files)
    /var/www/media/           alias of the internal /protected-media/ (media volume)
    /var/www/certbot          root of ACME challenges (nginx-https.conf)
    /etc/nginx/mime.types     MIME types
    /etc/nginx/seculite/      directory of the shared snippets
    /etc/nginx/certs/         directory of fullchain.pem and privkey.pem (nginx-https.conf)
    /var/cache/nginx/         parent of the *_temp_path directories
    /var/log/nginx/           error and access logs
    user nginx;               worker user
    pid /var/run/nginx.pid;   pid file
    worker_processes auto;    worker count
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[2]
NGINX_SRC_DIR = REPO_DIR / "nginx"
NGINX_BINARY = "/usr/sbin/nginx"

UPSTREAM = "backend:8000"
LISTEN = "listen 80;"
TLS_LISTEN = "listen 443 ssl http2;"
HTTPS_REDIRECT = "https://$host$request_uri"
SPA_ROOT = "/usr/share/nginx/html"
STATIC_ROOT = "/var/www/static/"
MEDIA_ROOT = "/var/www/media/"
ACME_ROOT = "/var/www/certbot"
MIME_TYPES = "/etc/nginx/mime.types"
SNIPPETS_DIR = "/etc/nginx/seculite/"
CERTS_DIR = "/etc/nginx/certs/"
CACHE_DIR = "/var/cache/nginx/"
LOG_DIR = "/var/log/nginx/"
USER = "user nginx;"
PID = "pid /var/run/nginx.pid;"
WORKER_PROCESSES = "worker_processes auto;"

# Tokens every rendered configuration must have contained (a renamed token would otherwise
# silently leave a container path in place).
REQUIRED_TOKENS = (
    UPSTREAM,
    LISTEN,
    SPA_ROOT,
    STATIC_ROOT,
    MEDIA_ROOT,
    MIME_TYPES,
    SNIPPETS_DIR,
    CACHE_DIR,
    LOG_DIR,
    USER,
    PID,
)
TLS_TOKENS = (TLS_LISTEN, CERTS_DIR, HTTPS_REDIRECT)
TEMP_DIRS = ("client_temp", "proxy_temp", "fastcgi_temp", "uwsgi_temp", "scgi_temp")
# Container paths that must not survive rendering (outside comments).
LEFTOVER_PATTERNS = (
    UPSTREAM,
    SPA_ROOT,
    STATIC_ROOT,
    MEDIA_ROOT,
    SNIPPETS_DIR,
    CERTS_DIR,
    CACHE_DIR,
    LOG_DIR,
    "/var/run/nginx.pid",
    USER,
)


class NginxConfError(RuntimeError):
    """The nginx configuration does not contain what the renderer expects."""


def strip_comments(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def _dir(path: Path | str) -> str:
    """An absolute directory path with exactly one trailing slash."""
    return str(Path(path).resolve()).rstrip("/") + "/"


def render_nginx_conf(
    src_dir: Path | str,
    out_dir: Path | str,
    *,
    upstream: str,
    listen_port: int,
    spa_root: Path | str,
    static_root: Path | str,
    media_root: Path | str,
    run_as_root: bool | None = None,
    config: str = "nginx.conf",
    listen_host: str = "127.0.0.1",
    tls_port: int | None = None,
    certs_dir: Path | str | None = None,
    mime_types: Path | str = MIME_TYPES,
    worker_processes: int = 1,
) -> Path:
    """Copy `src_dir` (the repository's nginx/) into `out_dir`, rewrite its tokens and return the
    path of the rendered main configuration `out_dir/<config>`.

    upstream        "host:port" of Gunicorn, replacing backend:8000
    listen_port     port of the HTTP server (bound on `listen_host`, loopback by default)
    spa_root        directory of the built SPA (index.html, assets/)
    static_root     directory served under /static/
    media_root      directory behind the internal /protected-media/ location
    run_as_root     True: "user root;" (workers as root), False: no user directive (nginx runs
                    entirely as the calling user); None: True when the caller is root
    config          main file to return: nginx.conf or nginx-https.conf
    tls_port        port of the TLS server of nginx-https.conf (None: keep 443); the HTTP->HTTPS
                    redirect then names this port
    certs_dir       directory with fullchain.pem and privkey.pem (default: out_dir/certs)
    mime_types      the mime.types file to include
    worker_processes  worker count (1 keeps test runs light)

    Logs go to out_dir/logs/, temporary files to out_dir/cache/, the pid file to
    out_dir/nginx.pid. Raises NginxConfError if a token is missing from the source or a container
    path is left after rendering.
    """
    src = Path(src_dir)
    out = Path(out_dir).resolve()
    if run_as_root is None:
        run_as_root = os.geteuid() == 0
    if not (src / config).is_file():
        raise NginxConfError(f"{src / config} does not exist")
    out.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src, out, dirs_exist_ok=True)

    logs = out / "logs"
    cache = out / "cache"
    acme = out / "acme"
    for directory in (logs, acme, *(cache / name for name in TEMP_DIRS)):
        directory.mkdir(parents=True, exist_ok=True)
    certs = _dir(certs_dir) if certs_dir is not None else _dir(out / "certs")

    listen_prefix = f"{listen_host}:" if listen_host else ""
    replacements: list[tuple[str, str]] = [
        (UPSTREAM, upstream),
        (LISTEN, f"listen {listen_prefix}{listen_port};"),
        (SPA_ROOT, str(Path(spa_root).resolve())),
        (STATIC_ROOT, _dir(static_root)),
        (MEDIA_ROOT, _dir(media_root)),
        (ACME_ROOT, str(acme)),
        (MIME_TYPES, str(Path(mime_types).resolve())),
        (SNIPPETS_DIR, _dir(out / "seculite")),
        (CERTS_DIR, certs),
        (CACHE_DIR, _dir(cache)),
        (LOG_DIR, _dir(logs)),
        (USER, "user root;" if run_as_root else "# user: runs as the calling user"),
        (PID, f"pid {out / 'nginx.pid'};"),
        (WORKER_PROCESSES, f"worker_processes {worker_processes};"),
    ]
    if tls_port is not None:
        replacements.append((TLS_LISTEN, f"listen {listen_prefix}{tls_port} ssl http2;"))
        if tls_port != 443:
            replacements.append((HTTPS_REDIRECT, f"https://$host:{tls_port}$request_uri"))

    files = sorted(p for p in out.rglob("*.conf") if p.is_file())
    main = out / config
    sources = {path: path.read_text(encoding="utf-8") for path in files}

    # The main file and the snippets together must carry every token.
    combined = strip_comments("\n".join(sources.values()))
    required = list(REQUIRED_TOKENS)
    if TLS_LISTEN in strip_comments(sources[main]):
        required += TLS_TOKENS
    missing = [token for token in required if token not in combined]
    if missing:
        raise NginxConfError(f"nginx configuration in {src} lacks the tokens {missing}")

    for path, text in sources.items():
        for token, value in replacements:
            text = text.replace(token, value)
        path.write_text(text, encoding="utf-8")

    leftovers = {
        str(path.relative_to(out)): [
            token
            for token in LEFTOVER_PATTERNS
            if token in strip_comments(path.read_text(encoding="utf-8"))
        ]
        for path in files
    }
    leftovers = {name: tokens for name, tokens in leftovers.items() if tokens}
    if leftovers:
        raise NginxConfError(f"container paths left after rendering: {leftovers}")
    return main


def client_max_body_size_mb(src_dir: Path | str = NGINX_SRC_DIR) -> list[int]:
    """Every `client_max_body_size <N>m;` value in the nginx configuration, in MB."""
    values = []
    for path in sorted(Path(src_dir).rglob("*.conf")):
        text = strip_comments(path.read_text(encoding="utf-8"))
        values += [int(n) for n in re.findall(r"\bclient_max_body_size\s+(\d+)m\s*;", text)]
    return values


def nginx_binary() -> str | None:
    """The nginx binary to test with, if installed."""
    return NGINX_BINARY if Path(NGINX_BINARY).is_file() else shutil.which("nginx")


def nginx_command(conf: Path, *args: str, binary: str | None = None) -> list[str]:
    """argv running `binary` on the rendered `conf` (prefix = its directory, errors to stderr
    before the configuration's own error_log is opened)."""
    binary = binary or nginx_binary() or NGINX_BINARY
    return [binary, "-p", str(conf.parent), "-c", str(conf), "-e", "stderr", *args]


def start_nginx(group, out_dir: Path | str, *, binary: str, upstream_port: int, env=None, **conf):
    """Render the repository's configuration into `out_dir` (render_nginx_conf's keyword
    arguments) in front of Gunicorn on `upstream_port`, and run nginx in the foreground as a
    process of `group` (tests.processes.ProcessGroup). Returns (configuration path, process)."""
    path = render_nginx_conf(NGINX_SRC_DIR, out_dir, upstream=f"127.0.0.1:{upstream_port}", **conf)
    argv = [binary, "-c", str(path), "-p", str(path.parent), "-g", "daemon off;"]
    proc = group.start("nginx", argv, env or {"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    return path, proc


def check_config(conf: Path, binary: str | None = None) -> subprocess.CompletedProcess:
    """`nginx -t` on a rendered configuration."""
    return subprocess.run(
        nginx_command(conf, "-t", binary=binary),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def make_self_signed_cert(certs_dir: Path | str, common_name: str = "localhost") -> Path:
    """fullchain.pem + privkey.pem (self-signed, 1 day) in `certs_dir`, made with openssl."""
    certs = Path(certs_dir)
    certs.mkdir(parents=True, exist_ok=True)
    openssl = shutil.which("openssl")
    if openssl is None:
        raise NginxConfError("openssl is needed to make a test certificate")
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            f"/CN={common_name}",
            "-addext",
            f"subjectAltName=DNS:{common_name},IP:127.0.0.1",
            "-keyout",
            str(certs / "privkey.pem"),
            "-out",
            str(certs / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return certs
