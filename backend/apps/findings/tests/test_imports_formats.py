"""Import formats without the API: the streaming JSON reader on hostile input, format
detection of every plugin's real fixtures, SARIF mapping, and fingerprints that match a scan's."""

import io
import json
import re
import tracemalloc
from pathlib import Path

import pytest

from apps.findings.formats import Fingerprinter, open_report, resolve_format
from apps.findings.formats.detect import detect
from apps.findings.formats.jsonstream import JsonReader
from apps.findings.formats.sarif import tool_id_for
from apps.tools.plugins.base import FindingData, ParseError, assign_fingerprints
from apps.tools.plugins.registry import registry

from .import_helpers import CORPUS, PLUGINS


def results_of(data: bytes, **kwargs) -> list:
    reader = JsonReader(io.BytesIO(data), **kwargs)
    out = []
    for key in reader.iter_object():
        if key == "results":
            out += [reader.read_value() for _ in reader.iter_array()]
    reader.finish()
    return out


def test_values_left_unread_are_skipped_whatever_the_whitespace():
    data = b'{"a" :  \n [1, {"b": [2]}],  "c":\t"x", "results" : [ {"k": 1} , 2 ] }'
    reader = JsonReader(io.BytesIO(data))
    seen = []
    for key in reader.iter_object():
        seen.append((key, reader.kind()))  # looking at a value does not consume it
        if key == "results":
            assert [reader.read_value() for _ in reader.iter_array()] == [{"k": 1}, 2]
    reader.finish()
    assert seen == [("a", "array"), ("c", "string"), ("results", "array")]


def test_the_reader_yields_elements_across_chunk_boundaries(monkeypatch):
    from apps.findings.formats import jsonstream

    monkeypatch.setattr(jsonstream, "CHUNK_CHARS", 5)
    items = [{"a": i, "text": "x" * (i % 13), "nested": [[1.5], {"k": None}]} for i in range(200)]
    data = json.dumps({"meta": {"deep": [1, [2, [3]]]}, "results": items}, indent=1).encode()
    assert results_of(b"\xef\xbb\xbf" + data) == items


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"results":[{"a":NaN}]}', "NaN is not valid JSON"),
        (b'{"results":[{"a":-Infinity}]}', "-Infinity is not valid JSON"),
        (b'{"results":[{"a":1e999}]}', "out of range"),
        (b'{"results":[{"a":' + b"9" * 5000 + b"}]}", "4300 digits"),
        (b'{"results":[{"a":"\xff"}]}', "not valid UTF-8"),
        (b'{"results":[' + b"[" * 100_000 + b"]" * 100_000 + b"]}", "nested too deeply"),
        (b'{"x":' + b"[" * 65 + b"]" * 65 + b',"results":[]}', "more than 64 levels"),
        (b'{"results":[{"a":1}', "found the end of the report"),
        (b'{"results":[]} {"results":[]}', "unexpected data after the end"),
        (b'{"results":[1,]}', "not valid JSON"),
        (b"", "expected an object"),
    ],
)
def test_the_reader_refuses_hostile_input_with_a_parse_error(data, message):
    with pytest.raises(ParseError, match=message):
        results_of(data)


def test_the_reader_needs_memory_for_one_element_not_the_report(tmp_path):
    item = {"filename": "./pkg/mod.py", "code": "x = 1\n" * 20, "issue_text": "y" * 300}
    path = tmp_path / "big.json"
    with path.open("w") as out:
        out.write('{"results": [')
        out.write(",".join(json.dumps({**item, "n": i}) for i in range(40_000)))
        out.write("]}")
    assert path.stat().st_size > 20_000_000
    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            reader = JsonReader(stream)
            count = 0
            for _key in reader.iter_object():
                for _ in reader.iter_array():
                    reader.read_value()
                    count += 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 40_000
    assert peak < 8_000_000, f"peak {peak} bytes for a {path.stat().st_size}-byte report"


