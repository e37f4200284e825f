"""Re-capture the parser fixtures from the real scanners (after upgrading one, for instance).

    cd backend && DJANGO_SETTINGS_MODULE=seculite_api.settings.test \\
        .venv/bin/python -m apps.tools.tests.capture_fixtures [SLUG ...]

For each plugin it runs the installed binary through `run_plugin` on three inputs under
/tmp/seculite-fixtures (a clean one, one with a single flaw, and a copy of the vulnerable sample)
and copies the raw reports to apps/tools/plugins/<folder>/tests/fixtures/<slug>-{zero,one,many}.*.
The reports are the tools' unedited output.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

FILES: dict[str, dict[str, dict[str, str]]] = {
    "bandit": {
        "zero": {"app.py": "def add(a, b):\n    return a + b\n"},
        "one": {"app.py": "def calculate(expression):\n    return eval(expression)\n"},
    },
    "semgrep": {
        "zero": {"app.py": "def add(a, b):\n    return a + b\n"},
        "one": {"app.py": "def calculate(expression):\n    return eval(expression)\n"},
    },
    "detect-secrets": {
        "zero": {"app.py": "def add(a, b):\n    return a + b\n"},
        "one": {"deploy/id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n"},
    },
    "checkov": {
        # No IaC file at all: checkov's bare summary.
        "zero": {"app.py": "def add(a, b):\n    return a + b\n"},
        # One framework: an object, not a list.
        "one": {
            "Dockerfile": (
                'FROM python:3.12-slim\nUSER nobody\nHEALTHCHECK CMD ["true"]\n'
                'COPY app.py /app/app.py\nCMD ["python", "/app/app.py"]\n'
                "RUN apt-get update\n"
            )
        },
    },
    "hadolint": {
        "zero": {"Dockerfile": 'FROM python:3.12-slim\nUSER 10001\nCMD ["python"]\n'},
        "one": {"Dockerfile": 'FROM python:latest\nUSER 10001\nCMD ["python"]\n'},
    },
    "shellcheck": {
        "zero": {"run.sh": '#!/bin/sh\necho "hello"\n'},
        "one": {"run.sh": "#!/bin/sh\necho $1\n"},
    },
    "eslint": {
        "zero": {"app.js": "export const add = (a, b) => a + b;\n"},
        "one": {"app.js": "export function run(input) {\n  return eval(input);\n}\n"},
    },
    "pip-audit": {
        "zero": {"requirements.txt": "requests==2.32.3\n"},
        "one": {"requirements.txt": "pyyaml==5.3\n"},
    },
}


def main(slugs: list[str]) -> None:
    import django

    django.setup()
    from django.test import override_settings

    from apps.tools.plugins.base import ScanContext
    from apps.tools.plugins.pip_audit.tests.osv_server import OsvServer
    from apps.tools.plugins.registry import registry
    from apps.tools.runner import run_plugin
    from apps.tools.tests.helpers import FIXTURE_ROOT, SAMPLE_APP

    shutil.rmtree(FIXTURE_ROOT, ignore_errors=True)
    many = FIXTURE_ROOT / "many"
    shutil.copytree(SAMPLE_APP, many)
    with OsvServer() as osv, override_settings(SECULITE_PIP_AUDIT_OSV_URL=osv.url):
        for slug in slugs or list(FILES):
            plugin = registry.get(slug)
            folder = Path(sys.modules[type(plugin).__module__].__file__).parent
            target_dir = folder / "tests" / "fixtures"
            target_dir.mkdir(parents=True, exist_ok=True)
            for case in ("zero", "one", "many"):
                workspace = many if case == "many" else FIXTURE_ROOT / slug / case
                if case != "many":
                    for name, text in FILES[slug][case].items():
                        (workspace / name).parent.mkdir(parents=True, exist_ok=True)
                        (workspace / name).write_text(text)
                out = FIXTURE_ROOT / "out" / slug / case
                result = run_plugin(plugin, ScanContext(workspace=workspace, output_dir=out))
                if result.output_path is None or not result.output_path.is_file():
                    raise SystemExit(f"{slug} {case}: {result.status} {result.error}")
                suffix = result.output_path.suffix or ".json"
                shutil.copyfile(result.output_path, target_dir / f"{slug}-{case}{suffix}")
                print(f"{slug:15} {case:5} {result.status:12} {len(result.findings):3} findings")


if __name__ == "__main__":
    main(sys.argv[1:])
