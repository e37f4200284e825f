"""Parser of pip-audit's JSON report (`pip-audit -f json`).

pip-audit passes on no severity from the advisory, so every vulnerability is recorded as medium
(as DefectDojo does); the advisory id, its CVE alias and the fixed version are kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from apps.tools.plugins.base import (
    FindingData,
    ParseError,
    Severity,
    as_list,
    as_text,
    expect,
    load_json,
)

DEFAULT_SEVERITY = Severity.MEDIUM


def parse_report(stream: IO[bytes], *, max_bytes: int, **_) -> Iterator[FindingData]:
    report = expect(load_json(stream, max_bytes), dict, "pip-audit report")
    if "dependencies" not in report:
        raise ParseError("pip-audit report has no dependencies list")
    dependencies = expect(report["dependencies"], list, "pip-audit dependencies")
    for dep in dependencies:
        dep = expect(dep, dict, "pip-audit dependency")
        if dep.get("skip_reason"):
            continue
        name = as_text(dep.get("name"))
        version = as_text(dep.get("version"))
        if not name:
            raise ParseError("pip-audit dependency without a name")
        if "vulns" not in dep:
            raise ParseError(f"pip-audit dependency {name[:100]} has no vulns list")
        vulns = dep["vulns"]
        # pip-audit writes a list, empty when clean: a null or missing one is not a clean
        # dependency (taken for one, the import would resolve its findings).
        for vuln in expect(vulns, list, f"pip-audit vulns of {name}"):
            yield _finding(expect(vuln, dict, "pip-audit vulnerability"), name, version)


def _finding(vuln: dict, name: str, version: str) -> FindingData:
    vuln_id = as_text(vuln.get("id"))
    if not vuln_id:
        raise ParseError(f"pip-audit vulnerability of {name} without an id")
    aliases = [a for a in as_list(vuln.get("aliases")) if isinstance(a, str)]
    ids = [vuln_id, *aliases]
    cve = next((i for i in ids if i.upper().startswith("CVE-")), "")
    fixes = [f for f in as_list(vuln.get("fix_versions")) if isinstance(f, str)]
    description = as_text(vuln.get("description"))
    references = [f"https://osv.dev/vulnerability/{vuln_id}"]
    references += [
        f"https://github.com/advisories/{alias}" for alias in aliases if alias.startswith("GHSA-")
    ]
    if cve:
        references.append(f"https://nvd.nist.gov/vuln/detail/{cve}")
    return FindingData(
        title=f"{name} {version}: {cve or vuln_id}",
        severity=DEFAULT_SEVERITY,
        rule_id=vuln_id,
        description=description,
        cve=cve,
        package_name=name,
        package_version=version,
        fixed_version=fixes[0] if fixes else "",
        remediation=f"Upgrade {name} to {fixes[0]} or later." if fixes else "",
        references=references,
        extra={"aliases": aliases, "fix_versions": fixes},
    )