@pytest.mark.parametrize("size", [3_000_001, 4_200_000, 6_500_000])
def test_a_value_over_the_limit_is_refused_whatever_its_size(size):
    """The limit holds exactly: a value between one and two times the limit used to slip
    through the buffer's doubling (a 70 MB message passed a 64M-character limit)."""
    data = b'{"results": [{"text": "' + b"v" * size + b'"}]}'
    with pytest.raises(ParseError, match="larger than 3000000 characters"):
        results_of(data, max_value_chars=3_000_000)
    assert results_of(data, max_value_chars=size + 20)[0]["text"] == "v" * size


def native_fixtures():
    for plugin in registry.all():
        folder = PLUGINS / plugin.slug.replace("-", "_") / "tests" / "fixtures"
        if not folder.is_dir():
            folder = PLUGINS / plugin.slug.split("-")[0] / "tests" / "fixtures"
        for path in sorted(folder.glob("*")):
            if path.suffix in (".json", ".xml"):
                yield pytest.param(plugin.slug, path, id=f"{plugin.slug}-{path.name}")


@pytest.mark.parametrize(("slug", "path"), list(native_fixtures()))
def test_every_plugin_fixture_is_detected_as_its_plugin(slug, path):
    head = path.read_bytes()[: 64 * 1024]
    detected = detect(head, set(registry.slugs()))
    if head.strip() == b"[]":
        assert detected is None  # an empty list could be any list format: name it
    elif slug.startswith("trivy-"):
        assert detected is not None and detected.startswith("trivy-")
    else:
        assert detected == slug


@pytest.mark.parametrize(
    ("name", "tool"),
    [
        ("semgrep.sarif", "sarif:semgrep-oss"),
        ("hadolint.sarif", "sarif:hadolint"),
        ("checkov.sarif", "sarif:checkov"),
        ("eslint.sarif", "sarif:eslint"),
    ],
)
def test_real_sarif_logs_are_detected_and_named_by_their_driver(name, tool):
    path = CORPUS / "good" / name
    assert resolve_format(path) == "sarif"
    reader = open_report(path, "sarif")
    assert [t.tool_id for t in reader.prepare()] == [tool]


def test_tool_ids_of_sarif_drivers():
    assert tool_id_for("CodeQL") == "sarif:codeql"
    assert tool_id_for("Semgrep OSS") == "sarif:semgrep-oss"
    assert tool_id_for("  Trivy  ") == "sarif:trivy"
    assert tool_id_for("???") == "sarif:unknown"
    assert len(tool_id_for("x" * 300)) <= 50
    # Names outside ASCII keep apart: the slug alone made all of these "unknown" or "t".
    names = ["中文扫描", "日本語", "été", "T", "Été", "x" * 300 + "é"]
    ids = [tool_id_for(name) for name in names]
    assert len(set(ids)) == len(ids)
    assert ids[2].startswith("sarif:t-") and ids[3] == "sarif:t"
    assert all(len(i) <= 50 and i == tool_id_for(n) for i, n in zip(ids, names, strict=True))


def prepared(tmp_path, log: bytes | dict):
    path = tmp_path / "log.sarif"
    path.write_bytes(log if isinstance(log, bytes) else json.dumps(log).encode())
    reader = open_report(path, "sarif")
    return reader, reader.prepare()


@pytest.mark.parametrize(
    ("log", "message"),
    [
        (
            b'{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"A"}},"results":[]}],'
            b'"runs":[{"tool":{"driver":{"name":"B"}},"results":[]}]}',
            "the SARIF log has the key 'runs' twice",
        ),
        (
            b'{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"A"}},'
            b'"results":[{"ruleId":"x","message":{"text":"m"}}],"results":[]}]}',
            "runs[0] has the key 'results' twice",
        ),
    ],
)
def test_a_sarif_log_with_a_repeated_key_is_refused(tmp_path, log, message):
    """JSON readers disagree on which of two values wins: read one way here, another way by
    the tool that wrote it, the log would give findings to the wrong tool or resolve them."""
    with pytest.raises(ParseError, match=re.escape(message)):
        prepared(tmp_path, log)


