"""The contract test: every registered plugin declares what SecuLite needs, validly."""

from __future__ import annotations

import inspect
import re

import jsonschema
import pytest
from django.conf import settings as django_settings

from apps.tools.plugins.base import (
    FINDING_FIELDS,
    Category,
    FindingData,
    Location,
    ScannerPlugin,
    Severity,
    TargetType,
    assign_fingerprints,
    normalise_code,
)
from apps.tools.plugins.registry import registry

PLUGINS = registry.all()
IDS = [plugin.slug for plugin in PLUGINS]


@pytest.mark.parametrize("plugin", PLUGINS, ids=IDS)
def test_declared_attributes(plugin: ScannerPlugin):
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]{1,40}", plugin.slug)
    assert plugin.label.strip()
    assert plugin.category in set(Category)
    assert plugin.target_types and set(plugin.target_types) <= set(TargetType)
    assert plugin.output_format.strip()
    assert plugin.binary.strip() and "/" not in plugin.binary
    assert plugin.default_timeout > 0
    assert plugin.max_report_bytes > 0
    assert not inspect.isabstract(type(plugin))


@pytest.mark.parametrize("plugin", PLUGINS, ids=IDS)
def test_fingerprint_fields_exist_and_are_stable(plugin: ScannerPlugin):
    fields = plugin.fingerprint_fields
    assert fields
    for name in fields:
        assert name in FINDING_FIELDS or re.fullmatch(r"extra\.\w+", name), name
    # A line number alone changes whenever code is inserted above: never a fingerprint field.
    assert not {"line_start", "line_end", "fingerprint"} & set(fields)


@pytest.mark.parametrize("plugin", PLUGINS, ids=IDS)
def test_overrides_schema_is_valid_json_schema(plugin: ScannerPlugin):
    schema = plugin.overrides_schema
    jsonschema.validators.validator_for(schema).check_schema(schema)
    assert schema["type"] == "object"
    assert schema.get("additionalProperties") is False
    assert plugin.validate_overrides({}) == {}
    with pytest.raises(jsonschema.ValidationError):
        plugin.validate_overrides({"not-an-override": True})


@pytest.mark.parametrize("plugin", PLUGINS, ids=IDS)
def test_locate_never_raises(plugin: ScannerPlugin, settings, tmp_path):
    assert isinstance(plugin.locate(), Location)
    settings.SECULITE_TOOLS_DIR = tmp_path  # an empty tools folder: only PATH is left
    location = plugin.locate()
    assert location.available or "make tools" in location.reason


def test_tools_dir_setting():
    assert django_settings.SECULITE_TOOLS_DIR
    assert django_settings.SECULITE_PIP_AUDIT_OSV_URL.startswith(("http://", "https://"))


def test_fingerprint_ignores_whitespace_and_lines():
    a = FindingData(
        title="t",
        severity=Severity.LOW,
        rule_id="R",
        file_path="a.py",
        code_snippet="  x = eval(y)\n",
        line_start=3,
    )
    b = FindingData(
        title="t",
        severity=Severity.LOW,
        rule_id="R",
        file_path="a.py",
        code_snippet="x  =  eval(y)",
        line_start=30,
    )
    fields = ("rule_id", "file_path", "code_snippet")
    assert a.compute_fingerprint(fields) == b.compute_fingerprint(fields)
    c = FindingData(
        title="t", severity=Severity.LOW, rule_id="R", file_path="b.py", code_snippet="x = eval(y)"
    )
    assert a.compute_fingerprint(fields) != c.compute_fingerprint(fields)
    assert normalise_code("  a  b\n\n\tc ") == "a b\nc"


def test_identical_findings_get_distinct_stable_fingerprints():
    def make():
        return [
            FindingData(
                title="t",
                severity=Severity.LOW,
                rule_id="R",
                file_path="a.py",
                code_snippet="eval(x)",
            )
            for _ in range(3)
        ]

    first, second = make(), make()
    assign_fingerprints("tool", first, ("rule_id", "file_path", "code_snippet"))
    assign_fingerprints("tool", second, ("rule_id", "file_path", "code_snippet"))
    assert len({f.fingerprint for f in first}) == 3
    assert [f.fingerprint for f in first] == [f.fingerprint for f in second]


def test_fingerprint_depends_on_the_tool():
    finding = FindingData(title="t", severity=Severity.LOW, rule_id="R")
    assert finding.compute_fingerprint(("rule_id",), salt="a") != finding.compute_fingerprint(
        ("rule_id",), salt="b"
    )


def test_override_formats_are_checked():
    plugin = registry.get("detect-secrets")
    with pytest.raises(jsonschema.ValidationError):
        plugin.validate_overrides({"exclude_files": ["(unclosed"]})
    assert plugin.validate_overrides({"exclude_files": [r"\.min\.js$"]})


def test_override_values_cannot_become_options():
    plugin = registry.get("semgrep")
    for bad in ["--config=/tmp/evil.yml", "a,b", "x\ny"]:
        with pytest.raises(jsonschema.ValidationError):
            plugin.validate_overrides({"exclude_paths": [bad]})
