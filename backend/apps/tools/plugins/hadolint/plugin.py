"""hadolint: Dockerfile linter. Runs with `--no-fail`, so exit 1 means an error (a missing or
unreadable file) and never "found issues", which plain hadolint also signals with exit 1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO

from apps.tools.plugins.base import (
    FILE_TARGET_TYPES,
    IGNORE_INLINE_SUPPRESSIONS_SCHEMA,
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


def is_dockerfile(path: Path) -> bool:
    name = path.name.lower()
    return (
        name in ("dockerfile", "containerfile")
        or (
            name.startswith(("dockerfile.", "containerfile."))
            and not name.endswith((".md", ".txt", ".dockerignore"))
        )
        or name.endswith((".dockerfile", ".containerfile"))
    )


class HadolintPlugin(ScannerPlugin):
    slug = "hadolint"
    label = "hadolint"
    category = Category.LINT
    target_types = FILE_TARGET_TYPES
    output_format = "json"
    binary = "hadolint"
    fingerprint_fields = ("rule_id", "file_path", "code_snippet")
    overrides_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "ignore_rules": rule_ids_schema(r"^(DL|SC)\d{4}$", "Rules to ignore (DL3008, SC2086)."),
            "trusted_registries": {
                "type": "array",
                "items": {"type": "string", "pattern": r"^[A-Za-z0-9.-]+(:\d+)?$"},
                "maxItems": 50,
                "description": "Registries images may come from (DL3026 flags others).",
            },
            "ignore_inline_suppressions": IGNORE_INLINE_SUPPRESSIONS_SCHEMA,
        },
    }

    def build_command(self, ctx: ScanContext) -> Command:
        files = files_matching(ctx.workspace, is_dockerfile, limit=MAX_FILES)
        if not files:
            raise NothingToScan("no Dockerfile in the workspace")
        overrides = ctx.overrides
        # Our own config file: without -c, hadolint reads the repository's .hadolint.yaml.
        config = ctx.scratch / "hadolint.yaml"
        settings = {"ignored": list(overrides.get("ignore_rules", []))}
        if overrides.get("trusted_registries"):
            settings["trustedRegistries"] = list(overrides["trusted_registries"])
        config.write_text(json.dumps(settings))  # JSON is YAML
        output = ctx.output_dir / "hadolint.json"
        argv = [
            ctx.binary,
            f"--config={config}",
            "--no-fail",
            "--no-color",
            "--format=json",
            f"--output={output}",
        ]
        if overrides.get("ignore_inline_suppressions"):
            argv.append("--disable-ignore-pragma")
        argv += [f"./{name}" for name in files]  # "./": a file named "-x" is not an option
        return Command(argv=argv, cwd=ctx.workspace, output_path=output)

    def interpret(self, exit_code: int, output_path: Path, stderr: str) -> Outcome:
        if exit_code != 0:
            first = stderr.strip().splitlines()[0][:500] if stderr.strip() else "no error output"
            return Outcome(False, f"hadolint exited {exit_code}: {first}")
        if not output_path.is_file() or output_path.stat().st_size == 0:
            return Outcome(False, "hadolint wrote no report")
        return Outcome(True)

    def parse(self, stream: IO[bytes], *, workspace: Path | None = None):
        return parse_report(stream, workspace=workspace, max_bytes=self.max_report_bytes)
