"""Hostile reports for the import endpoint, generated at run time (nothing big is committed):
the findings issue's bad-file corpus plus XML external entities aimed at a file and at a
loopback listener, entity expansion, archives and compressed bodies (no import format is an
archive: each must be refused as an unknown format, never unpacked), deep nesting, invalid
UTF-8 past the part that format detection reads, and a single value too large to decode."""

from __future__ import annotations

import gzip
import io
import json
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

BACKEND_DIR = Path(__file__).resolve().parent.parent
CORPUS = BACKEND_DIR / "apps" / "findings" / "tests" / "corpus"
GOOD_SARIF = CORPUS / "good" / "hadolint.sarif"
NMAP_HEAD = '<?xml version="1.0"?>\n'
NMAP_BODY = (
    '<nmaprun scanner="nmap" version="7.93"><host><address addr="127.0.0.1" addrtype="ipv4"/>'
    '<ports><port protocol="tcp" portid="80"><state state="open"/><service name="{value}"/>'
    '</port></ports></host><runstats><finished exit="success"/></runstats></nmaprun>'
)


@dataclass
class HostileReport:
    name: str
    #: bytes, or a generator of chunks with its size (big ones are streamed, never held)
    content: bytes | Callable[[], Iterator[bytes]]
    size: int
    format: str | None = None
    file_headers: dict[str, str] | None = None
    request_headers: dict[str, str] | None = None


def corpus() -> list[HostileReport]:
    """Every file of the findings issue's bad-report corpus (`<what>.format-<slug>.<ext>` is
    uploaded with format=<slug>, as its own test does)."""
    reports = []
    for path in sorted((CORPUS / "bad").iterdir()):
        if path.suffix == ".md":
            continue
        fmt = path.name.split(".format-")[1].split(".")[0] if ".format-" in path.name else None
        data = path.read_bytes()
        reports.append(HostileReport(f"corpus/{path.name}", data, len(data), fmt))
    return reports


def _nmap(doctype: str, value: str, head: str = NMAP_HEAD) -> bytes:
    return (head + doctype + NMAP_BODY.format(value=value)).encode()


def xml_attacks(listener_url: str, quadratic_kb: int) -> list[HostileReport]:
    """External entities (a file and the listener), parameter entities, an external DTD,
    XInclude, a stylesheet processing instruction, billion laughs and a quadratic blow-up."""
    url = listener_url
    laughs = ['<!ENTITY lol0 "lol">']
    laughs += [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]  # 10^9 "lol"s expanded
    blob = "a" * (quadratic_kb * 1024)
    items = {
        "xxe-file-passwd.xml": _nmap(
            '<!DOCTYPE nmaprun [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n', "&xxe;"
        ),
        "xxe-file-shadow.xml": _nmap(
            '<!DOCTYPE nmaprun [<!ENTITY xxe SYSTEM "file:///etc/shadow">]>\n', "&xxe;"
        ),
        "xxe-http-listener.xml": _nmap(
            f'<!DOCTYPE nmaprun [<!ENTITY xxe SYSTEM "{url}/entity">]>\n', "&xxe;"
        ),
        "xxe-parameter-entity.xml": _nmap(
            f'<!DOCTYPE nmaprun [<!ENTITY % remote SYSTEM "{url}/param.dtd"> %remote;]>\n', "x"
        ),
        "xxe-external-dtd.xml": _nmap(f'<!DOCTYPE nmaprun SYSTEM "{url}/nmap.dtd">\n', "x"),
        "xxe-public-dtd.xml": _nmap(
            f'<!DOCTYPE nmaprun PUBLIC "-//X//Y" "{url}/public.dtd">\n', "x"
        ),
        "xinclude-listener.xml": (
            NMAP_HEAD + '<nmaprun xmlns:xi="http://www.w3.org/2001/XInclude" scanner="nmap">'
            f'<xi:include href="{url}/xinclude" parse="text"/></nmaprun>'
        ).encode(),
        "xml-stylesheet-listener.xml": _nmap(
            "", "x", head=NMAP_HEAD + f'<?xml-stylesheet type="text/xsl" href="{url}/x.xsl"?>\n'
        ),
        "zap-xml-xxe-listener.xml": (
            NMAP_HEAD + f'<!DOCTYPE OWASPZAPReport [<!ENTITY xxe SYSTEM "{url}/zap">]>'
            '<OWASPZAPReport version="2.14"><site name="&xxe;"/></OWASPZAPReport>'
        ).encode(),
        "xxe-nmap-format-forced.xml": _nmap(
            f'<!DOCTYPE nmaprun [<!ENTITY xxe SYSTEM "{url}/forced">]>\n', "&xxe;"
        ),
        "billion-laughs-1e9.xml": _nmap("<!DOCTYPE nmaprun [" + "".join(laughs) + "]>\n", "&lol9;"),
        "quadratic-blowup.xml": _nmap(
            f'<!DOCTYPE nmaprun [<!ENTITY a "{blob}">]>\n', "&a;" * 100_000
        ),
    }
    out = []
    for name, data in items.items():
        fmt = "nmap" if "forced" in name else None
        out.append(HostileReport(name, data, len(data), fmt))
    return out


MB = 1 << 20