@pytest.mark.parametrize("results", ["null", "absent"])
def test_a_sarif_run_without_results_is_a_failed_run_not_a_clean_one(tmp_path, results):
    """SARIF 3.14.23: null (or absent) results mean the tool produced none; [] means it found
    nothing. Taken for a clean run, the log would auto-resolve all the tool's findings."""
    run = {"tool": {"driver": {"name": "Tool"}}} | ({"results": None} if results == "null" else {})
    clean = {"tool": {"driver": {"name": "Clean"}}, "results": []}
    reader, tools = prepared(tmp_path, {"version": "2.1.0", "runs": [run, clean]})
    assert [(t.tool_id, bool(t.failure)) for t in tools] == [
        ("sarif:tool", True),
        ("sarif:clean", False),
    ]
    assert "no results" in tools[0].failure
    assert list(reader.records()) == []


def test_odd_sarif_values_are_unknown_not_fatal(tmp_path):
    """One odd value in one result leaves that value unknown; it does not fail the report."""
    results = [
        {"ruleId": "a", "ruleIndex": "²", "message": {"text": "m"}, "locations": location("a", 1)},
        {"ruleId": "b", "ruleIndex": "9" * 5000, "message": {"text": "m"}},
        {"ruleId": "c", "message": {"text": "m"}, "locations": location("c.py", "³")},
        {"ruleId": "d", "message": {"text": "m"}, "properties": {"cwe": "CWE-" + "9" * 5000}},
        {
            "ruleId": "e",
            "message": {"text": "{0} and {" + "9" * 5000 + "}", "arguments": ["a"]},
            "taxa": [{"id": "9" * 5000, "toolComponent": {"name": "CWE"}}],
        },
        {"ruleId": "f", "message": {"text": "m"}, "locations": location("file://[bad/x.py", 2)},
    ]
    log = sarif_log(results, originalUriBaseIds={"SRC": {"uri": "file://[oops/"}})
    log["runs"][0]["tool"]["driver"]["version"] = "1.0\x00beta\ud800"  # escaped by dumps
    path = tmp_path / "log.sarif"
    path.write_text(json.dumps(log))
    reader = open_report(path, "sarif")
    [tool] = reader.prepare()
    assert tool.version == "1.0beta?"  # storable: no NUL, no lone surrogate
    found = {r.rule_id: r for _, r in reader.records()}
    assert sorted(found) == ["a", "b", "c", "d", "e", "f"]
    assert found["a"].file_path == "a" and found["c"].line_start is None
    assert found["d"].cwe is None and found["e"].cwe is None
    assert found["e"].title.startswith("a and {999")
    assert found["f"].file_path.endswith("x.py") and found["f"].line_start == 2


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_whole_document_readers_refuse_nan_and_infinity(constant):
    from apps.tools.plugins.base import load_json

    with pytest.raises(ParseError, match="is not a JSON value"):
        load_json(io.BytesIO(b'{"results": [{"line": ' + constant + b"}]}"), 1000)


def sarif_log(results, rules=(), **run):
    return {
        "version": "2.1.0",
        "runs": [
            {"results": results, "tool": {"driver": {"name": "CodeQL", "rules": list(rules)}}} | run
        ],
    }


def read(tmp_path, log) -> list[FindingData]:
    path = tmp_path / "log.sarif"
    path.write_text(json.dumps(log))
    reader = open_report(path, "sarif")
    reader.prepare()
    return [record for _, record in reader.records()]


def location(uri, line, snippet=None, base=None):
    region = {"startLine": line}
    if snippet is not None:
        region["snippet"] = {"text": snippet}
    artifact = {"uri": uri} | ({"uriBaseId": base} if base else {})
    return [{"physicalLocation": {"artifactLocation": artifact, "region": region}}]


