"""Checkov: IaC misconfigurations (Terraform, Kubernetes, Dockerfile, CloudFormation, ...).

Two traps handled here: checkov exits 0 for a missing folder, and it reads `.checkov.yaml` from
the scanned folder and the working directory, where `external-checks-dir` would make it import
Python files from the scanned repository. So it runs from the private scratch folder, and the
folder is passed as `--directory=PATH` (one token), which checkov's config lookup does not see.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO

from apps.tools.plugins.base import (
    FILE_TARGET_TYPES,
    Category,
    Command,
    Outcome,
    ScanContext,
    ScannerPlugin,
    rule_ids_schema,
    unsafe_files,
)

from .parser import parse_report

#: Frameworks that work offline and run no other program (helm and kustomize call helm and
#: kubectl on repository content; sca_* and *_configuration need the network).
FRAMEWORKS = [
    "ansible",
    "argo_workflows",
    "arm",
    "azure_pipelines",
    "bicep",
    "bitbucket_pipelines",
    "circleci_pipelines",
    "cloudformation",
    "dockerfile",
    "github_actions",
    "gitlab_ci",
    "kubernetes",
    "openapi",
    "serverless",
    "terraform",
    "terraform_json",
    "terraform_plan",
]
DEFAULT_FRAMEWORKS = ["terraform", "dockerfile", "kubernetes"]
CHECK_ID = r"^CKV2?_[A-Z0-9]+_\d+$"
REPORT_NAME = "results_json.json"


class CheckovPlugin(ScannerPlugin):
    slug = "checkov"
    label = "Checkov"
    category = Category.IAC
    target_types = FILE_TARGET_TYPES
    output_format = "json"
    binary = "checkov"
    fingerprint_fields = ("rule_id", "file_path", "extra.resource")
    env = {"BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    overrides_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "frameworks": {
                "type": "array",
                "items": {"enum": FRAMEWORKS},
                "minItems": 1,
                "uniqueItems": True,
                "description": "IaC frameworks to scan (default: terraform, dockerfile, "
                "kubernetes; more frameworks take longer).",
            },
            "skip_checks": rule_ids_schema(CHECK_ID, "Checkov check ids to skip."),
            "only_checks": rule_ids_schema(CHECK_ID, "Run only these check ids."),
            "skip_paths": {
                "type": "array",
                "items": {"type": "string", "minLength": 1, "maxLength": 300, "format": "regex"},
                "maxItems": 100,
                "description": "Regexes of paths to skip.",
            },
        },
    }

    def build_command(self, ctx: ScanContext) -> Command:
        if not ctx.workspace.is_dir():
            raise FileNotFoundError(f"workspace {ctx.workspace} does not exist")
        overrides = ctx.overrides
        report_dir = ctx.output_dir / "checkov"
        report_dir.mkdir(parents=True, exist_ok=True)
        frameworks = overrides.get("frameworks") or DEFAULT_FRAMEWORKS
        argv = [
            ctx.binary,
            f"--directory={ctx.workspace.resolve()}",
            f"--framework={','.join(frameworks)}",
            "--skip-download",
            "--output=json",
            f"--output-file-path={report_dir}",
            "--quiet",
            "--compact",
        ]
        if overrides.get("skip_checks"):
            argv.append(f"--skip-check={','.join(overrides['skip_checks'])}")
        if overrides.get("only_checks"):
            argv.append(f"--check={','.join(overrides['only_checks'])}")
        for regex in overrides.get("skip_paths", []):
            argv.append(f"--skip-path={regex}")
        # checkov follows symlinked files (a repository could make it read and quote any file of
        # the worker) and parses files whole: both kinds are left out by their full path.
        root = ctx.workspace.resolve()
        for rel in unsafe_files(root):
            argv.append(f"--skip-path=^{re.escape(str(root / rel))}$")
        # stdout repeats the JSON report: not worth keeping as an excerpt.
        return Command(
            argv=argv, cwd=ctx.scratch, output_path=report_dir / REPORT_NAME, capture_stdout=False
        )

    def interpret(self, exit_code: int, output_path: Path, stderr: str) -> Outcome:
        # 0 = all passed (or nothing scanned), 1 = failed checks; anything else is a crash.
        if exit_code not in (0, 1):
            return Outcome(False, f"checkov exited {exit_code}: {_last_line(stderr)}")
        if not output_path.is_file() or output_path.stat().st_size == 0:
            return Outcome(False, f"checkov exited {exit_code} without a report")
        return Outcome(True)

    def parse(self, stream: IO[bytes], *, workspace: Path | None = None):
        return parse_report(stream, workspace=workspace, max_bytes=self.max_report_bytes)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:500] if lines else "no error output"
