"""The plugin registry: autodiscovery, and start-up errors that must not be silent."""

from __future__ import annotations

import sys
import textwrap
import uuid

import pytest

from apps.tools.plugins.registry import (
    DuplicatePluginError,
    PluginLoadError,
    PluginRegistry,
    UnknownPluginError,
    registry,
)

EXPECTED = {
    "bandit",
    "checkov",
    "detect-secrets",
    "eslint",
    "hadolint",
    "pip-audit",
    "semgrep",
    "shellcheck",
}

PLUGIN_SOURCE = """
from apps.tools.plugins.base import Category, Command, ScannerPlugin, TargetType


class {name}(ScannerPlugin):
    slug = "{slug}"
    label = "{slug}"
    category = Category.LINT
    target_types = frozenset({{TargetType.GIT_REPOSITORY}})
    output_format = "json"
    binary = "true"
    fingerprint_fields = ("rule_id",)

    def build_command(self, ctx):
        return Command(argv=[ctx.binary], cwd=ctx.workspace, output_path=ctx.output_dir / "x")

    def parse(self, stream, *, workspace=None):
        return iter(())
"""


@pytest.fixture
def plugin_package(tmp_path, monkeypatch):
    """A throw-away plugins package on sys.path; returns (name, writer of plugin folders)."""
    name = f"seculite_test_plugins_{uuid.uuid4().hex[:8]}"
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))

    def add(folder: str, source: str) -> None:
        (root / folder).mkdir()
        (root / folder / "__init__.py").write_text("")
        (root / folder / "plugin.py").write_text(textwrap.dedent(source))

    yield name, add
    for module in [m for m in sys.modules if m.startswith(name)]:
        del sys.modules[module]


def test_real_registry_holds_every_scanner():
    assert set(registry.slugs()) >= EXPECTED
    assert registry.get("bandit").label == "Bandit"
    assert "semgrep" in registry
    assert {p.slug for p in registry.for_target_type("git_repository")} >= EXPECTED
    assert registry.for_target_type("url") == [p for p in registry.all() if "url" in p.target_types]


def test_unknown_slug():
    with pytest.raises(UnknownPluginError):
        registry.get("no-such-tool")


def test_autodiscover_registers_each_folder(plugin_package):
    name, add = plugin_package
    add("alpha", PLUGIN_SOURCE.format(name="Alpha", slug="alpha"))
    add("beta", PLUGIN_SOURCE.format(name="Beta", slug="beta"))
    reg = PluginRegistry(package=name)
    reg.autodiscover()
    assert reg.slugs() == ["alpha", "beta"]


def test_duplicate_slug_stops_loading(plugin_package):
    name, add = plugin_package
    add("one", PLUGIN_SOURCE.format(name="One", slug="same"))
    add("two", PLUGIN_SOURCE.format(name="Two", slug="same"))
    reg = PluginRegistry(package=name)
    with pytest.raises(DuplicatePluginError, match="'same' is declared twice"):
        reg.autodiscover()
    # All or nothing: no half-filled registry is left behind to be used later.
    with pytest.raises(DuplicatePluginError):
        reg.all()


def test_plugin_that_fails_to_import_stops_loading(plugin_package):
    name, add = plugin_package
    add("good", PLUGIN_SOURCE.format(name="Good", slug="good"))
    add("broken", "import seculite_module_that_does_not_exist\n")
    reg = PluginRegistry(package=name)
    with pytest.raises(PluginLoadError, match="'broken' failed to import") as excinfo:
        reg.autodiscover()
    assert isinstance(excinfo.value.__cause__, ModuleNotFoundError)


def test_plugin_raising_at_import_is_not_dropped(plugin_package):
    name, add = plugin_package
    add("boom", "raise RuntimeError('bad plugin')\n")
    with pytest.raises(PluginLoadError, match="RuntimeError: bad plugin"):
        PluginRegistry(package=name).autodiscover()


def test_folder_without_plugin_class_stops_loading(plugin_package):
    name, add = plugin_package
    add("empty", "X = 1\n")
    with pytest.raises(PluginLoadError, match="defines no ScannerPlugin"):
        PluginRegistry(package=name).autodiscover()


def test_register_rejects_non_plugins():
    with pytest.raises(PluginLoadError):
        PluginRegistry(package="unused").register(dict)
