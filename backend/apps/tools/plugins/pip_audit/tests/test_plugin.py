"""pip-audit end to end against the loopback OSV-style service, never the internet."""

import pytest

from apps.tools.plugins.pip_audit.tests.osv_server import OsvServer
from apps.tools.runner import RunStatus
from apps.tools.tests.helpers import require_tool, run_tool


@pytest.fixture
def osv(settings):
    with OsvServer() as server:
        settings.SECULITE_PIP_AUDIT_OSV_URL = server.url
        yield server


def test_finds_the_vulnerable_pins(sample_app, tmp_path, osv):
    plugin = require_tool("pip-audit")
    result = run_tool(plugin, sample_app, tmp_path)
    assert result.status == RunStatus.COMPLETED, result.error
    assert result.exit_code == 1
    assert result.tool_version == "2.10.1"
    assert f"--osv-url={osv.url}" in result.command
    assert sorted(osv.queries) == [("django", "3.2.0"), ("pyyaml", "5.3"), ("requests", "2.19.0")]
    found = {
        (f.package_name, f.package_version, f.rule_id, f.fixed_version) for f in result.findings
    }
    assert ("requests", "2.19.0", "PYSEC-2018-28", "2.20.0") in found
    assert ("django", "3.2.0", "CVE-2021-33571", "3.2.4") in found
    assert ("pyyaml", "5.3", "PYSEC-2021-142", "5.4") in found


def test_ignore_vulns_override(sample_app, tmp_path, osv):
    plugin = require_tool("pip-audit")
    result = run_tool(plugin, sample_app, tmp_path, ignore_vulns=["PYSEC-2018-28"])
    assert "PYSEC-2018-28" not in {f.rule_id for f in result.findings}


def test_a_broken_service_is_a_failure(sample_app, tmp_path, settings):
    from tests.broken_service import broken_http_service

    plugin = require_tool("pip-audit")
    with broken_http_service() as url:  # reachable, answers 500 to every query
        settings.SECULITE_PIP_AUDIT_OSV_URL = f"{url}/v1/query"
        result = run_tool(plugin, sample_app, tmp_path)
    assert result.status == RunStatus.FAILED
    assert result.error


def test_unpinned_requirement_is_a_failure_with_the_reason(tmp_path, osv):
    plugin = require_tool("pip-audit")
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "requirements.txt").write_text("flask\n")
    result = run_tool(plugin, tmp_path / "ws", tmp_path)
    assert result.status == RunStatus.FAILED
    assert "not pinned" in result.error


def test_no_requirements_file_is_skipped(tmp_path, osv):
    plugin = require_tool("pip-audit")
    (tmp_path / "ws").mkdir()
    assert run_tool(plugin, tmp_path / "ws", tmp_path).status == RunStatus.SKIPPED


def test_unreachable_service_makes_pip_audit_unavailable(settings, tmp_path):
    """Offline, pip-audit cannot judge anything: it shows as unavailable with the reason and a
    run is skipped, instead of failing every scan."""
    from apps.tools.plugins.pip_audit import plugin as module
    from apps.tools.plugins.registry import registry
    from apps.tools.runner import RunStatus
    from apps.tools.tests.helpers import SAMPLE_APP, require_tool, run_tool

    require_tool("pip-audit")
    module._probe_cache.clear()
    settings.SECULITE_PIP_AUDIT_OSV_URL = "http://127.0.0.1:1/v1/query"
    plugin = registry.get("pip-audit")
    location = plugin.locate()
    assert not location.available
    assert "127.0.0.1:1 is unreachable" in location.reason
    result = run_tool(plugin, SAMPLE_APP, tmp_path)
    assert result.status == RunStatus.SKIPPED
    assert "SECULITE_PIP_AUDIT_OSV_URL" in result.error
    settings.SECULITE_PIP_AUDIT_OSV_URL = "ftp://mirror.example.org/v1/query"
    assert "not an http(s) URL" in plugin.locate().reason
    module._probe_cache.clear()
