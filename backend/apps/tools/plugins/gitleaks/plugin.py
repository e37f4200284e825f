"""Gitleaks: hard-coded secrets in a source tree (v8 JSON report).

Not installable on the development machines (no Debian or PyPI package): the SecuLite Docker
image installs it from the gitleaks releases, and elsewhere the plugin shows as unavailable and
scans record it as skipped. The repository under scan must not configure it: SecuLite passes its
own config (gitleaks' default rules) and an empty ignore folder, so neither a `.gitleaks.toml`
nor a `.gitleaksignore` in the scanned tree can hide a secret.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from apps.tools.plugins.base import (
    FILE_TARGET_TYPES,
    Category,
    Command,
    Location,
    Outcome,
    ParseError,
    ScanContext,
    ScannerPlugin,
    load_json,
)

from .parser import parse_report

#: gitleaks' built-in rules, and nothing from the scanned tree.
CONFIG = "[extend]\nuseDefault = true\n"
UNAVAILABLE = (
    "gitleaks not found in {folder} or on PATH. It is not installed by `make tools` (no Debian "
    "or PyPI package): the SecuLite Docker image installs it from the gitleaks releases; "
    "elsewhere put a gitleaks v8 binary on PATH or in that folder."
)


class GitleaksPlugin(ScannerPlugin):
    slug = "gitleaks"
    label = "Gitleaks"
    category = Category.SECRETS
    target_types = FILE_TARGET_TYPES
    output_format = "json"
    binary = "gitleaks"
    version_args = ("version",)
    fingerprint_fields = ("rule_id", "file_path", "secret_hash")
    overrides_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "max_target_megabytes": {
                "type": "integer",
                "minimum": 1,
                "maximum": 100,
                "description": "Skip files larger than this many megabytes.",
            },
        },
    }

    def locate(self) -> Location:
        location = super().locate()
        if location.available:
            return location
        folder = self.tools_dir() / (self.install_dir or self.slug) / self.bin_subdir
        return Location(reason=UNAVAILABLE.format(folder=folder))

    def build_command(self, ctx: ScanContext) -> Command:
        output = ctx.output_dir / "gitleaks.json"
        config = ctx.scratch / "gitleaks.toml"
        config.write_text(CONFIG)
        ignore_dir = ctx.scratch / "gitleaks-ignore"
        ignore_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            ctx.binary,
            "detect",
            "--no-git",
            "--source=.",
            f"--config={config}",
            f"--gitleaks-ignore-path={ignore_dir}",
            "--report-format=json",
            f"--report-path={output}",
            "--exit-code=0",
            "--no-banner",
            "--log-level=warn",
        ]
        if "max_target_megabytes" in ctx.overrides:
            argv.append(f"--max-target-megabytes={ctx.overrides['max_target_megabytes']}")
        return Command(argv=argv, cwd=ctx.workspace, output_path=output)

    def interpret(self, exit_code: int, output_path: Path, stderr: str) -> Outcome:
        # --exit-code=0: leaks exit 0 too, so anything else is an error.
        if exit_code != 0:
            return Outcome(False, f"gitleaks exited {exit_code}: {_last_line(stderr)}")
        try:
            with output_path.open("rb") as stream:
                report = load_json(stream, self.max_report_bytes)
        except (OSError, ParseError) as exc:
            return Outcome(False, f"gitleaks wrote no readable report: {exc}")
        if not isinstance(report, list):
            return Outcome(False, "gitleaks report is not a list")
        return Outcome(True)

    def parse(self, stream: IO[bytes], *, workspace: Path | None = None):
        return parse_report(stream, workspace=workspace, max_bytes=self.max_report_bytes)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1][:500] if lines else "no error output"
