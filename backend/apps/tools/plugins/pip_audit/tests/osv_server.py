"""A small OSV-style vulnerability service on loopback for pip-audit's tests.

It answers `POST /v1/query` like the real OSV API (https://google.github.io/osv.dev/post-v1-query/):
the body `{"package": {"name": ..., "ecosystem": "PyPI"}, "version": ...}` gets
`{"vulns": [<OSV records>]}` for an affected version and `{}` otherwise. The canned records
follow the OSV schema; the requests and PyYAML ones reproduce PYSEC-2018-28, PYSEC-2023-74 and
PYSEC-2021-142 of the PyPA advisory database (trimmed), the Django one is CVE-2021-33571 as
published there. Test data only: never used outside the test suite.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _record(vuln_id, package, summary, details, introduced, fixed, aliases, references, published):
    return {
        "schema_version": "1.6.0",
        "id": vuln_id,
        "modified": "2024-01-01T00:00:00Z",
        "published": published,
        "aliases": aliases,
        "summary": summary,
        "details": details,
        "affected": [
            {
                "package": {"name": package, "ecosystem": "PyPI", "purl": f"pkg:pypi/{package}"},
                "ranges": [
                    {
                        "type": "ECOSYSTEM",
                        "events": [{"introduced": introduced}, {"fixed": fixed}],
                    }
                ],
            }
        ],
        "references": [{"type": "ADVISORY", "url": url} for url in references],
    }


OSV_RECORDS: dict[str, list[dict]] = {
    "requests": [
        _record(
            "PYSEC-2018-28",
            "requests",
            None,
            "The Requests package before 2.20.0 for Python sends an HTTP Authorization header to "
            "an http URI upon receiving a same-hostname https-to-http redirect, which makes it "
            "easier for remote attackers to discover credentials by sniffing the network.",
            "0",
            "2.20.0",
            ["CVE-2018-18074"],
            ["https://github.com/requests/requests/issues/4716"],
            "2018-10-09T17:29:00Z",
        ),
        _record(
            "PYSEC-2023-74",
            "requests",
            "Requests leaks Proxy-Authorization headers",
            "Since Requests 2.3.0, Requests has been leaking Proxy-Authorization headers to "
            "destination servers when redirected to an HTTPS endpoint. Patched in 2.31.0.",
            "2.3.0",
            "2.31.0",
            ["CVE-2023-32681", "GHSA-j8r2-6x86-q33q"],
            ["https://github.com/psf/requests/security/advisories/GHSA-j8r2-6x86-q33q"],
            "2023-05-26T18:15:00Z",
        ),
    ],
    "pyyaml": [
        _record(
            "PYSEC-2021-142",
            "pyyaml",
            None,
            "A vulnerability was discovered in the PyYAML library in versions before 5.4, where "
            "it is susceptible to arbitrary code execution when it processes untrusted YAML files "
            "through the full_load method or with the FullLoader loader.",
            "0",
            "5.4",
            ["CVE-2020-14343", "GHSA-8q59-q68h-6hv4"],
            ["https://github.com/advisories/GHSA-8q59-q68h-6hv4"],
            "2021-02-09T21:15:00Z",
        ),
    ],
    "django": [
        _record(
            "CVE-2021-33571",
            "django",
            None,
            "In Django 2.2 before 2.2.24, 3.x before 3.1.12, and 3.2 before 3.2.4, URLValidator, "
            "validate_ipv4_address, and validate_ipv46_address do not prohibit leading zero "
            "characters in octal literals.",
            "3.2",
            "3.2.4",
            [],
            ["https://www.djangoproject.com/weblog/2021/jun/02/security-releases/"],
            "2021-06-08T18:15:00Z",
        ),
    ],
}


def _version(text: str) -> tuple[int, ...]:
    """Enough of PEP 440 for the canned data: dotted release numbers."""
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def _affects(record: dict, version: str) -> bool:
    current = _version(version)
    for affected in record["affected"]:
        for rng in affected["ranges"]:
            introduced = fixed = None
            for event in rng["events"]:
                introduced = event.get("introduced", introduced)
                fixed = event.get("fixed", fixed)
            if _version(introduced or "0") <= current and (
                fixed is None or current < _version(fixed)
            ):
                return True
    return False


class _Handler(BaseHTTPRequestHandler):
    server_version = "seculite-test-osv/1"

    def do_POST(self):
        if self.path != "/v1/query":
            self._reply(404, {"code": 5, "message": "Not Found"})
            return
        length = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
        try:
            query = json.loads(self.rfile.read(length) or b"{}")
            name = query["package"]["name"].lower()
            version = query["version"]
        except (ValueError, KeyError, TypeError, AttributeError):
            self._reply(400, {"code": 3, "message": "Invalid query."})
            return
        self.server.queries.append((name, version))
        vulns = [r for r in OSV_RECORDS.get(name, []) if _affects(r, version)]
        self._reply(200, {"vulns": vulns} if vulns else {})

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        """Keep the test output quiet."""


class OsvServer:
    """`with OsvServer() as server:` serves on 127.0.0.1:<random port>; `server.url` to query."""

    def __init__(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.queries = []
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1/query"

    @property
    def queries(self) -> list[tuple[str, str]]:
        return self.httpd.queries

    def __enter__(self) -> OsvServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
