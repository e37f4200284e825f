"""ESLint with eslint-plugin-security, using SecuLite's own config (apps/tools/eslint/).

The config is always passed with `-c`, so the scanned repository's eslint.config.* (JavaScript
that would run on the worker) is never loaded, and an empty suppressions file of ours replaces
the repository's eslint-suppressions.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from apps.tools.plugins.base import (
    EXCLUDE_PATHS_SCHEMA,
    FILE_TARGET_TYPES,
    IGNORE_INLINE_SUPPRESSIONS_SCHEMA,
    Category,
    Command,
    Location,
    NothingToScan,
    Outcome,
    ParseError,
    ScanContext,
    ScannerPlugin,
    files_matching,
    load_json,
)

from .parser import parse_report

JS_SUFFIXES = (".js", ".mjs", ".cjs", ".jsx")
CONFIG_NAME = "eslint.config.mjs"


def is_javascript(path: Path) -> bool:
    return path.suffix.lower() in JS_SUFFIXES and not path.name.endswith(".min.js")


class EslintPlugin(ScannerPlugin):
    slug = "eslint"
    label = "ESLint (eslint-plugin-security)"
    category = Category.SAST
    target_types = FILE_TARGET_TYPES
    output_format = "json"
    binary = "eslint"
    install_dir = "node"
    bin_subdir = "node_modules/.bin"
    fingerprint_fields = ("rule_id", "file_path", "code_snippet")
    env = {"npm_config_update_notifier": "false", "NODE_OPTIONS": "--max-old-space-size=2048"}
    overrides_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "exclude_paths": EXCLUDE_PATHS_SCHEMA,
            "ignore_inline_suppressions": IGNORE_INLINE_SUPPRESSIONS_SCHEMA,
        },
    }

    def config_path(self) -> Path:
        return self.tools_dir() / (self.install_dir or self.slug) / CONFIG_NAME

    def locate(self) -> Location:
        """Only the eslint installed beside SecuLite's config can load eslint-plugin-security."""
        folder = self.tools_dir() / self.install_dir / self.bin_subdir
        binary = folder / self.binary
        if not binary.is_file():
            return Location(
                reason=f"eslint not found in {folder}: run `make tools` (scripts/install-tools.sh)"
            )
        if not self.config_path().is_file():
            return Location(
                reason=f"SecuLite's ESLint config {self.config_path()} is missing: run `make tools`"
            )
        return Location(path=str(binary))

    def build_command(self, ctx: ScanContext) -> Command:
        if not files_matching(ctx.workspace, is_javascript, limit=1):
            raise NothingToScan("no JavaScript files in the workspace")
        overrides = ctx.overrides
        output = ctx.output_dir / "eslint.json"
        suppressions = ctx.scratch / "eslint-suppressions.json"
        suppressions.write_text("{}")
        argv = [
            ctx.binary,
            f"--config={self.config_path()}",
            f"--suppressions-location={suppressions}",
            "--format=json",
            f"--output-file={output}",
            "--no-warn-ignored",
            "--no-error-on-unmatched-pattern",
            "--no-color",
        ]
        if overrides.get("ignore_inline_suppressions"):
            argv.append("--no-inline-config")
        for pattern in overrides.get("exclude_paths", []):
            argv.append(f"--ignore-pattern={pattern}")
        argv += ["--", "."]
        return Command(argv=argv, cwd=ctx.workspace, output_path=output)

    def interpret(self, exit_code: int, output_path: Path, stderr: str) -> Outcome:
        # Our rules are warnings: 0 normally, 1 if a rule is an error, 2 config error or crash.
        if exit_code not in (0, 1):
            return Outcome(False, f"eslint exited {exit_code}: {stderr.strip()[:500]}")
        try:
            with output_path.open("rb") as stream:
                report = load_json(stream, self.max_report_bytes)
        except (OSError, ParseError) as exc:
            return Outcome(False, f"eslint wrote no usable report: {exc}")
        if not isinstance(report, list):
            return Outcome(False, "eslint report is not a list of files")
        return Outcome(True)

    def parse(self, stream: IO[bytes], *, workspace: Path | None = None):
        return parse_report(stream, workspace=workspace, max_bytes=self.max_report_bytes)
