"""Fixtures of the scanner tests (apps/tools/tests and apps/tools/plugins/*/tests)."""

from pathlib import Path

import pytest

from apps.tools.tests.helpers import SAMPLE_APP


@pytest.fixture
def sample_app() -> Path:
    """The deliberately vulnerable sample project kept in the repository."""
    if not SAMPLE_APP.is_dir():
        pytest.fail(f"{SAMPLE_APP} is missing")
    return SAMPLE_APP
