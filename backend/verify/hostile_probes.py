"""Observers for the hostile-input suite: a loopback listener that must never be called, an
inotify watch on a directory that nothing may open or write, the peak memory of a process
group, and raw HTTP (multipart uploads, bodies streamed from a generator, headers that promise
more than is sent)."""

from __future__ import annotations

import ctypes
import ctypes.util
import http.client
import json
import os
import select
import socket
import struct
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path


# --- a listener that counts who called ---------------------------------------------------------
class CanaryListener:
    """A TCP server on 127.0.0.1 that records every connection (and the first bytes sent): an
    external entity, an XInclude or a stylesheet that is fetched shows up here."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hits: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.hits.append(conn.recv(512) or b"<connected>")
                    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    self.hits.append(b"<connected>")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


# --- inotify: nothing may open, read or write in a directory -----------------------------------
IN_ACCESS, IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE = 0x1, 0x2, 0x4, 0x8
IN_OPEN, IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x20, 0x40, 0x80, 0x100, 0x200
IN_ISDIR, IN_NONBLOCK = 0x40000000, 0o4000
WATCH_MASK = (
    IN_ACCESS | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_OPEN | IN_MOVED_FROM | IN_MOVED_TO
) | (IN_CREATE | IN_DELETE)
EVENT_NAMES = {
    IN_ACCESS: "read",
    IN_MODIFY: "write",
    IN_ATTRIB: "attrib",
    IN_CLOSE_WRITE: "close-write",
    IN_OPEN: "open",
    IN_MOVED_FROM: "moved-from",
    IN_MOVED_TO: "moved-to",
    IN_CREATE: "create",
    IN_DELETE: "delete",
}


class DirectoryWatch:
    """inotify on one directory (and the files in it): every open, read, write or creation by
    any process after `start()` is an event. A scanner that follows a symlink to a canary file,
    runs a planted script or drops a marker file is seen, whoever it is."""

    def __init__(self, directory: Path):
        self.directory = directory
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self._libc = libc
        self.fd = libc.inotify_init1(IN_NONBLOCK)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        wd = libc.inotify_add_watch(self.fd, str(directory).encode(), WATCH_MASK)
        if wd < 0:
            raise OSError(ctypes.get_errno(), f"inotify_add_watch {directory} failed")
        self.events: list[tuple[str, str]] = []

    def poll(self) -> list[tuple[str, str]]:
        """Read what happened since the last poll: (event, file name) pairs."""
        while True:
            ready, _, _ = select.select([self.fd], [], [], 0)
            if not ready:
                return self.events
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return self.events
            offset = 0
            while offset < len(data):
                _wd, mask, _cookie, length = struct.unpack_from("iIII", data, offset)
                raw = data[offset + 16 : offset + 16 + length]
                name = raw.rstrip(b"\0").decode(errors="replace")
                offset += 16 + length
                for bit, label in EVENT_NAMES.items():
                    if mask & bit:
                        self.events.append((label, name or "."))

    def close(self) -> None:
        os.close(self.fd)


# --- memory ------------------------------------------------------------------------------------
def group_pids(pgid: int) -> list[int]:
    """Live processes of process group `pgid` (a worker and its pool)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            pids.append(int(stat.parent.name))
    return sorted(pids)


def status_kb(pid: int, key: str) -> int:
    """A `kB` line of /proc/<pid>/status (VmRSS, VmHWM, ...); 0 when the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def peak_rss_mb(pgid: int) -> float:
    """The largest peak resident set (VmHWM) of any process of the group, in MB."""
    return max((status_kb(pid, "VmHWM") for pid in group_pids(pgid)), default=0) / 1024


def rss_mb(pgid: int) -> float:
    """The resident memory of the whole group now, in MB."""
    return sum(status_kb(pid, "VmRSS") for pid in group_pids(pgid)) / 1024


# --- raw HTTP ----------------------------------------------------------------------------------
@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    sent: int = 0  # request body bytes written before the answer came
    seconds: float = 0.0

    def json(self):
        return json.loads(self.body)


@dataclass
class Multipart:
    """A multipart/form-data body with one file (bytes or a generator of chunks) and fields."""

    content: bytes | Iterable[bytes]
    size: int
    filename: str = "report.json"
    fields: dict[str, str] = field(default_factory=dict)
    file_headers: dict[str, str] = field(default_factory=dict)
    boundary: str = field(default_factory=lambda: uuid.uuid4().hex)

    def _head(self) -> bytes:
        parts = []
        for name, value in self.fields.items():
            parts.append(
                f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n"
            )
        extra = "".join(f"{k}: {v}\r\n" for k, v in self.file_headers.items())
        parts.append(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{self.filename}"\r\nContent-Type: application/octet-stream\r\n{extra}\r\n'
        )
        return "".join(parts).encode()

    def _tail(self) -> bytes:
        return f"\r\n--{self.boundary}--\r\n".encode()

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def length(self) -> int:
        return len(self._head()) + self.size + len(self._tail())

    def chunks(self) -> Iterator[bytes]:
        yield self._head()
        if isinstance(self.content, bytes):
            yield self.content
        else:
            yield from self.content
        yield self._tail()


def zeros(total: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    block = b"0" * chunk
    sent = 0
    while sent < total:
        piece = block[: min(chunk, total - sent)]
        sent += len(piece)
        yield piece


def send(
    port: int,
    method: str,
    path: str,
    *,
    chunks: Iterable[bytes] = (),
    headers: dict[str, str] | None = None,
    chunked: bool = False,
    timeout: float = 120,
) -> Reply:
    """One request on a fresh connection. The body is written chunk by chunk; as soon as the
    server answers (or closes), writing stops and the answer is read: a server that refuses a
    2 GB body early is measured by how little of it was sent."""
    started = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    for key, value in (headers or {}).items():
        head.append(f"{key}: {value}")
    if chunked:
        head.append("Transfer-Encoding: chunked")
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    sent = 0
    try:
        for chunk in chunks:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break  # the server answered (or closed) before the body was complete
            data = b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk
            sock.sendall(data)
            sent += len(chunk)
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    reply = _read_reply(sock, timeout)
    sock.close()
    reply.sent = sent
    reply.seconds = round(time.monotonic() - started, 2)
    return reply


#: Status of a reply that never came: the server reset the connection (it closed while the
#: client was still sending, and the kernel's RST can overtake its answer).
RESET = 0


def _read_reply(sock: socket.socket, timeout: float) -> Reply:
    sock.settimeout(timeout)
    response = http.client.HTTPResponse(sock)
    try:
        response.begin()
    except (ConnectionResetError, http.client.RemoteDisconnected):
        return Reply(status=RESET, body=b"")
    try:
        body = response.read()
    except (ConnectionResetError, http.client.IncompleteRead) as exc:
        body = getattr(exc, "partial", b"") or b""
    return Reply(
        status=response.status,
        body=body,
        headers={k.lower(): v for k, v in response.getheaders()},
    )


def upload(
    port: int, path: str, form: Multipart, *, token: str, headers: dict | None = None
) -> Reply:
    """POST a multipart form with its true Content-Length."""
    sent = {
        "Authorization": f"Token {token}",
        "Content-Type": form.content_type,
        "Content-Length": str(form.length),
        "Accept": "application/json",
        **(headers or {}),
    }
    return send(port, "POST", path, chunks=form.chunks(), headers=sent)
