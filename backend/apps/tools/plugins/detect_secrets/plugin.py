"""detect-secrets (Yelp): secrets in files. Always `--no-verify` (else it calls AWS & co.) and
`--all-files` (else it only scans git-tracked files and, outside a repository, nothing)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO

from apps.tools.plugins.base import (
    FILE_TARGET_TYPES,
    Category,
    Command,
    Outcome,
    ParseError,
    ScanContext,
    ScannerPlugin,
    load_json,
    unsafe_files,
)

from .parser import parse_report

# Binary, media, archive and translation files (.po/.mo double the scan time on Django) and
# folders that hold other people's code.
DEFAULT_EXCLUDE_FILES = (
    r"(^|/)(\.git|node_modules|\.venv|venv|__pycache__|\.tox|site-packages)/"
    r"|\.(po|pot|mo|png|jpe?g|gif|bmp|ico|webp|svgz|pdf|zip|gz|tgz|bz2|xz|7z|rar|jar|war|ear"
    r"|class|so|dll|dylib|exe|bin|o|a|pyc|whl|woff2?|ttf|otf|eot|mp[34]|mov|avi|mkv|wav|flac"
    r"|sqlite3?|db)$"
)
PLUGIN_NAMES = [
    "ArtifactoryDetector",
    "AWSKeyDetector",
    "AzureStorageKeyDetector",
    "BasicAuthDetector",
    "CloudantDetector",
    "DiscordBotTokenDetector",
    "GitHubTokenDetector",
    "GitLabTokenDetector",
    "Base64HighEntropyString",
    "HexHighEntropyString",
    "IbmCloudIamDetector",
    "IbmCosHmacDetector",
    "IPPublicDetector",
    "JwtTokenDetector",
    "KeywordDetector",
    "MailchimpDetector",
    "NpmDetector",
    "OpenAIDetector",
    "PrivateKeyDetector",
    "PypiTokenDetector",
    "SendGridDetector",
    "SlackDetector",
    "SoftlayerDetector",
    "SquareOAuthDetector",
    "StripeDetector",
    "TelegramBotTokenDetector",
    "TwilioKeyDetector",
]
REGEX_LIST = {
    "type": "array",
    "items": {"type": "string", "minLength": 1, "maxLength": 500, "format": "regex"},
    "maxItems": 50,
}


class DetectSecretsPlugin(ScannerPlugin):
    slug = "detect-secrets"
    label = "detect-secrets"
    category = Category.SECRETS
    target_types = FILE_TARGET_TYPES
    output_format = "json"
    binary = "detect-secrets"
    fingerprint_fields = ("rule_id", "file_path", "secret_hash")
    overrides_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "exclude_files": {**REGEX_LIST, "description": "Regexes of file paths to skip."},
            "exclude_lines": {**REGEX_LIST, "description": "Regexes of lines to skip."},
            "disable_plugins": {
                "type": "array",
                "items": {"enum": PLUGIN_NAMES},
                "uniqueItems": True,
                "description": "detect-secrets detectors to turn off.",
            },
            "base64_limit": {"type": "number", "minimum": 0, "maximum": 8},
            "hex_limit": {"type": "number", "minimum": 0, "maximum": 8},
        },
    }

    def build_command(self, ctx: ScanContext) -> Command:
        overrides = ctx.overrides
        output = ctx.output_dir / "detect-secrets.json"
        # Files it must not open: symlinks (it skips them today; stated, not assumed) and
        # oversized files, which it would read line by line into memory.
        unsafe = [f"^{re.escape(rel)}$" for rel in unsafe_files(ctx.workspace)]
        excludes = "|".join([DEFAULT_EXCLUDE_FILES, *overrides.get("exclude_files", []), *unsafe])
        argv = [ctx.binary, "scan", "--no-verify", "--all-files", f"--exclude-files={excludes}"]
        for regex in overrides.get("exclude_lines", []):
            argv.append(f"--exclude-lines={regex}")
        for name in overrides.get("disable_plugins", []):
            argv.append(f"--disable-plugin={name}")
        if "base64_limit" in overrides:
            argv.append(f"--base64-limit={overrides['base64_limit']}")
        if "hex_limit" in overrides:
            argv.append(f"--hex-limit={overrides['hex_limit']}")
        argv += ["--", "."]
        return Command(argv=argv, cwd=ctx.workspace, output_path=output, stdout_is_report=True)

    def interpret(self, exit_code: int, output_path: Path, stderr: str) -> Outcome:
        # `scan` exits 0 whatever it finds; an error shows as a non-zero exit or no JSON.
        if exit_code != 0:
            return Outcome(False, f"detect-secrets exited {exit_code}: {stderr.strip()[-500:]}")
        try:
            with output_path.open("rb") as stream:
                report = load_json(stream, self.max_report_bytes)
        except (OSError, ParseError) as exc:
            return Outcome(False, f"detect-secrets wrote no usable report: {exc}")
        if not isinstance(report, dict) or not isinstance(report.get("results"), dict):
            return Outcome(False, "detect-secrets report has no results")
        return Outcome(True)

    def parse(self, stream: IO[bytes], *, workspace: Path | None = None):
        return parse_report(stream, workspace=workspace, max_bytes=self.max_report_bytes)
