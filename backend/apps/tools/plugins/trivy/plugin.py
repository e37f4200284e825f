"""Trivy (Aqua Security): three plugins over one binary and one parser.

- `trivy-fs` (sca): vulnerable dependencies in lock files and hard-coded secrets of a source tree
  (`trivy fs`, scanners `vuln,secret` by default);
- `trivy-config` (iac): misconfigurations of Dockerfiles, Kubernetes, Terraform... (`trivy config`);
- `trivy-image` (container): OS and language packages of a container image (`trivy image`).

They are separate plugins, not one with a mode override, because they differ in what a
configuration picks them for: the category of their findings and the targets they accept
(a tree of files versus an image reference). The binary is not installable on the development
machines; the SecuLite Docker image installs it from the trivy releases. Its vulnerability
database is cached under SECULITE_TOOLS_DIR/trivy/cache (an air-gapped site fills that cache and
sets `skip_db_update`). The scanned tree cannot configure trivy: SecuLite passes its own empty
`trivy.yaml` and `.trivyignore`.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from pathlib import Path
from typing import IO, Any, ClassVar

from apps.tools.plugins.base import (
    EXCLUDE_PATHS_SCHEMA,
    FILE_TARGET_TYPES,
    Category,
    Command,
    Location,
    NothingToScan,
    Outcome,
    ParseError,
    ScanContext,
    ScannerPlugin,
    TargetType,
    load_json,
)

from .parser import parse_report

SEVERITIES = ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
UNAVAILABLE = (
    "trivy not found in {folder} or on PATH. It is not installed by `make tools` (no Debian or "
    "PyPI package): the SecuLite Docker image installs it from the trivy releases; elsewhere "
    "put a trivy binary on PATH or in that folder."
)
#: registry[:port]/name[:tag][@digest], without spaces, "..", "//" or a leading "-".
IMAGE_REF_RE = re.compile(r"^(?!.*\.\.)(?!.*//)[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$")

SEVERITIES_SCHEMA: dict[str, Any] = {
    "type": "array",
    "description": "Severities to report (default: all).",
    "items": {"enum": SEVERITIES},
    "minItems": 1,
    "uniqueItems": True,
}
IGNORE_UNFIXED_SCHEMA: dict[str, Any] = {
    "type": "boolean",
    "default": False,
    "description": "Leave out vulnerabilities that have no fixed version yet.",
}
SKIP_DB_UPDATE_SCHEMA: dict[str, Any] = {
    "type": "boolean",
    "default": False,
    "description": "Use the cached vulnerability database as is (air-gapped sites).",
}


class TrivyPlugin(ScannerPlugin):
    """What the three trivy plugins share; abstract, so the registry does not register it."""

    binary = "trivy"
    install_dir = "trivy"
    output_format = "json"
    version_args = ("--version",)
    fingerprint_fields = (
        "extra.kind",
        "rule_id",
        "file_path",
        "package_name",
        "package_version",
        "extra.resource",
        "code_snippet",
    )
    subcommand: ClassVar[str]

    def locate(self) -> Location:
        location = super().locate()
        if location.available:
            return location
        folder = self.tools_dir() / self.install_dir / self.bin_subdir
        return Location(reason=UNAVAILABLE.format(folder=folder))

    def cache_dir(self) -> Path:
        return self.tools_dir() / self.install_dir / "cache"

    @abstractmethod
    def scan_args(self, ctx: ScanContext) -> tuple[list[str], str, Path]:
        """(subcommand options, target, working directory) of one run."""

    def build_command(self, ctx: ScanContext) -> Command:
        options, target, cwd = self.scan_args(ctx)
        overrides = ctx.overrides
        output = ctx.output_dir / f"{self.slug}.json"
        # Our own (empty) config and ignore file: trivy would read the scanned tree's.
        config = ctx.scratch / "trivy.yaml"
        config.write_text("{}\n")
        ignorefile = ctx.scratch / "trivyignore"
        ignorefile.write_text("")
        argv = [
            ctx.binary,
            self.subcommand,
            "--format=json",
            f"--output={output}",
            "--quiet",
            "--exit-code=0",
            "--timeout=25m",
            f"--cache-dir={self.cache_dir()}",
            f"--config={config}",
            f"--ignorefile={ignorefile}",
            *options,
        ]
        if overrides.get("severities"):
            argv.append(f"--severity={','.join(overrides['severities'])}")
        if overrides.get("ignore_unfixed"):
            argv.append("--ignore-unfixed")
        if overrides.get("skip_db_update"):
            argv += ["--skip-db-update", "--skip-java-db-update"]
        for path in overrides.get("exclude_paths", []):
            argv.append(f"--skip-dirs={path}")
        argv += ["--", target]
        return Command(argv=argv, cwd=cwd, output_path=output)

    def interpret(self, exit_code: int, output_path: Path, stderr: str) -> Outcome:
        # --exit-code=0: findings exit 0 too, so anything else is an error.
        if exit_code != 0:
            return Outcome(False, f"trivy exited {exit_code}: {_error_line(stderr)}")
        try:
            with output_path.open("rb") as stream:
                report = load_json(stream, self.max_report_bytes)
        except (OSError, ParseError) as exc:
            return Outcome(False, f"trivy wrote no readable report: {exc}")
        if not isinstance(report, dict) or "SchemaVersion" not in report:
            return Outcome(False, "trivy report has no SchemaVersion")
        return Outcome(True)

    def parse(self, stream: IO[bytes], *, workspace: Path | None = None):
        return parse_report(stream, workspace=workspace, max_bytes=self.max_report_bytes)


class TrivyFsPlugin(TrivyPlugin):
    slug = "trivy-fs"
    label = "Trivy (dependencies and secrets)"
    category = Category.SCA
    target_types = FILE_TARGET_TYPES
    subcommand = "fs"
    overrides_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "scanners": {
                "type": "array",
                "description": "What to look for (default: vuln and secret).",
                "items": {"enum": ["vuln", "secret", "misconfig"]},
                "minItems": 1,
                "uniqueItems": True,
            },
            "severities": SEVERITIES_SCHEMA,
            "ignore_unfixed": IGNORE_UNFIXED_SCHEMA,
            "skip_db_update": SKIP_DB_UPDATE_SCHEMA,
            "exclude_paths": EXCLUDE_PATHS_SCHEMA,
        },
    }

    def scan_args(self, ctx: ScanContext) -> tuple[list[str], str, Path]:
        scanners = ctx.overrides.get("scanners") or ["vuln", "secret"]
        return [f"--scanners={','.join(scanners)}"], ".", ctx.workspace


class TrivyConfigPlugin(TrivyPlugin):
    slug = "trivy-config"
    label = "Trivy (infrastructure as code)"
    category = Category.IAC
    target_types = FILE_TARGET_TYPES
    subcommand = "config"
    overrides_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "severities": SEVERITIES_SCHEMA,
            "exclude_paths": EXCLUDE_PATHS_SCHEMA,
        },
    }

    def scan_args(self, ctx: ScanContext) -> tuple[list[str], str, Path]:
        return [], ".", ctx.workspace


class TrivyImagePlugin(TrivyPlugin):
    slug = "trivy-image"
    label = "Trivy (container image)"
    category = Category.CONTAINER
    target_types = frozenset({TargetType.DOCKER_IMAGE})
    subcommand = "image"
    overrides_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "scanners": {
                "type": "array",
                "description": "What to look for (default: vuln and secret).",
                "items": {"enum": ["vuln", "secret"]},
                "minItems": 1,
                "uniqueItems": True,
            },
            "severities": SEVERITIES_SCHEMA,
            "ignore_unfixed": IGNORE_UNFIXED_SCHEMA,
            "skip_db_update": SKIP_DB_UPDATE_SCHEMA,
        },
    }

    def scan_args(self, ctx: ScanContext) -> tuple[list[str], str, Path]:
        image = (ctx.target or "").strip()
        if not IMAGE_REF_RE.match(image):
            raise NothingToScan(f"{image[:100]!r} is not an image reference")
        scanners = ctx.overrides.get("scanners") or ["vuln", "secret"]
        return [f"--scanners={','.join(scanners)}"], image, ctx.workspace


def _error_line(stderr: str) -> str:
    lines = [line.strip() for line in (stderr or "").strip().splitlines() if line.strip()]
    errors = [line for line in lines if "FATAL" in line or "ERROR" in line or "error" in line]
    return (errors or lines or ["no error output"])[-1][:500]
