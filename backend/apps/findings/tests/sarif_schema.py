"""Validation of SARIF logs against the official OASIS SARIF 2.1.0 schema (draft-07).

The schema lives in the shared data folder beside the repository (`<repo>/../shared/data/`), in
CI as here. The `uri`, `uri-reference` and `date-time` formats are checked strictly (RFC 3986 /
RFC 3339) by our own checkers: jsonschema only checks them when optional packages are installed.
"""

from __future__ import annotations

import functools
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

REPO_DIR = Path(__file__).resolve().parents[4]
SCHEMA_PATH = (REPO_DIR / ".." / "shared" / "data" / "sarif-schema-2.1.0.json").resolve()

# RFC 3986: characters allowed in a URI reference, and appendix B's parsing expression.
_URI_CHARS = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#\[\]]|%[0-9A-Fa-f]{2})*$")
_URI_PARTS = re.compile(r"^(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")


def is_uri_reference(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    if not _URI_CHARS.match(value) or value.count("#") > 1:
        return False
    scheme = _URI_PARTS.match(value).group(1)
    return scheme is None or bool(_SCHEME.match(scheme))


def is_uri(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    return is_uri_reference(value) and _URI_PARTS.match(value).group(1) is not None


def is_date_time(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def format_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker(list(jsonschema.Draft7Validator.FORMAT_CHECKER.checkers))
    checker.checks("uri")(is_uri)
    checker.checks("uri-reference")(is_uri_reference)
    checker.checks("date-time")(is_date_time)
    return checker


@functools.cache
def _validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=format_checker())


def sarif_validator() -> jsonschema.Draft7Validator:
    """The validator; fails (never skips) when the shared schema file is missing."""
    if not SCHEMA_PATH.is_file():
        pytest.fail(
            f"the SARIF 2.1.0 schema is missing: expected {SCHEMA_PATH} (the shared data folder "
            "beside the repository root, <repo>/../shared/data/sarif-schema-2.1.0.json)",
            pytrace=False,
        )
    return _validator()


def assert_valid_sarif(document: dict[str, Any]) -> None:
    """Fail with every schema violation (up to 20), each with its JSON path."""
    errors = sorted(sarif_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{e.json_path}: {e.message[:300]}" for e in errors[:20]]
        pytest.fail(f"SARIF is invalid ({len(errors)} errors):\n" + "\n".join(lines))
