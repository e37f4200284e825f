"""An HTTP service on 127.0.0.1 that answers every request with 500: a reachable but broken
dependency (a scanner's vulnerability service, a webhook receiver...)."""

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Broken(BaseHTTPRequestHandler):
    def _fail(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(500)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"internal error")

    do_GET = do_POST = _fail  # http.server's method names

    def log_message(self, *args):
        pass


@contextmanager
def broken_http_service():
    """Yields the base URL of a server that fails every request."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Broken)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
