"""Small servers on 127.0.0.1 for the tests of the network scanners (wapiti, sslyze, nmap).

Every server binds 127.0.0.1 on a port the kernel picks, serves from a daemon thread and stops
when its `with` block ends. Test data only: deliberately weak, never used outside the test suite.
"""

from __future__ import annotations

import html
import shutil
import socket
import ssl
import subprocess
import threading
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from apps.tools.plugins.base import ScanContext, ScannerPlugin, TargetType
from apps.tools.runner import RunResult, run_plugin

LOOPBACK = "127.0.0.1"


class _VulnerableHandler(BaseHTTPRequestHandler):
    """A tiny web app with planted flaws that wapiti reports.

    - `/search?q=`: the parameter is echoed unescaped (reflected XSS);
    - `/item?id=`: a quote in the parameter produces a MySQL error page (error-based SQLi);
    - every page: no Content-Security-Policy, X-Frame-Options or X-Content-Type-Options, and a
      session cookie without HttpOnly and Secure flags.
    """

    server_version = "seculite-test-app/1"

    def do_GET(self):
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        if parts.path == "/":
            body = (
                "<html><body><h1>Shop</h1>"
                '<a href="/search?q=shoes">search</a> <a href="/item?id=1">item</a>'
                "</body></html>"
            )
        elif parts.path == "/search":
            # Reflected XSS, on purpose.
            body = f"<html><body>Results for {query.get('q', [''])[0]}</body></html>"
        elif parts.path == "/item":
            item = query.get("id", [""])[0]
            if "'" in item or '"' in item:
                body = (
                    "<html><body>You have an error in your SQL syntax; check the manual that "
                    "corresponds to your MySQL server version</body></html>"
                )
            else:
                body = f"<html><body>Item {html.escape(item)}</body></html>"
        else:
            self.send_error(404)
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Set-Cookie", "session=4f2a9c; Path=/")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        """Keep the test output quiet."""


class _PlainHandler(BaseHTTPRequestHandler):
    """A page without planted flaws; Python's own Server header, which nmap recognises."""

    extra_headers: dict[str, str] = {}

    def do_GET(self):
        data = b"<html><body>ok</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        for name, value in self.extra_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        """Keep the test output quiet."""


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """Scanners send garbage on purpose: no tracebacks in the test output."""


class HttpServer:
    """`with HttpServer() as app:` serves the vulnerable app; `app.url` is its base URL.

    With `context` (a server SSLContext) it serves HTTPS.
    """

    def __init__(self, handler=_VulnerableHandler, *, context: ssl.SSLContext | None = None):
        self.httpd = _Quiet((LOOPBACK, 0), handler)
        self.scheme = "http"
        if context is not None:
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"{self.scheme}://{LOOPBACK}:{self.port}/"

    def __enter__(self) -> HttpServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


class _HstsHandler(_PlainHandler):
    extra_headers = {"Strict-Transport-Security": "max-age=63072000"}


def plain_http_server(*, context: ssl.SSLContext | None = None, hsts: bool = False) -> HttpServer:
    """A page without planted flaws (over TLS with `context`, with HSTS if `hsts`)."""
    return HttpServer(_HstsHandler if hsts else _PlainHandler, context=context)


class BannerServer:
    """A raw TCP service that greets every client with `banner` (e.g. an FTP or SSH banner)."""

    def __init__(self, banner: bytes):
        self.banner = banner
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((LOOPBACK, 0))
        self.sock.listen(32)
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._greet, args=(conn,), daemon=True).start()

    def _greet(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.sendall(self.banner)
                conn.settimeout(2)
                conn.recv(1024)
            except OSError:
                pass

    def __enter__(self) -> BannerServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def self_signed_certificate(
    folder: Path, common_name: str = "localhost", *, san: str = ""
) -> tuple[Path, Path]:
    """A throw-away self-signed RSA certificate and key made with the openssl command
    (`san` e.g. "IP:127.0.0.1" adds a subjectAltName)."""
    openssl = shutil.which("openssl") or "/usr/bin/openssl"
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "30",
            "-subj",
            f"/CN={common_name}",
            *(["-addext", f"subjectAltName={san}"] if san else []),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def strong_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server context within Mozilla's intermediate profile: TLS 1.2+, ECDHE with AEAD, P-256."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")
    context.set_ecdh_curve("prime256v1")
    context.load_cert_chain(str(cert), str(key))
    return context


def weak_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server context that still accepts TLS 1.0/1.1 and legacy cipher suites (if the local
    OpenSSL allows them at security level 0)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0 is deprecated: the point
        try:
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.set_ciphers("ALL:@SECLEVEL=0")
        except (ValueError, ssl.SSLError):
            pass
    context.load_cert_chain(str(cert), str(key))
    return context


def run_on_target(
    plugin: ScannerPlugin,
    target: str,
    target_type: TargetType,
    tmp_path: Path,
    *,
    timeout: float | None = None,
    **overrides,
) -> RunResult:
    """Run a network scanner through the runner on `target` with an empty scratch workspace."""
    workspace = tmp_path / f"ws-{plugin.slug}"
    workspace.mkdir(parents=True, exist_ok=True)
    ctx = ScanContext(
        workspace=workspace,
        output_dir=tmp_path / f"out-{plugin.slug}",
        target_type=target_type,
        target=target,
        overrides=overrides,
    )
    return run_plugin(plugin, ctx, timeout=timeout)
