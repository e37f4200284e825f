"""The plugin registry: finds every `apps/tools/plugins/<folder>/plugin.py` at start-up.

A duplicate slug or a plugin that fails to import stops start-up with an error naming the folder
(DefectDojo silently drops such a parser; a scanner that quietly disappears is worse than a crash).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import threading
from types import ModuleType

from .base import ScannerPlugin


class PluginError(Exception):
    """Base of the errors that stop start-up."""


class DuplicatePluginError(PluginError):
    pass


class PluginLoadError(PluginError):
    pass


class UnknownPluginError(KeyError):
    pass


DEFAULT_PACKAGE = "apps.tools.plugins"


class PluginRegistry:
    """Slug -> plugin instance. `autodiscover()` fills it once; lookups fill it on first use."""

    def __init__(self, package: str = DEFAULT_PACKAGE):
        self.package = package
        self._plugins: dict[str, ScannerPlugin] = {}
        self._loaded = False
        self._lock = threading.RLock()

    # --- filling ----------------------------------------------------------------------------
    def register(self, plugin_cls: type[ScannerPlugin]) -> ScannerPlugin:
        if not (inspect.isclass(plugin_cls) and issubclass(plugin_cls, ScannerPlugin)):
            raise PluginLoadError(f"{plugin_cls!r} is not a ScannerPlugin subclass")
        slug = getattr(plugin_cls, "slug", "")
        if not slug:
            raise PluginLoadError(f"{plugin_cls.__module__}.{plugin_cls.__name__} has no slug")
        with self._lock:
            existing = self._plugins.get(slug)
            if existing is not None:
                raise DuplicatePluginError(
                    f"plugin slug {slug!r} is declared twice: by {type(existing).__module__} "
                    f"and by {plugin_cls.__module__}"
                )
            plugin = plugin_cls()
            self._plugins[slug] = plugin
            return plugin

    def autodiscover(self) -> None:
        """Import `<package>.<folder>.plugin` for every sub-package and register its plugin."""
        with self._lock:
            if self._loaded:
                return
            try:
                self._discover()
            except Exception:
                self._plugins.clear()  # all or nothing: a half-filled registry hides the error
                raise
            self._loaded = True

    def _discover(self) -> None:
        package = importlib.import_module(self.package)
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            if not info.ispkg:
                continue
            module_name = f"{self.package}.{info.name}.plugin"
            try:
                module = importlib.import_module(module_name)
            except Exception as exc:
                raise PluginLoadError(
                    f"scanner plugin folder {info.name!r} failed to import {module_name}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            classes = self._plugin_classes(module)
            if not classes:
                raise PluginLoadError(f"{module_name} defines no ScannerPlugin subclass")
            for plugin_cls in classes:
                self.register(plugin_cls)

    @staticmethod
    def _plugin_classes(module: ModuleType) -> list[type[ScannerPlugin]]:
        return [
            obj
            for _, obj in inspect.getmembers(module, inspect.isclass)
            if issubclass(obj, ScannerPlugin)
            and obj.__module__ == module.__name__
            and not inspect.isabstract(obj)
        ]

    # --- lookups ----------------------------------------------------------------------------
    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self.autodiscover()

    def get(self, slug: str) -> ScannerPlugin:
        self._ensure_loaded()
        try:
            return self._plugins[slug]
        except KeyError:
            raise UnknownPluginError(f"no scanner plugin with slug {slug!r}") from None

    def all(self) -> list[ScannerPlugin]:
        self._ensure_loaded()
        return [self._plugins[slug] for slug in sorted(self._plugins)]

    def slugs(self) -> list[str]:
        return [plugin.slug for plugin in self.all()]

    def for_target_type(self, target_type: str) -> list[ScannerPlugin]:
        return [plugin for plugin in self.all() if plugin.supports(target_type)]

    def __contains__(self, slug: object) -> bool:
        self._ensure_loaded()
        return slug in self._plugins

    def __len__(self) -> int:
        self._ensure_loaded()
        return len(self._plugins)


registry = PluginRegistry()


def autodiscover() -> None:
    """Fill the global registry; call from ToolsConfig.ready() so errors stop start-up."""
    registry.autodiscover()


def get_plugin(slug: str) -> ScannerPlugin:
    return registry.get(slug)
