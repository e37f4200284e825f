"""Parser of Checkov's JSON report (`checkov -o json`).

The report is one object for one framework, a list of them for several, and a bare summary
(`{"passed": 0, "failed": 0, ...}`) when nothing was scanned. Without a Prisma Cloud key checkov
gives no severity: SecuLite's own table below rates the checks it knows, others are medium.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO

from apps.tools.plugins.base import (
    FindingData,
    ParseError,
    Severity,
    SourceLines,
    as_int,
    as_list,
    as_text,
    expect,
    load_json,
    relative_path,
    severity_from,
    url_list,
)

SEVERITY = {
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
    "INFO": Severity.INFO,
}
#: Checks that let an attacker in or out directly (host namespaces, privileged containers,
#: world-open ports, public buckets, credentials in code).
HIGH_CHECKS = frozenset(
    {
        "CKV_K8S_16",  # privileged container
        "CKV_K8S_17",  # host PID namespace
        "CKV_K8S_18",  # host IPC namespace
        "CKV_K8S_19",  # host network namespace
        "CKV_K8S_20",  # allowPrivilegeEscalation
        "CKV_K8S_27",  # docker socket mounted
        "CKV_K8S_39",  # CAP_SYS_ADMIN
        "CKV_AWS_20",  # S3 ACL allows public READ
        "CKV_AWS_57",  # S3 ACL allows public WRITE
        "CKV_AWS_24",  # SSH open to 0.0.0.0/0
        "CKV_AWS_25",  # RDP open to 0.0.0.0/0
        "CKV_AWS_41",  # AWS credentials hard-coded in the provider
        "CKV_DOCKER_8",  # last USER is root
    }
)
#: Hygiene checks: worth fixing, rarely exploitable on their own.
LOW_CHECKS = frozenset(
    {
        "CKV_K8S_8",  # liveness probe
        "CKV_K8S_9",  # readiness probe
        "CKV_K8S_10",  # CPU requests
        "CKV_K8S_11",  # CPU limits
        "CKV_K8S_12",  # memory requests
        "CKV_K8S_13",  # memory limits
        "CKV_K8S_14",  # image tag latest or blank
        "CKV_K8S_15",  # image pull policy
        "CKV_K8S_21",  # default namespace
        "CKV_K8S_43",  # image digest
        "CKV2_K8S_6",  # NetworkPolicy
        "CKV_DOCKER_2",  # HEALTHCHECK
        "CKV_DOCKER_7",  # latest base image tag
        "CKV_AWS_18",  # S3 access logging
        "CKV_AWS_21",  # S3 versioning
        "CKV_AWS_23",  # security group description
        "CKV_AWS_144",  # S3 cross-region replication
        "CKV2_AWS_5",  # security group attached
        "CKV2_AWS_61",  # S3 lifecycle configuration
        "CKV2_AWS_62",  # S3 event notifications
    }
)
MAX_SNIPPET_LINES = 20


def rate(check_id: str, reported: object) -> Severity:
    """Checkov's own severity when it has one, else SecuLite's table, else medium."""
    if reported:
        return severity_from(SEVERITY, reported, Severity.MEDIUM)
    if check_id in HIGH_CHECKS:
        return Severity.HIGH
    if check_id in LOW_CHECKS:
        return Severity.LOW
    return Severity.MEDIUM


def parse_report(
    stream: IO[bytes], *, workspace: Path | None = None, max_bytes: int
) -> Iterator[FindingData]:
    data = load_json(stream, max_bytes)
    if isinstance(data, dict):
        if "check_type" not in data:
            if {"passed", "failed"} <= data.keys():
                return iter(())  # bare summary: nothing matched the frameworks
            raise ParseError("checkov report is neither a framework report nor a summary")
        reports = [data]
    elif isinstance(data, list):
        reports = data
    else:
        raise ParseError(f"checkov report: expected object or list, got {type(data).__name__}")
    sources = SourceLines(workspace)
    return (
        finding
        for report in reports
        for finding in _framework_findings(
            expect(report, dict, "checkov report"), workspace, sources
        )
    )


def _framework_findings(report: dict, workspace: Path | None, sources: SourceLines):
    framework = as_text(report.get("check_type"))
    results = report.get("results")
    results = expect({} if results is None else results, dict, f"checkov {framework} results")
    failed = results.get("failed_checks")
    failed = expect([] if failed is None else failed, list, f"checkov {framework} failed_checks")
    for check in failed:
        yield _finding(expect(check, dict, "checkov failed check"), framework, workspace, sources)


def _finding(check: dict, framework: str, workspace: Path | None, sources: SourceLines):
    check_id = as_text(check.get("check_id"))
    if not check_id:
        raise ParseError("checkov failed check without check_id")
    name = as_text(check.get("check_name")) or check_id
    resource = as_text(check.get("resource"))
    path = relative_path(check.get("file_path") or check.get("repo_file_path"), workspace)
    line_range = check.get("file_line_range")
    start = end = None
    if isinstance(line_range, list) and len(line_range) == 2:
        start, end = as_int(line_range[0]), as_int(line_range[1])
    snippet = _code_block(check.get("code_block")) or sources.snippet(path, start, end)
    check_result = check.get("check_result") if isinstance(check.get("check_result"), dict) else {}
    guideline = as_text(check.get("guideline"))
    return FindingData(
        title=name,
        severity=rate(check_id, check.get("severity")),
        rule_id=check_id,
        description=f"{name} (resource {resource})" if resource else name,
        file_path=path,
        line_start=start,
        line_end=end,
        code_snippet=snippet,
        references=url_list([guideline]),
        extra={
            "framework": framework,
            "resource": resource,
            "check_class": as_text(check.get("check_class")),
            "bc_check_id": as_text(check.get("bc_check_id")),
            "evaluated_keys": [
                k for k in as_list(check_result.get("evaluated_keys")) if isinstance(k, str)
            ][:20],
        },
    )


def _code_block(block) -> str:
    """checkov's code_block ([[line, text], ...]) as text, at most MAX_SNIPPET_LINES lines."""
    if not isinstance(block, list):
        return ""
    lines = []
    for entry in block[:MAX_SNIPPET_LINES]:
        if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], str):
            lines.append(entry[1].rstrip("\n"))
    return "\n".join(lines)
