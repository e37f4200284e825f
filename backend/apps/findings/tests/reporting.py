"""Builders of scans, tool results and findings for the tests of exports, reports, dashboards,
notifications and retention (rows written directly, as a finished scan leaves them), and a
local webhook receiver."""

from __future__ import annotations

import http.server
import itertools
import threading
from datetime import timedelta

from django.utils import timezone

from apps.findings.models import SEVERITY_RANK, Finding
from apps.findings.tests.sightings import create_finding
from apps.scans.models import Scan, ScanToolResult

_counter = itertools.count(1)


def make_scan(
    project,
    *,
    configuration=None,
    status: str = "completed",
    tools: list[tuple[str, object]] = (),
    tool_status: str = "completed",
    tool_version: str = "1.7.10",
    summary: dict | None = None,
) -> Scan:
    """A finished scan with one tool result per (tool, target)."""
    now = timezone.now()
    scan = Scan.objects.create(
        project=project,
        configuration=configuration,
        trigger_type="manual",
        status=status,
        started_at=now - timedelta(minutes=2),
        finished_at=now,
        summary=summary or {},
    )
    for tool_id, target in tools:
        ScanToolResult.objects.create(
            scan=scan,
            tool_id=tool_id,
            target=target,
            status=tool_status,
            tool_version=tool_version,
            started_at=now - timedelta(minutes=2),
            finished_at=now,
        )
    return scan


def make_finding(
    *,
    project,
    target,
    tool_id: str = "bandit",
    first_scan=None,
    last_scan=None,
    severity: str = "high",
    status: str = "new",
    **fields,
) -> Finding:
    n = next(_counter)
    now = timezone.now()
    override = fields.get("severity_override", "")
    values = {
        "project": project,
        "target": target,
        "tool_id": tool_id,
        "first_seen_scan": first_scan,
        "last_seen_scan": last_scan or first_scan,
        "first_seen_at": now,
        "last_seen_at": now,
        "title": f"Finding {n}",
        "severity": severity,
        "severity_rank": SEVERITY_RANK[override or severity],
        "rule_id": f"B{n:03d}",
        "file_path": f"app/module_{n}.py",
        "line_start": n,
        "fingerprint": f"{n:064x}",
        "status": status,
    }
    values.update(fields)
    return create_finding(**values)


class Receiver:
    """An HTTP server on 127.0.0.1 that records each request and answers the next status code
    of `codes` (200 when none are left)."""

    def __init__(self):
        self.codes: list[int] = []
        self.requests: list[dict] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                receiver.requests.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": self.rfile.read(length),
                    }
                )
                code = receiver.codes.pop(0) if receiver.codes else 200
                answer = b"ok" if code < 300 else b"receiver exploded"
                self.send_response(code)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/seculite?team=sec"

    def close(self):
        self.server.shutdown()
        self.server.server_close()
