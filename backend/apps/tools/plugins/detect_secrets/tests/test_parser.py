"""detect-secrets' parser on real detect-secrets 1.5.0 reports: secrets never kept."""

import hashlib
import io
import json

import pytest

from apps.tools.plugins.base import Confidence, ParseError, Severity, hash_secret
from apps.tools.plugins.detect_secrets.parser import find_secret
from apps.tools.plugins.registry import registry
from apps.tools.tests.capture_fixtures import FILES
from apps.tools.tests.helpers import SAMPLE_APP, by_rule, fixture, parse_fixture

PLUGIN = registry.get("detect-secrets")
PLANTED = ["AKIAIOSFODNN7EXAMPLE", "Sup3rS3cretPassw0rd!"]


def test_zero_findings():
    assert parse_fixture(PLUGIN, fixture(__file__, "detect-secrets-zero.json")) == []


def test_one_finding_fields(tmp_path):
    for name, text in FILES["detect-secrets"]["one"].items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    [finding] = parse_fixture(
        PLUGIN, fixture(__file__, "detect-secrets-one.json"), workspace=tmp_path
    )
    assert finding.rule_id == "Private Key"
    assert (finding.severity, finding.confidence) == (Severity.HIGH, Confidence.HIGH)
    assert finding.file_path == "deploy/id_rsa"
    assert finding.line_start == 1
    assert finding.cwe == 798
    assert finding.secret_hash == hash_secret("BEGIN OPENSSH PRIVATE KEY")
    assert finding.code_snippet == "-----***REDACTED***-----"
    assert finding.extra["secret_located"] is True


def test_many_findings_hash_and_redact_the_secrets():
    findings = parse_fixture(
        PLUGIN, fixture(__file__, "detect-secrets-many.json"), workspace=SAMPLE_APP
    )
    rules = by_rule(findings)
    aws = rules["AWS Access Key"][0]
    assert (aws.file_path, aws.line_start, aws.severity) == ("app/settings.py", 6, Severity.HIGH)
    assert aws.secret_hash == hashlib.sha256(b"AKIAIOSFODNN7EXAMPLE").hexdigest()
    assert aws.code_snippet == 'AWS_ACCESS_KEY_ID = "***REDACTED***"'
    keyword = rules["Secret Keyword"]
    assert {f.file_path for f in keyword} == {"app/settings.py", "docker-compose.yml"}
    assert all(f.confidence == Confidence.LOW for f in keyword)
    # The same password in two files: same secret hash, different fingerprints.
    assert len({f.secret_hash for f in keyword}) == 1
    assert len({f.fingerprint for f in keyword}) == 2
    assert rules["Private Key"][0].file_path == "config/deploy_key.pem"
    dumped = json.dumps([f.to_dict() for f in findings])
    for secret in PLANTED:
        assert secret not in dumped


def test_without_the_file_no_snippet_and_a_derived_hash():
    findings = parse_fixture(PLUGIN, fixture(__file__, "detect-secrets-many.json"))
    assert all(f.code_snippet == "" and len(f.secret_hash) == 64 for f in findings)
    assert all(f.extra["secret_located"] is False for f in findings)


def test_find_secret():
    line = 'token = "abc123XYZ" # note'
    assert (
        find_secret(line, hashlib.sha1(b"abc123XYZ", usedforsecurity=False).hexdigest())
        == "abc123XYZ"
    )
    assert find_secret(line, "0" * 40) == ""


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"{",
        b"[]",
        b'{"version": "1.5.0"}',
        b'{"results": []}',
        b'{"results": {"a.py": {}}}',
        b'{"results": {"a.py": [{"type": "Secret Keyword", "line_number": 1}]}}',
    ],
)
def test_malformed_reports_raise_parse_error(payload):
    with pytest.raises(ParseError):
        list(PLUGIN.parse(io.BytesIO(payload)))


def test_truncated_real_report_raises_parse_error():
    data = fixture(__file__, "detect-secrets-many.json").read_bytes()
    with pytest.raises(ParseError):
        list(PLUGIN.parse(io.BytesIO(data[:300])))