def test_sarif_severity_cwe_and_location_mapping(tmp_path):
    rules = [
        {
            "id": "py/path-injection",
            "shortDescription": {"text": "Uncontrolled data used in path expression"},
            "help": {"text": "Validate the path."},
            "helpUri": "https://codeql.github.com/x",
            "properties": {
                "security-severity": "7.5",
                "precision": "high",
                "tags": ["security", "external/cwe/cwe-022", "external/cwe/cwe-073"],
            },
        },
        {"id": "py/unused", "defaultConfiguration": {"level": "note"}},
        {
            "id": "CVE-2024-1234",
            "properties": {"security-severity": "9.8"},
            "relationships": [{"target": {"id": "502", "toolComponent": {"name": "CWE"}}}],
        },
    ]
    results = [
        {
            "ruleId": "py/path-injection",
            "ruleIndex": 0,
            "message": {"text": "This path depends on a [user-provided value](1)."},
            "locations": location("file:///src/app/files.py", 12, "open(name)", "SRCROOT"),
            "partialFingerprints": {"primaryLocationLineHash": "abc:1"},
        },
        {"ruleId": "py/unused", "message": {"text": "Unused import"}, "locations": []},
        {
            "rule": {"id": "CVE-2024-1234", "index": 2},
            "message": {"text": "Package: pyyaml\nInstalled Version: 5.3\nFixed Version: 5.4\nbad"},
            "locations": location("requirements.txt", 3),
        },
        {"ruleId": "py/unused", "kind": "pass", "message": {"text": "fine"}},
        {"ruleId": "py/unused", "message": {"text": "x"}, "suppressions": [{"kind": "inSource"}]},
        {"ruleId": "py/unused", "message": {"text": "y"}, "baselineState": "absent"},
    ]
    log = sarif_log(results, rules, originalUriBaseIds={"SRCROOT": {"uri": "file:///src/"}})
    path_injection, unused, cve = read(tmp_path, log)
    assert path_injection.severity == "high"
    assert path_injection.cwe == 22
    assert path_injection.confidence == "high"
    assert path_injection.file_path == "app/files.py"
    assert (path_injection.line_start, path_injection.line_end) == (12, 12)
    assert path_injection.code_snippet == "open(name)"
    assert path_injection.title == "This path depends on a [user-provided value](1)."
    assert path_injection.remediation == "Validate the path."
    assert path_injection.references == ["https://codeql.github.com/x"]
    assert "fingerprint_basis" not in path_injection.extra
    assert unused.severity == "low" and unused.file_path == ""
    assert cve.severity == "critical" and cve.cwe == 502 and cve.cve == "CVE-2024-1234"
    assert (cve.package_name, cve.package_version, cve.fixed_version) == ("pyyaml", "5.3", "5.4")


def test_sarif_fingerprints_ignore_line_numbers(tmp_path):
    def one(line, snippet="eval(x)"):
        return {
            "ruleId": "js/eval",
            "message": {"text": "eval"},
            "locations": location("a.js", line, snippet),
        }

    before = read(tmp_path, sarif_log([one(10), one(30), one(50, "eval(y)")]))
    after = read(tmp_path, sarif_log([one(12), one(33), one(58, "eval(y)")]))
    assert [f.fingerprint for f in before] == [f.fingerprint for f in after]
    assert len({f.fingerprint for f in before}) == 3


def test_fingerprinter_matches_the_scan_engine(tmp_path):
    plugin = registry.get("bandit")
    path = PLUGINS / "bandit" / "tests" / "fixtures" / "bandit-many.json"
    expected = plugin.parse_file(path)
    assign_fingerprints("bandit", expected, plugin.fingerprint_fields)
    reader = open_report(path, "bandit")
    reader.prepare()
    assert [r.fingerprint for _, r in reader.records()] == [f.fingerprint for f in expected]
    records = [FindingData(title="same", severity="low", rule_id="R") for _ in range(3)]
    prints = Fingerprinter()
    for record in records:
        prints.assign(record, ("rule_id", "title"), "salt")
    twins = [FindingData(title="same", severity="low", rule_id="R") for _ in range(3)]
    assign_fingerprints("salt", twins, ("rule_id", "title"))
    assert [r.fingerprint for r in records] == [t.fingerprint for t in twins]


