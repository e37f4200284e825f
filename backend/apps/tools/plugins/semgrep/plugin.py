"""Semgrep with SecuLite's own rule packs (apps/tools/rules/semgrep/*.yml), fully offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO

from apps.tools.plugins.base import (
    EXCLUDE_PATHS_SCHEMA,
    FILE_TARGET_TYPES,
    IGNORE_INLINE_SUPPRESSIONS_SCHEMA,
    Category,
    Command,
    Outcome,
    ScanContext,
    ScannerPlugin,
)

from .parser import parse_report

RULES_DIR = Path(__file__).resolve().parents[2] / "rules" / "semgrep"


def rule_packs() -> list[str]:
    """SecuLite's semgrep packs: one YAML file each in apps/tools/rules/semgrep/."""
    return sorted(p.stem for p in RULES_DIR.glob("*.yml"))


class SemgrepPlugin(ScannerPlugin):
    slug = "semgrep"
    label = "Semgrep"
    category = Category.SAST
    target_types = FILE_TARGET_TYPES
    output_format = "json"
    binary = "semgrep"
    fingerprint_fields = ("rule_id", "file_path", "code_snippet")
    env = {
        # Offline, the version check retries with long back-offs after every scan.
        "SEMGREP_ENABLE_VERSION_CHECK": "0",
        "SEMGREP_SEND_METRICS": "off",
    }
    overrides_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "rule_packs": {
                "type": "array",
                "description": "Which of SecuLite's rule packs to run (default: all).",
                "items": {"enum": rule_packs()},
                "minItems": 1,
                "uniqueItems": True,
            },
            "exclude_paths": EXCLUDE_PATHS_SCHEMA,
            "max_target_bytes": {
                "type": "integer",
                "minimum": 1000,
                "maximum": 100_000_000,
                "description": "Skip files larger than this.",
            },
            "jobs": {"type": "integer", "minimum": 1, "maximum": 16},
            "ignore_inline_suppressions": IGNORE_INLINE_SUPPRESSIONS_SCHEMA,
        },
    }

    def build_command(self, ctx: ScanContext) -> Command:
        overrides = ctx.overrides
        output = ctx.output_dir / "semgrep.json"
        argv = [ctx.binary, "scan"]
        for pack in overrides.get("rule_packs") or rule_packs():
            argv.append(f"--config={RULES_DIR / f'{pack}.yml'}")
        argv += [
            "--json",
            f"--output={output}",
            "--metrics=off",
            "--disable-version-check",
            "--quiet",
            "--timeout=30",
            f"--max-target-bytes={overrides.get('max_target_bytes', 2_000_000)}",
        ]
        if overrides.get("jobs"):
            argv.append(f"--jobs={overrides['jobs']}")
        for pattern in overrides.get("exclude_paths", []):
            argv.append(f"--exclude={pattern}")
        if overrides.get("ignore_inline_suppressions"):
            argv.append("--disable-nosem")
        argv += ["--", "."]
        return Command(argv=argv, cwd=ctx.workspace, output_path=output)

    def version_command(self, binary: str) -> list[str]:
        return [binary, "--version", "--disable-version-check"]

    def interpret(self, exit_code: int, output_path: Path, stderr: str) -> Outcome:
        # 0 with or without findings (1 only with --error); 2 fatal, 7 bad config, ...
        errors = _fatal_errors(output_path)
        if exit_code not in (0, 1):
            detail = "; ".join(errors) or _last_line(stderr)
            return Outcome(False, f"semgrep exited {exit_code}: {detail}")
        if not output_path.is_file() or output_path.stat().st_size == 0:
            return Outcome(False, f"semgrep exited {exit_code} without a report")
        if errors:
            return Outcome(False, "; ".join(errors))
        return Outcome(True)

    def parse(self, stream: IO[bytes], *, workspace: Path | None = None):
        return parse_report(stream, workspace=workspace, max_bytes=self.max_report_bytes)


def _fatal_errors(path: Path) -> list[str]:
    """Messages of semgrep's errors of level "error" (per-file parse problems are warnings)."""
    try:
        with path.open("rb") as stream:
            report = json.loads(stream.read(SemgrepPlugin.max_report_bytes))
    except (OSError, ValueError):
        return []
    errors = report.get("errors") if isinstance(report, dict) else None
    messages = []
    for error in errors if isinstance(errors, list) else []:
        if isinstance(error, dict) and error.get("level") == "error":
            messages.append(str(error.get("message") or error.get("type"))[:500])
    return messages


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:500] if lines else "no error output"
