"""Gitleaks' parser on real gitleaks v8 JSON reports (sources in fixtures/README.md)."""

import io
import json

import pytest

from apps.tools.plugins.base import REDACTED, ParseError, Severity, hash_secret
from apps.tools.plugins.registry import registry
from apps.tools.tests.helpers import by_rule, fixture, parse_fixture

PLUGIN = registry.get("gitleaks")
SECRETS = [
    "a secret",
    "secretAWSsecret",
    "-----BEGIN RSA PRIVATE KEY-----",
    "dfjksdjfs3294dfjlsdaf213",
]


def dump(findings) -> str:
    return json.dumps([f.to_dict() for f in findings])


def test_zero_findings():
    assert parse_fixture(PLUGIN, fixture(__file__, "gitleaks-zero.json")) == []


def test_one_finding_fields():
    [finding] = parse_fixture(PLUGIN, fixture(__file__, "gitleaks-one.json"))
    assert finding.rule_id == "test-rule"
    assert finding.severity == Severity.HIGH
    assert finding.cwe == 798
    assert finding.file_path == "auth.py"
    assert (finding.line_start, finding.line_end) == (1, 2)
    assert finding.title == "test-rule in auth.py"
    assert finding.code_snippet == "line containing secret"
    assert finding.secret_hash == hash_secret("a secret")
    assert finding.extra["commit"] == "0000000000000000"
    assert finding.extra["message"] == "opps"
    assert (finding.extra["start_column"], finding.extra["end_column"]) == (1, 2)
    assert "a secret" not in dump([finding])
    assert "johndoe@gmail.com" not in dump([finding])  # the committer's e-mail is not kept


def test_many_findings_hash_and_redact_every_secret():
    findings = parse_fixture(PLUGIN, fixture(__file__, "gitleaks-many.json"))
    rules = by_rule(findings)
    assert len(findings) == 4
    aws = rules["aws-access-token"]
    assert [f.file_path for f in aws] == ["conf/aws.tf", "conf/aws.tf"]  # leading "/" dropped
    assert aws[0].title == "AWS in conf/aws.tf"
    assert aws[0].code_snippet == REDACTED
    assert aws[0].secret_hash == hash_secret("secretAWSsecret")
    generic = rules["generic-api-key"][0]
    assert generic.code_snippet == f'apikey = "{REDACTED}"'
    assert generic.line_start == 21 and generic.extra["entropy"] == pytest.approx(4.132944)
    assert rules["RSA-PK"][0].extra["tags"] == ["tag1", "tag2"]
    text = dump(findings)
    for secret in SECRETS:
        assert secret not in text
    # Same secret, same file, same rule in two commits: one fingerprint, told apart by index.
    assert len({f.fingerprint for f in findings}) == 4
    assert all(f.severity == Severity.HIGH and f.cwe == 798 for f in findings)


def test_fingerprint_ignores_line_moves_but_not_the_secret():
    report = json.loads(fixture(__file__, "gitleaks-one.json").read_text())
    first = PLUGIN.fingerprint(list(PLUGIN.parse(io.BytesIO(json.dumps(report).encode()))))
    report[0]["StartLine"] = report[0]["EndLine"] = 40
    moved = PLUGIN.fingerprint(list(PLUGIN.parse(io.BytesIO(json.dumps(report).encode()))))
    assert moved[0].fingerprint == first[0].fingerprint
    report[0]["Secret"] = "another secret"
    other = PLUGIN.fingerprint(list(PLUGIN.parse(io.BytesIO(json.dumps(report).encode()))))
    assert other[0].fingerprint != first[0].fingerprint


def test_secret_cut_by_the_length_limit_is_still_redacted():
    secret = "S" * 50
    report = [{"RuleID": "r", "Secret": secret, "Match": "x" * 1980 + secret, "File": "a.py"}]
    [finding] = PLUGIN.parse(io.BytesIO(json.dumps(report).encode()))
    assert "SSSS" not in finding.code_snippet


def test_report_redacted_by_gitleaks_has_no_hash():
    report = [{"RuleID": "jwt", "Secret": "REDACTED", "Match": "token=REDACTED", "File": "a"}]
    [finding] = PLUGIN.parse(io.BytesIO(json.dumps(report).encode()))
    assert finding.secret_hash == ""
    assert finding.code_snippet == "token=REDACTED"


@pytest.mark.parametrize(
    "payload",
    [b"", b"null", b"{}", b'{"findings": []}', b"[1]", b'[{"Secret": "x"}]', b"[{"],
)
def test_malformed_reports_raise_parse_error(payload):
    with pytest.raises(ParseError):
        list(PLUGIN.parse(io.BytesIO(payload)))


def test_oversized_report_is_refused():
    from apps.tools.plugins.gitleaks.parser import parse_report

    data = fixture(__file__, "gitleaks-many.json").read_bytes()
    with pytest.raises(ParseError, match="larger than"):
        list(parse_report(io.BytesIO(data), max_bytes=100))


@pytest.mark.parametrize("secret,text", [(123456789012345, "123456789012345"), (12.5, "12.5")])
def test_a_number_secret_is_redacted_and_hashed_as_its_text(secret, text):
    item = {
        "RuleID": "generic-api-key",
        "Secret": secret,
        "Match": f"key={text}",
        "Line": f"key={text}",
        "Message": f"add {text}",
        "File": "a.py",
    }
    [number] = PLUGIN.fingerprint(list(PLUGIN.parse(io.BytesIO(json.dumps([item]).encode()))))
    item["Secret"] = text
    [string] = PLUGIN.fingerprint(list(PLUGIN.parse(io.BytesIO(json.dumps([item]).encode()))))
    assert number.code_snippet == f"key={REDACTED}"
    assert text not in dump([number])
    assert number.secret_hash == string.secret_hash == hash_secret(text)
    assert number.fingerprint == string.fingerprint


@pytest.mark.parametrize("secret", [None, True, ["x"], {"x": 1}])
def test_a_secret_that_is_no_text_or_number_is_unknown(secret):
    item = {"RuleID": "r", "Secret": secret, "Match": "key=x", "File": "a.py"}
    [finding] = PLUGIN.parse(io.BytesIO(json.dumps([item]).encode()))
    assert finding.secret_hash == "" and finding.code_snippet == "key=x"