def test_a_given_format_that_the_content_contradicts_is_refused():
    path = CORPUS / "good" / "hadolint.sarif"
    with pytest.raises(ParseError, match="is a sarif report, not bandit"):
        resolve_format(path, "bandit")
    assert resolve_format(path, "sarif") == "sarif"


def test_an_empty_list_needs_a_format(tmp_path):
    path = Path(tmp_path) / "empty.json"
    path.write_bytes(b"[]")
    with pytest.raises(ParseError, match="name it with the `format` field"):
        resolve_format(path)
    assert resolve_format(path, "hadolint") == "hadolint"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"version": "2.1.0", "x": NaN, "runs": []}', "not valid JSON: unexpected 'N'"),
        (b'{"SchemaVersion": 2, "x": ' + b"[" * 100_000, "the report is not valid JSON: "),
        (b'{"a": 1, "b": }', "the report is not valid JSON: "),
    ],
)
def test_bad_json_before_the_keys_that_tell_the_format_says_so(tmp_path, data, message):
    """Not "format not recognised": the reason is the JSON itself."""
    path = tmp_path / "report.json"
    path.write_bytes(data)
    with pytest.raises(ParseError, match=re.escape(message)):
        resolve_format(path)


def test_a_head_cut_inside_a_long_document_is_not_an_error(tmp_path):
    from apps.findings.formats.detect import HEAD_BYTES

    path = tmp_path / "report.json"
    path.write_bytes(b'{"whatever": "' + b"x" * HEAD_BYTES + b'"}')
    with pytest.raises(ParseError, match="format was not recognised"):
        resolve_format(path)


def _read_both_ways(data: bytes, **kwargs) -> tuple:
    """(values or error text) of the "results" array read by iter_values() and by
    iter_array() + read_value()."""
    outcomes = []
    for fast in (True, False):
        reader = JsonReader(io.BytesIO(data), **kwargs)
        values: list = []
        try:
            for key in reader.iter_object():
                if key != "results":
                    continue
                if fast:
                    for value in reader.iter_values():
                        values.append(value)
                else:
                    for _ in reader.iter_array():
                        values.append(reader.read_value())
            reader.finish()
            outcomes.append(values)
        except ParseError as exc:
            outcomes.append(f"{len(values)} then {exc}")
    return tuple(outcomes)


ITER_VALUES_CASES = [
    b'{"results": []}',
    b'{"results": [1, "two", null, true, {"a": [1, 2, {"b": "c"}]}, [[]], -1.5e3]}',
    b'{"results" : [ {"k": "x,y]"} ,\n {"k": "\\u00e9\\"]"} ] , "after": 1}',
    b'{"results": [1, 2,]}',
    b'{"results": [1 2]}',
    b'{"results": [1, NaN]}',
    b'{"results": [1, {"a": 1e999}]}',
    b'{"results": [1, "\xff"]}',
    b'{"results": [1, {"a": "unterminated]}',
    b'{"results": [1, ' + b"[" * 5000 + b"]" * 5000 + b"]}",
    b'{"results": [1, {"a": "' + b"x" * 300 + b'"}, 3]}',
    b'{"results": [1, 2]} trailing',
]


@pytest.mark.parametrize("chunk", [3, 7, 64, 1 << 20])
@pytest.mark.parametrize("data", ITER_VALUES_CASES)
def test_iter_values_reads_what_read_value_reads(monkeypatch, chunk, data):
    """The Bandit path's fast reader: the same values, and the same error after the same
    number of values, whatever the chunk size cuts; an element over max_value_chars is
    refused by both."""
    from apps.findings.formats import jsonstream

    monkeypatch.setattr(jsonstream, "CHUNK_CHARS", chunk)
    fast, general = _read_both_ways(data, max_value_chars=200)
    assert fast == general
