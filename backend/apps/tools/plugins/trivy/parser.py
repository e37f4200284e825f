"""Parser of Trivy's JSON report (`trivy <fs|config|image> --format json`, SchemaVersion 2).

`Results` holds one entry per target (a lock file, a config file, the image's OS packages...);
each may list `Vulnerabilities`, `Misconfigurations` (only `Status: FAIL` is a finding) and
`Secrets`. Trivy's severities map one to one (CRITICAL, HIGH, MEDIUM, LOW); UNKNOWN (no score
published yet) is recorded as medium, the rule SecuLite uses for advisories without severity.
Trivy already masks secrets in its report (`*****`), so none reaches a finding; the masked match
is kept as the snippet. The pre-2021 format (a bare list of results) is read too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from apps.tools.plugins.base import (
    FindingData,
    ParseError,
    Severity,
    as_int,
    as_list,
    as_text,
    expect,
    load_json,
    optional,
    parse_cwe,
    relative_path,
    severity_from,
    url_list,
)

SEVERITY = {
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
    "UNKNOWN": Severity.MEDIUM,
}
DEFAULT_SEVERITY = Severity.MEDIUM
#: Result classes whose Target is a path in the scanned tree (not "image (alpine 3.14)").
FILE_CLASSES = {"lang-pkgs", "config", "secret", "license-file"}
MAX_RESULTS = 100_000


def parse_report(
    stream: IO[bytes], *, workspace: Path | None = None, max_bytes: int
) -> Iterator[FindingData]:
    report = load_json(stream, max_bytes)
    if isinstance(report, list):  # trivy < 0.20: the results themselves
        results, artifact = report, ""
    else:
        report = expect(report, dict, "trivy report")
        if "SchemaVersion" not in report:
            raise ParseError("trivy report has no SchemaVersion")
        # Trivy leaves the key out when there is nothing to report; a null one is not that.
        results = expect(report.get("Results", []), list, "trivy Results")
        artifact = as_text(report.get("ArtifactName"), 500)
    if len(results) > MAX_RESULTS:
        raise ParseError(f"trivy report has more than {MAX_RESULTS} results")
    for result in results:
        result = expect(result, dict, "trivy result")
        yield from _result(result, artifact, workspace)


def _result(result: dict, artifact: str, workspace: Path | None) -> Iterator[FindingData]:
    target = as_text(result.get("Target"), 1000)
    klass = as_text(result.get("Class"), 50)
    in_tree = klass in FILE_CLASSES or (not klass and "(" not in target)
    file_path = relative_path(target, workspace) if in_tree else ""
    context = {
        "target": target,
        "class": klass,
        "type": as_text(result.get("Type"), 50),
        "artifact": artifact,
    }
    for vuln in optional(result.get("Vulnerabilities"), list, f"trivy vulnerabilities of {target}"):
        yield _vulnerability(expect(vuln, dict, "trivy vulnerability"), file_path, context)
    for misconf in optional(
        result.get("Misconfigurations"), list, f"trivy misconfigurations of {target}"
    ):
        misconf = expect(misconf, dict, "trivy misconfiguration")
        if as_text(misconf.get("Status")).upper() in ("", "FAIL"):
            yield _misconfiguration(misconf, file_path, context)
    for secret in optional(result.get("Secrets"), list, f"trivy secrets of {target}"):
        yield _secret(expect(secret, dict, "trivy secret"), file_path, context)


def _vulnerability(vuln: dict, file_path: str, context: dict[str, Any]) -> FindingData:
    vuln_id = as_text(vuln.get("VulnerabilityID"), 100)
    name = as_text(vuln.get("PkgName"), 300)
    if not vuln_id or not name:
        raise ParseError("trivy vulnerability without VulnerabilityID or PkgName")
    version = as_text(vuln.get("InstalledVersion"), 100)
    fixed = as_text(vuln.get("FixedVersion"), 200)
    title = as_text(vuln.get("Title"), 300)
    pkg_path = as_text(vuln.get("PkgPath"), 1000)
    references = url_list(
        [vuln.get("PrimaryURL"), vuln.get("URL"), *as_list(vuln.get("References"))]
    )
    return FindingData(
        title=f"{name} {version}: {vuln_id}" + (f" ({title})" if title else ""),
        severity=severity_from(SEVERITY, vuln.get("Severity"), DEFAULT_SEVERITY),
        rule_id=vuln_id,
        description=as_text(vuln.get("Description")),
        cwe=parse_cwe(vuln.get("CweIDs")),
        cve=vuln_id if vuln_id.upper().startswith("CVE-") else "",
        file_path=file_path or pkg_path,
        package_name=name,
        package_version=version,
        fixed_version=fixed,
        remediation=f"Upgrade {name} to {fixed.split(',')[0].strip()} or later." if fixed else "",
        references=references,
        extra={
            **context,
            "kind": "vulnerability",
            "pkg_path": pkg_path,
            "status": as_text(vuln.get("Status"), 50),
            "severity_source": as_text(vuln.get("SeveritySource"), 50),
            "cvss": _cvss(vuln.get("CVSS")),
            "published": as_text(vuln.get("PublishedDate"), 50),
            "resource": "",
        },
    )


def _misconfiguration(misconf: dict, file_path: str, context: dict[str, Any]) -> FindingData:
    check_id = as_text(misconf.get("ID"), 100) or as_text(misconf.get("AVDID"), 100)
    if not check_id:
        raise ParseError("trivy misconfiguration without an ID")
    cause = misconf.get("CauseMetadata") if isinstance(misconf.get("CauseMetadata"), dict) else {}
    title = as_text(misconf.get("Title"), 300) or check_id
    message = as_text(misconf.get("Message"), 2000)
    description = as_text(misconf.get("Description"))
    start = as_int(cause.get("StartLine"))
    end = as_int(cause.get("EndLine"))
    return FindingData(
        title=f"{check_id}: {title}"[:300],
        severity=severity_from(SEVERITY, misconf.get("Severity"), DEFAULT_SEVERITY),
        rule_id=check_id,
        description=f"{message}\n\n{description}".strip() if message else description,
        file_path=file_path,
        line_start=start,
        line_end=end if end is not None else start,
        code_snippet=_code(cause.get("Code")),
        remediation=as_text(misconf.get("Resolution"), 2000),
        references=url_list([misconf.get("PrimaryURL"), *as_list(misconf.get("References"))]),
        extra={
            **context,
            "kind": "misconfiguration",
            "avd_id": as_text(misconf.get("AVDID"), 100),
            "check_type": as_text(misconf.get("Type"), 100),
            "namespace": as_text(misconf.get("Namespace"), 200),
            "resource": as_text(cause.get("Resource"), 300),
            "provider": as_text(cause.get("Provider"), 100),
            "service": as_text(cause.get("Service"), 100),
        },
    )


def _secret(secret: dict, file_path: str, context: dict[str, Any]) -> FindingData:
    rule_id = as_text(secret.get("RuleID"), 200)
    if not rule_id:
        raise ParseError("trivy secret without a RuleID")
    title = as_text(secret.get("Title"), 300) or rule_id
    start = as_int(secret.get("StartLine"))
    end = as_int(secret.get("EndLine"))
    return FindingData(
        title=f"{title} in {file_path}"[:300] if file_path else title,
        severity=severity_from(SEVERITY, secret.get("Severity"), Severity.HIGH),
        rule_id=rule_id,
        description=f"{title} ({as_text(secret.get('Category'), 100)}) found by trivy; the "
        "report masks the value.",
        cwe=798,
        file_path=file_path,
        line_start=start,
        line_end=end if end is not None else start,
        # Trivy writes the match with the secret already masked ("GITHUB_PAT=*****").
        code_snippet=as_text(secret.get("Match"), 2000),
        remediation="Revoke and rotate the credential, then remove it from the code.",
        extra={**context, "kind": "secret", "category": as_text(secret.get("Category"), 100)},
    )


def _code(code: Any) -> str:
    """The lines trivy flags as the cause (`Code.Lines[].IsCause`), without numbers."""
    lines = as_list(code.get("Lines")) if isinstance(code, dict) else []
    kept = [
        as_text(line.get("Content"), 500)
        for line in lines
        if isinstance(line, dict) and line.get("IsCause")
    ]
    return "\n".join(k for k in kept if k)[:4000]


def _cvss(cvss: Any) -> dict[str, Any]:
    """Base scores per source, e.g. {"nvd": 7.5}."""
    scores: dict[str, Any] = {}
    if isinstance(cvss, dict):
        for source, data in list(cvss.items())[:10]:
            if isinstance(data, dict):
                score = data.get("V3Score", data.get("V2Score"))
                if isinstance(score, (int, float)):
                    scores[str(source)[:50]] = score
    return scores


__all__ = ["SEVERITY", "parse_report"]
