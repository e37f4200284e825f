"""ShellCheck: shell script linter. SecuLite finds the scripts itself (*.sh and files with a
shell shebang, bounded) and passes them as arguments; `--norc` ignores the repo's .shellcheckrc."""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO

from apps.tools.plugins.base import (
    FILE_TARGET_TYPES,
    Category,
    Command,
    NothingToScan,
    Outcome,
    ScanContext,
    ScannerPlugin,
    files_matching,
    rule_ids_schema,
)

from .parser import parse_report

MAX_FILES = 500
SHELL_SUFFIXES = (".sh", ".bash", ".ksh", ".dash", ".bats")
SHEBANG_RE = re.compile(rb"^#!\s*(?:/usr)?/bin/(?:env\s+(?:-S\s+)?)?(?:ba|da|k|)sh\b")


def is_shell_script(path: Path) -> bool:
    """*.sh & co., or an extension-less file whose first line is a sh/bash/dash/ksh shebang."""
    if path.suffix.lower() in SHELL_SUFFIXES:
        return True
    if path.suffix:
        return False
    try:
        with path.open("rb") as handle:
            return bool(SHEBANG_RE.match(handle.read(128)))
    except OSError:
        return False


class ShellcheckPlugin(ScannerPlugin):
    slug = "shellcheck"
    label = "ShellCheck"
    category = Category.LINT
    target_types = FILE_TARGET_TYPES
    output_format = "json1"
    binary = "shellcheck"
    fingerprint_fields = ("rule_id", "file_path", "code_snippet")
    overrides_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "severity_threshold": {
                "enum": ["error", "warning", "info", "style"],
                "description": "Lowest ShellCheck level reported (default: style).",
            },
            "exclude_rules": rule_ids_schema(r"^SC\d{4}$", "ShellCheck codes to leave out."),
        },
    }

    def build_command(self, ctx: ScanContext) -> Command:
        files = files_matching(ctx.workspace, is_shell_script, limit=MAX_FILES)
        if not files:
            raise NothingToScan("no shell scripts in the workspace")
        overrides = ctx.overrides
        output = ctx.output_dir / "shellcheck.json"
        argv = [
            ctx.binary,
            "--norc",
            "--format=json1",
            f"--severity={overrides.get('severity_threshold', 'style')}",
        ]
        if overrides.get("exclude_rules"):
            argv.append(f"--exclude={','.join(overrides['exclude_rules'])}")
        argv += ["--", *files]
        return Command(argv=argv, cwd=ctx.workspace, output_path=output, stdout_is_report=True)

    def interpret(self, exit_code: int, output_path: Path, stderr: str) -> Outcome:
        # 0 clean, 1 issues, 2 some files unreadable (the others are still reported),
        # 3 bad syntax/options, 4 bad options.
        if exit_code not in (0, 1, 2):
            return Outcome(False, f"shellcheck exited {exit_code}: {stderr.strip()[:500]}")
        if not output_path.is_file() or output_path.stat().st_size == 0:
            return Outcome(False, f"shellcheck exited {exit_code} without a report")
        return Outcome(True)

    def parse(self, stream: IO[bytes], *, workspace: Path | None = None):
        return parse_report(stream, workspace=workspace, max_bytes=self.max_report_bytes)