def _deflated_zeros(megabytes: int) -> tuple[bytes, int]:
    """A raw deflate stream of `megabytes` MB of zeros and its CRC-32, built in milliseconds:
    one compressed megabyte ends with a full flush (no back-reference crosses it), so the same
    ~1 KB segment is repeated. The zeros are never held or compressed."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = bytes(MB)
    segment = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(block, crc)
    return segment * megabytes + packer.flush(zlib.Z_FINISH), crc


def zip_bomb(megabytes: int) -> bytes:
    """A zip whose one member expands to `megabytes` MB of zeros (under 4 GB: no zip64)."""
    payload, crc = _deflated_zeros(megabytes)
    name = b"report.json"
    size = megabytes * MB
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(payload), size, len(name), 0
    )
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII",
        0x02014B50,
        20,
        20,
        0,
        8,
        0,
        0,
        crc,
        len(payload),
        size,
        len(name),
        0,
        0,
        0,
        0,
        0,
        0,
    )
    directory_offset = len(local) + len(name) + len(payload)
    directory = central + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(directory), directory_offset, 0)
    return local + name + payload + directory + end


def gzip_bomb(megabytes: int) -> bytes:
    """A gzip member that expands to `megabytes` MB of zeros."""
    payload, crc = _deflated_zeros(megabytes)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    size = (megabytes * MB) & 0xFFFFFFFF
    return header + payload + struct.pack("<II", crc, size)


def archives(bomb_mb: int) -> list[HostileReport]:
    """No import accepts an archive or a compressed report: a zip bomb, a gzip bomb, a real
    SARIF report gzipped or zipped (it would give findings if it were unpacked), and the gzipped
    report sent with `Content-Encoding: gzip` on the file part and on the request."""
    sarif = GOOD_SARIF.read_bytes()
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("report.sarif", sarif)
    gz = gzip.compress(sarif)
    items = [
        HostileReport("zip-bomb.zip", zip_bomb(bomb_mb), 0),
        HostileReport("gzip-bomb.json.gz", gzip_bomb(bomb_mb), 0),
        HostileReport("sarif-zipped.zip", zipped.getvalue(), 0),
        HostileReport("sarif-gzipped.sarif.gz", gz, 0),
        HostileReport("sarif-gzipped-forced-format.sarif.gz", gz, 0, format="sarif"),
        HostileReport(
            "sarif-gzip-content-encoding-part.sarif",
            gz,
            0,
            file_headers={"Content-Encoding": "gzip"},
        ),
        HostileReport(
            "sarif-gzip-content-encoding-request.sarif",
            gz,
            0,
            request_headers={"Content-Encoding": "gzip"},
        ),
    ]
    for item in items:
        item.size = len(item.content)
    return items


def _sarif_with_result(result_json: bytes) -> bytes:
    """The good hadolint SARIF log with its first result replaced by `result_json`."""
    log = json.loads(GOOD_SARIF.read_bytes())
    marker = "__SECULITE_HOSTILE__"
    log["runs"][0]["results"][0] = marker
    text = json.dumps(log).encode()
    return text.replace(f'"{marker}"'.encode(), result_json, 1)


def structure(depth: int) -> list[HostileReport]:
    """Deep nesting in the skeleton and inside one result, invalid UTF-8 and code points that
    PostgreSQL cannot store past the first 64 KB (the part format detection reads)."""
    pad = b"p" * (100 * 1024)
    items = {
        f"sarif-results-nested-{depth}.json": _sarif_with_result(b"[" * depth + b"]" * depth),
        f"sarif-properties-objects-nested-{depth}.json": _sarif_with_result(
            b'{"ruleId":"x","message":{"text":"m"},"properties":'
            + b'{"a":' * depth
            + b"1"
            + b"}" * depth
            + b"}"
        ),
        f"bandit-results-nested-{depth}.json": (
            b'{"errors": [], "generated_at": "x", "metrics": {}, "results": ['
            + b"[" * depth
            + b"]" * depth
            + b"]}"
        ),
        "sarif-invalid-utf8-after-100kb.json": _sarif_with_result(
            b'{"ruleId":"x","message":{"text":"' + pad + b'\xff\xfe"}}'
        ),
        "sarif-overlong-utf8-after-100kb.json": _sarif_with_result(
            b'{"ruleId":"x","message":{"text":"' + pad + b'\xc0\xaf"}}'
        ),
        "sarif-utf8-surrogate-after-100kb.json": _sarif_with_result(
            b'{"ruleId":"x","message":{"text":"' + pad + b'\xed\xa0\x80"}}'
        ),
    }
    return [HostileReport(name, data, len(data)) for name, data in items.items()]


def huge_value(size: int) -> HostileReport:
    """A SARIF log whose first result carries one string of `size` bytes, streamed: past the
    reader's largest single value (64M characters) it must fail, with memory bounded."""
    head, tail = _sarif_with_result(b"__VALUE__").split(b"__VALUE__")
    opening = b'{"ruleId":"x","message":{"text":"'
    closing = b'"}}'

    def chunks() -> Iterator[bytes]:
        yield head + opening
        block = b"v" * (1 << 20)
        left = size
        while left > 0:
            piece = block[: min(len(block), left)]
            left -= len(piece)
            yield piece
        yield closing + tail

    total = len(head) + len(opening) + size + len(closing) + len(tail)
    return HostileReport(f"sarif-one-value-of-{size >> 20}-mb.json", chunks, total)
