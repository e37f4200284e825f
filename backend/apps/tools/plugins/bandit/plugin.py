"""Bandit: Python SAST (PyCQA). Runs offline; exit 1 means issues, 0 also for a missing path."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from apps.tools.plugins.base import (
    EXCLUDE_PATHS_SCHEMA,
    FILE_TARGET_TYPES,
    IGNORE_INLINE_SUPPRESSIONS_SCHEMA,
    Category,
    Command,
    Outcome,
    ParseError,
    ScanContext,
    ScannerPlugin,
    load_json,
    rule_ids_schema,
    unsafe_files,
)

from .parser import parse_report

# Bandit's own default exclusions, plus vendored virtualenvs and node_modules. Bandit matches
# them as globs and as substrings of "./path", hence the slashes.
DEFAULT_EXCLUDES = (
    ".svn,CVS,.bzr,.hg,.git,__pycache__,.tox,.eggs,*.egg,"
    "/.venv/,/venv/,/node_modules/,/site-packages/"
)
LEVELS = ["low", "medium", "high"]
PYTHON_SUFFIXES = (".py", ".pyw")


def unsafe_excludes(workspace: Path) -> list[str]:
    """Exclusions for the Python files bandit must not open: symlinks (bandit follows them, so a
    repository could make it read and quote any file of the worker) and oversized files (it reads
    each file whole). Bandit splits --exclude on "," and also matches globs, so a "," in a name
    becomes "?"."""
    return [
        "./" + rel.replace(",", "?")
        for rel in unsafe_files(workspace)
        if rel.endswith(PYTHON_SUFFIXES)
    ]


class BanditPlugin(ScannerPlugin):
    slug = "bandit"
    label = "Bandit"
    category = Category.SAST
    target_types = FILE_TARGET_TYPES
    output_format = "json"
    binary = "bandit"
    fingerprint_fields = ("rule_id", "file_path", "code_snippet")
    overrides_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "severity_threshold": {"enum": LEVELS, "description": "Lowest severity reported."},
            "confidence_threshold": {"enum": LEVELS, "description": "Lowest confidence reported."},
            "skip_tests": rule_ids_schema(r"^B\d{3}$", "Bandit test ids to skip, e.g. B101."),
            "only_tests": rule_ids_schema(r"^B\d{3}$", "Run only these Bandit test ids."),
            "exclude_paths": EXCLUDE_PATHS_SCHEMA,
            "ignore_inline_suppressions": IGNORE_INLINE_SUPPRESSIONS_SCHEMA,
        },
    }

    def build_command(self, ctx: ScanContext) -> Command:
        overrides = ctx.overrides
        output = ctx.output_dir / "bandit.json"
        # An empty INI file of our own: without --ini, bandit walks the whole tree looking for
        # the repository's .bandit file and lets it change which tests run.
        ini = ctx.scratch / "bandit.ini"
        ini.write_text("[bandit]\n")
        excludes = DEFAULT_EXCLUDES.split(",") + list(overrides.get("exclude_paths", []))
        excludes += unsafe_excludes(ctx.workspace)
        argv = [
            ctx.binary,
            "--recursive",
            "--format=json",
            f"--output={output}",
            "--quiet",
            f"--ini={ini}",
            f"--exclude={','.join(excludes)}",
        ]
        if overrides.get("severity_threshold"):
            argv.append(f"--severity-level={overrides['severity_threshold']}")
        if overrides.get("confidence_threshold"):
            argv.append(f"--confidence-level={overrides['confidence_threshold']}")
        if overrides.get("skip_tests"):
            argv.append(f"--skip={','.join(overrides['skip_tests'])}")
        if overrides.get("only_tests"):
            argv.append(f"--tests={','.join(overrides['only_tests'])}")
        if overrides.get("ignore_inline_suppressions"):
            argv.append("--ignore-nosec")
        argv += ["--", "."]
        return Command(argv=argv, cwd=ctx.workspace, output_path=output)

    def interpret(self, exit_code: int, output_path: Path, stderr: str) -> Outcome:
        if exit_code not in (0, 1):
            return Outcome(False, f"bandit exited {exit_code}: {_last_line(stderr)}")
        if not output_path.is_file() or output_path.stat().st_size == 0:
            return Outcome(False, f"bandit exited {exit_code} without a report")
        try:
            with output_path.open("rb") as stream:
                report = load_json(stream, self.max_report_bytes)
        except ParseError as exc:
            return Outcome(False, f"bandit report unreadable: {exc}")
        # A missing target exits 0 with an empty result: its only trace is in errors[].
        errors = report.get("errors") if isinstance(report, dict) else None
        for error in errors if isinstance(errors, list) else []:
            if isinstance(error, dict) and error.get("filename") in (".", "./"):
                return Outcome(False, f"bandit could not scan the workspace: {error.get('reason')}")
        return Outcome(True)

    def parse(self, stream: IO[bytes], *, workspace: Path | None = None):
        return parse_report(stream, workspace=workspace, max_bytes=self.max_report_bytes)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:500] if lines else "no error output"
