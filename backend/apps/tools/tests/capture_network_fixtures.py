"""Re-capture the fixtures of the network scanners (wapiti, sslyze, nmap) from the real tools.

    cd backend && DJANGO_SETTINGS_MODULE=seculite_api.settings.test PYTHONPATH=. \\
        .venv/bin/python -m apps.tools.tests.capture_network_fixtures [wapiti sslyze nmap]

Each tool runs through its plugin against the loopback servers of `loopback.py` and the raw
report is copied, unedited, to apps/tools/plugins/<slug>/tests/fixtures/. Ports are random, so
the parser tests that name a port must be updated after a re-capture.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PLUGINS_DIR = Path(__file__).resolve().parents[1] / "plugins"


def _wapiti(tmp: Path) -> None:
    from apps.tools.plugins.base import TargetType
    from apps.tools.plugins.registry import registry

    from .loopback import HttpServer, plain_http_server, run_on_target

    plugin = registry.get("wapiti")
    cases = {
        "zero": (plain_http_server, ["xss", "sql"]),
        "one": (HttpServer, ["xss"]),
        "many": (HttpServer, ["xss", "sql", "http_headers", "csp", "cookieflags"]),
    }
    for name, (server, modules) in cases.items():
        with server() as app:
            result = run_on_target(
                plugin, app.url, TargetType.URL, tmp / name, modules=modules, max_scan_time=60
            )
        _keep(result, "wapiti", f"wapiti-{name}.json")


def _sslyze(tmp: Path) -> None:
    from apps.tools.plugins.base import ScanContext, TargetType
    from apps.tools.plugins.registry import registry

    from .loopback import (
        HttpServer,
        closed_port,
        plain_http_server,
        self_signed_certificate,
        strong_tls_context,
        weak_tls_context,
    )

    plugin = registry.get("sslyze")
    binary = plugin.locate().path

    def run(url: str, name: str, extra: tuple[str, ...] = ()) -> None:
        out = tmp / name
        out.mkdir(parents=True)
        ctx = ScanContext(
            workspace=out, output_dir=out, target_type=TargetType.URL, target=url, binary=binary
        )
        command = plugin.build_command(ctx)
        argv = [command.argv[0], *extra, *command.argv[1:]]
        subprocess.run(argv, capture_output=True, env={"PATH": "/usr/bin:/bin", "HOME": str(out)})
        shutil.copy(
            command.output_path, PLUGINS_DIR / "sslyze/tests/fixtures" / f"sslyze-{name}.json"
        )
        print(f"sslyze-{name}.json")

    # "zero": a leaf certificate issued by a throw-away CA that sslyze is told to trust.
    ca_dir = tmp / "ca"
    ca_dir.mkdir()
    leaf, leaf_key, ca = _ca_signed_certificate(ca_dir)
    with plain_http_server(context=strong_tls_context(leaf, leaf_key), hsts=True) as server:
        run(server.url, "zero", (f"--certinfo_ca_file={ca}",))
    cert, key = self_signed_certificate(tmp, "127.0.0.1", san="IP:127.0.0.1")
    with plain_http_server(context=strong_tls_context(cert, key), hsts=True) as server:
        run(server.url, "one")
    weak_dir = tmp / "weak"
    weak_dir.mkdir()
    with HttpServer(context=weak_tls_context(*self_signed_certificate(weak_dir))) as server:
        run(server.url, "many")
    run(f"https://127.0.0.1:{closed_port()}/", "refused")


def _ca_signed_certificate(folder: Path) -> tuple[Path, Path, Path]:
    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder)

    openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "30", "-subj", "/CN=SecuLite Test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr",
        "-subj", "/CN=127.0.0.1",
    )  # fmt: skip
    (folder / "ext.cnf").write_text(
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n"
    )
    openssl(
        "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "leaf.pem", "-days", "30", "-sha256", "-extfile", "ext.cnf",
    )  # fmt: skip
    return folder / "leaf.pem", folder / "leaf.key", folder / "ca.pem"


def _nmap(tmp: Path) -> None:
    from apps.tools.plugins.base import TargetType
    from apps.tools.plugins.registry import registry

    from .loopback import BannerServer, closed_port, plain_http_server, run_on_target

    plugin = registry.get("nmap")
    closed = closed_port()
    result = run_on_target(
        plugin, "127.0.0.1", TargetType.IP_ADDRESS, tmp / "zero", ports=[str(closed)]
    )
    _keep(result, "nmap", "nmap-zero.xml")
    with plain_http_server() as web:
        result = run_on_target(
            plugin, "127.0.0.1", TargetType.IP_ADDRESS, tmp / "one", ports=[str(web.port)]
        )
        _keep(result, "nmap", "nmap-one.xml")
        with (
            BannerServer(b"220 (vsFTPd 2.3.4)\r\n") as ftp,
            BannerServer(b"SSH-2.0-OpenSSH_7.4\r\n") as ssh,
        ):
            ports = [str(p) for p in (web.port, ftp.port, ssh.port, closed)]
            result = run_on_target(
                plugin, "localhost", TargetType.DOMAIN_NAME, tmp / "many", ports=ports
            )
            _keep(result, "nmap", "nmap-many.xml")


def _keep(result, folder: str, name: str) -> None:
    print(f"{name}: {result.status} {result.error} ({len(result.findings)} findings)")
    shutil.copy(result.output_path, PLUGINS_DIR / folder / "tests" / "fixtures" / name)


CAPTURES = {"wapiti": _wapiti, "sslyze": _sslyze, "nmap": _nmap}


def main(slugs: list[str]) -> None:
    import django

    django.setup()
    for slug in slugs or list(CAPTURES):
        with tempfile.TemporaryDirectory(prefix=f"seculite-capture-{slug}-") as tmp:
            CAPTURES[slug](Path(tmp))


if __name__ == "__main__":
    main(sys.argv[1:])
