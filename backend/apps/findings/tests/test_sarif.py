"""The SARIF 2.1.0 writer: levels, rules, locations, fingerprints, escaping, schema validity."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from apps.findings.sarif import (
    FINGERPRINT_KEY,
    SarifRun,
    SarifTool,
    iter_sarif,
    runs_by_tool,
    sarif_document,
    write_sarif,
)
from apps.findings.tests.sarif_schema import (
    assert_valid_sarif,
    is_date_time,
    is_uri,
    is_uri_reference,
)
from apps.tools.plugins.base import Confidence, FindingData, Severity

TOOL = SarifTool(
    slug="bandit", name="Bandit", version="1.9.4", information_uri="https://github.com/PyCQA/bandit"
)


def finding(**fields) -> FindingData:
    defaults = {
        "title": "subprocess call with shell=True",
        "severity": Severity.HIGH,
        "rule_id": "B602",
        "confidence": Confidence.HIGH,
        "cwe": 78,
        "file_path": "app/views.py",
        "line_start": 15,
        "line_end": 16,
        "code_snippet": 'subprocess.call("ping " + host, shell=True)',
        "references": ["https://bandit.readthedocs.io/en/latest/plugins/b602.html"],
        "fingerprint": "a" * 64,
    }
    return FindingData(**{**defaults, **fields})


def document(*findings, **run_fields) -> dict:
    run_fields.setdefault("tool", TOOL)
    doc = sarif_document([SarifRun(findings=list(findings), **run_fields)])
    assert_valid_sarif(doc)
    return doc


def only_result(doc: dict) -> dict:
    [run] = doc["runs"]
    [result] = run["results"]
    return result


# --- document shape and schema validity -----------------------------------------------------------


def test_no_runs_is_a_valid_log():
    doc = sarif_document([])
    assert_valid_sarif(doc)
    assert doc["version"] == "2.1.0"
    assert doc["runs"] == []


def test_a_run_without_findings_has_its_tool_and_invocation():
    doc = document(src_root=Path("/srv/repo"), exit_code=0)
    [run] = doc["runs"]
    assert run["results"] == []
    driver = run["tool"]["driver"]
    assert driver["name"] == "Bandit"
    assert driver["version"] == driver["semanticVersion"] == "1.9.4"
    assert driver["informationUri"] == "https://github.com/PyCQA/bandit"
    assert driver["rules"] == []
    assert run["invocations"] == [{"executionSuccessful": True, "exitCode": 0}]
    assert run["originalUriBaseIds"] == {"SRCROOT": {"uri": "file:///srv/repo/"}}


def test_one_finding_maps_every_field():
    doc = document(
        finding(
            cve="CVE-2024-0001",
            package_name="django",
            package_version="3.2.0",
            fixed_version="3.2.25",
        ),
        src_root=Path("/srv/repo"),
    )
    result = only_result(doc)
    assert result["ruleId"] == "B602"
    assert result["ruleIndex"] == 0
    assert result["level"] == "error"
    assert result["message"] == {"text": "subprocess call with shell=True"}
    assert result["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "app/views.py", "uriBaseId": "SRCROOT"},
                "region": {
                    "startLine": 15,
                    "endLine": 16,
                    "snippet": {"text": 'subprocess.call("ping " + host, shell=True)'},
                },
            }
        }
    ]
    assert result["partialFingerprints"] == {FINGERPRINT_KEY: "a" * 64}
    assert result["properties"]["severity"] == "high"
    assert result["properties"]["confidence"] == "high"
    assert result["properties"]["cwe"] == "CWE-78"
    assert result["properties"]["cve"] == "CVE-2024-0001"
    assert result["properties"]["package"] == {
        "name": "django",
        "version": "3.2.0",
        "fixedVersion": "3.2.25",
    }
    [rule] = doc["runs"][0]["tool"]["driver"]["rules"]
    assert rule["id"] == "B602"
    assert rule["shortDescription"] == {"text": "subprocess call with shell=True"}
    assert rule["helpUri"] == "https://bandit.readthedocs.io/en/latest/plugins/b602.html"
    assert rule["defaultConfiguration"] == {"level": "error"}
    assert rule["properties"]["tags"] == ["security", "CWE-78", "external/cwe/cwe-078"]
    assert rule["properties"]["security-severity"] == "8.0"


@pytest.mark.parametrize(
    ("severity", "level", "security_severity"),
    [
        (Severity.CRITICAL, "error", "9.5"),
        (Severity.HIGH, "error", "8.0"),
        (Severity.MEDIUM, "warning", "5.5"),
        (Severity.LOW, "note", "2.0"),
        (Severity.INFO, "note", None),
    ],
)
def test_levels_follow_the_severity(severity, level, security_severity):
    doc = document(finding(severity=severity))
    assert only_result(doc)["level"] == level
    assert only_result(doc)["properties"]["severity"] == str(severity)
    [rule] = doc["runs"][0]["tool"]["driver"]["rules"]
    assert rule["defaultConfiguration"]["level"] == level
    assert rule["properties"].get("security-severity") == security_severity


def test_many_findings_share_deduplicated_rules():
    findings = [
        finding(rule_id="B602", line_start=10, severity=Severity.MEDIUM, fingerprint="1" * 64),
        finding(
            rule_id="B105",
            title="hard-coded password",
            cwe=259,
            references=[],
            fingerprint="2" * 64,
        ),
        finding(rule_id="B602", line_start=30, severity=Severity.CRITICAL, fingerprint="3" * 64),
        finding(rule_id="B602", line_start=50, severity=Severity.LOW, fingerprint="4" * 64),
    ]
    doc = document(*findings)
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["B602", "B105"]
    assert [r["ruleId"] for r in run["results"]] == ["B602", "B105", "B602", "B602"]
    assert [r["ruleIndex"] for r in run["results"]] == [0, 1, 0, 0]
    assert [r["level"] for r in run["results"]] == ["warning", "error", "error", "note"]
    # A rule is as severe as its worst finding; without a reference it links the CWE.
    assert rules[0]["properties"]["security-severity"] == "9.5"
    assert rules[1]["helpUri"] == "https://cwe.mitre.org/data/definitions/259.html"
    assert [r["partialFingerprints"][FINGERPRINT_KEY][0] for r in run["results"]] == list("1234")
    assert run["properties"]["resultCount"] == 4


def test_several_runs_keep_their_own_rules():
    semgrep = SarifTool(slug="semgrep", name="Semgrep", version="1.185.0")
    doc = sarif_document(
        [
            SarifRun(tool=TOOL, findings=[finding()]),
            SarifRun(tool=semgrep, findings=[finding(rule_id="seculite.python.eval")] * 2),
        ]
    )
    assert_valid_sarif(doc)
    assert [run["tool"]["driver"]["name"] for run in doc["runs"]] == ["Bandit", "Semgrep"]
    assert [len(run["tool"]["driver"]["rules"]) for run in doc["runs"]] == [1, 1]
    assert doc["runs"][1]["results"][1]["ruleIndex"] == 0


# --- locations ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        ("app/views.py", "app/views.py"),
        ("./app/views.py", "app/views.py"),
        ("app\\windows\\style.py", "app/windows/style.py"),
        ("/srv/repo/app/abs.py", "app/abs.py"),
        ("docs/my file #1 100%.md", "docs/my%20file%20%231%20100%25.md"),
        ("src/ünïcode/数据.py", "src/%C3%BCn%C3%AFcode/%E6%95%B0%E6%8D%AE.py"),
        ("c:weird/name?.py", "c%3Aweird/name%3F.py"),
    ],
)
def test_paths_are_relative_posix_uris_under_srcroot(path, uri):
    doc = document(finding(file_path=path), src_root=Path("/srv/repo"))
    artifact = only_result(doc)["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": uri, "uriBaseId": "SRCROOT"}


def test_a_path_outside_the_root_is_an_absolute_file_uri():
    doc = document(finding(file_path="/etc/other place.conf"), src_root=Path("/srv/repo"))
    artifact = only_result(doc)["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "file:///etc/other%20place.conf"}


def test_web_and_package_findings():
    web = finding(
        file_path="",
        line_start=None,
        line_end=None,
        code_snippet="",
        url="https://app.example/search?q=<x> y",
        parameter="q",
    )
    package = finding(file_path="", line_start=None, url="", rule_id="", cve="CVE-2023-1")
    bare = finding(file_path="", line_start=None, url="", rule_id="", cve="", fingerprint="")
    doc = document(web, package, bare)
    web_result, package_result, bare_result = doc["runs"][0]["results"]
    artifact = web_result["locations"][0]["physicalLocation"]
    assert artifact == {"artifactLocation": {"uri": "https://app.example/search?q=%3Cx%3E%20y"}}
    assert web_result["properties"]["parameter"] == "q"
    assert "locations" not in package_result
    assert package_result["ruleId"] == "CVE-2023-1"
    assert bare_result["ruleId"] == "bandit"  # no rule and no CVE: the tool's slug
    assert "partialFingerprints" not in bare_result


def test_a_finding_without_line_has_no_region_and_end_before_start_is_dropped():
    doc = document(finding(line_start=None), finding(line_start=9, line_end=3))
    no_line, inverted = doc["runs"][0]["results"]
    assert "region" not in no_line["locations"][0]["physicalLocation"]
    assert inverted["locations"][0]["physicalLocation"]["region"]["startLine"] == 9
    assert "endLine" not in inverted["locations"][0]["physicalLocation"]["region"]


# --- escaping -------------------------------------------------------------------------------------


def test_characters_that_need_escaping_survive_a_round_trip():
    nasty = 'quote " backslash \\ newline \n tab \t nul \x00 esc \x1b </script> ☃ 🎉 \u2028'
    doc = document(
        finding(
            title=nasty,
            code_snippet=nasty,
            description=nasty,
            remediation=nasty,
            file_path='dir/"quoted"\\name.py',
            rule_id='rule"id\\x',
        )
    )
    result = only_result(doc)
    assert result["message"]["text"] == nasty
    assert result["locations"][0]["physicalLocation"]["region"]["snippet"]["text"] == nasty
    assert result["ruleId"] == 'rule"id\\x'
    rule = doc["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["fullDescription"]["text"] == nasty
    assert rule["help"]["text"] == nasty
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "dir/%22quoted%22/name.py"


def test_undecodable_text_becomes_replacement_characters_and_stays_utf8():
    broken = "file name \udcff from a latin-1 disk"
    text = "".join(iter_sarif([SarifRun(tool=TOOL, findings=[finding(title=broken)])]))
    text.encode("utf-8")  # would raise on a lone surrogate
    doc = json.loads(text)
    assert_valid_sarif(doc)
    assert "\ufffd" in only_result(doc)["message"]["text"]


# --- inputs: FindingData, ORM-like rows, dicts ----------------------------------------------------


def test_rows_and_dicts_with_the_same_fields_give_the_same_results():
    record = finding(fingerprint="f" * 64)
    as_dict = record.to_dict()  # severity and confidence as plain strings
    row = SimpleNamespace(**as_dict, tool_id="bandit", severity_rank=3)
    results = [only_result(document(item)) for item in (record, as_dict, row)]
    assert results[0] == results[1] == results[2]


def test_runs_by_tool_groups_consecutive_rows():
    rows = [
        {"tool_id": "bandit", **finding().to_dict()},
        {"tool_id": "bandit", **finding(rule_id="B105").to_dict()},
        {"tool_id": "semgrep", **finding(rule_id="seculite.python.eval").to_dict()},
    ]
    tools = {"bandit": TOOL, "semgrep": SarifTool(slug="semgrep", name="Semgrep")}
    doc = sarif_document(runs_by_tool(rows, tools.__getitem__, src_root="https://git.example/r"))
    assert_valid_sarif(doc)
    assert [run["tool"]["driver"]["name"] for run in doc["runs"]] == ["Bandit", "Semgrep"]
    assert [len(run["results"]) for run in doc["runs"]] == [2, 1]
    assert doc["runs"][1]["originalUriBaseIds"]["SRCROOT"]["uri"] == "https://git.example/r/"


# --- streaming ------------------------------------------------------------------------------------


def test_results_are_streamed_from_a_generator_read_once():
    consumed = []

    def produce(n):
        for i in range(n):
            consumed.append(i)
            yield finding(line_start=i + 1, fingerprint=f"{i:064x}")

    chunks = iter_sarif([SarifRun(tool=TOOL, findings=produce(3))])
    head = "".join(next(chunks) for _ in range(4))  # framing, run opening, first result
    assert '"ruleId":"B602"' in head
    assert consumed == [0]  # the first result is out before the second is read
    text = head + "".join(chunks)
    assert consumed == [0, 1, 2]
    assert len(json.loads(text)["runs"][0]["results"]) == 3


def test_write_sarif_writes_a_large_run_chunk_by_chunk():
    class CountingStream(io.StringIO):
        writes = 0

        def write(self, text):
            self.writes += 1
            return super().write(text)

    n = 5000
    findings = (finding(rule_id=f"R{i % 7}", line_start=i + 1) for i in range(n))
    stream = CountingStream()
    write_sarif([SarifRun(tool=TOOL, findings=findings)], stream)
    doc = json.loads(stream.getvalue())
    assert len(doc["runs"][0]["results"]) == n
    assert len(doc["runs"][0]["tool"]["driver"]["rules"]) == 7
    assert stream.writes > n  # one write per result, not one big string


# --- invocations ----------------------------------------------------------------------------------


def test_a_failed_run_reports_its_error_and_times():
    started = datetime(2025, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)
    finished = datetime(2025, 3, 1, 12, 0, 5, tzinfo=UTC)
    doc = document(
        tool=SarifTool(slug="semgrep", name="Semgrep", version="v1.0-beta"),
        execution_successful=False,
        exit_code=-9,
        error="semgrep exceeded its time limit",
        started_at=started,
        finished_at=finished,
    )
    [invocation] = doc["runs"][0]["invocations"]
    assert invocation == {
        "executionSuccessful": False,
        "exitCode": -9,
        "startTimeUtc": "2025-03-01T12:00:00.250Z",
        "endTimeUtc": "2025-03-01T12:00:05.000Z",
        "toolExecutionNotifications": [
            {"level": "error", "message": {"text": "semgrep exceeded its time limit"}}
        ],
    }
    assert "semanticVersion" not in doc["runs"][0]["tool"]["driver"]


def test_tool_from_plugin_uses_the_known_home_page():
    plugin = SimpleNamespace(slug="semgrep", label="Semgrep")
    tool = SarifTool.from_plugin(plugin, "1.185.0")
    assert tool == SarifTool("semgrep", "Semgrep", "1.185.0", "https://semgrep.dev/")


# --- the format checkers used by the schema validation --------------------------------------------


def test_format_checkers_reject_what_the_schema_forbids():
    assert is_uri("file:///srv/repo/") and is_uri("https://x.example/a?b=c#d")
    assert not is_uri("app/views.py") and not is_uri("https://x.example/a b")
    assert is_uri_reference("app/my%20file.py") and is_uri_reference("")
    assert not is_uri_reference("app/my file.py")
    assert not is_uri_reference("app/100%.py")
    assert not is_uri_reference("a#b#c")
    assert not is_uri_reference("1bad:scheme")
    assert is_date_time("2025-03-01T12:00:00.250Z")
    assert not is_date_time("2025-03-01 12:00:00")
    assert not is_date_time("2025-13-01T12:00:00Z")
