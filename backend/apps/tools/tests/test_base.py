"""Which files of a scanned tree a scanner may open: never a symlink, never an oversized file;
and how a report's path becomes a path relative to the scanned tree."""

import itertools
from pathlib import PurePosixPath

import pytest

from apps.tools.plugins.base import files_matching, relative_path, unsafe_files


def test_unsafe_files_are_symlinks_and_oversized_files(tmp_path, settings):
    settings.SECULITE_SCAN_MAX_FILE_MB = 1
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("x = 1\n")
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / ".git").mkdir()
    (ws / ".git" / "big-pack").write_bytes(b"x" * (2 << 20))
    (ws / "src" / "ok.py").write_text("x = 1\n")
    (ws / "src" / "leak.py").symlink_to(outside / "secret.py")
    (ws / "shadow").symlink_to("/etc/shadow")
    (ws / "out").symlink_to(outside)
    (ws / "a\nb.py").symlink_to(outside / "secret.py")
    with (ws / "src" / "huge.py").open("wb") as handle:
        handle.truncate(10 << 30)  # sparse: 10 GB of nothing
    assert sorted(unsafe_files(ws)) == ["a\nb.py", "out", "shadow", "src/huge.py", "src/leak.py"]
    assert unsafe_files(ws, max_bytes=20 << 30) == ["out", "a\nb.py", "shadow", "src/leak.py"]


def test_files_matching_leaves_out_symlinks_and_oversized_files(tmp_path, settings):
    settings.SECULITE_SCAN_MAX_FILE_MB = 1
    (tmp_path / "ok.sh").write_text("echo hi\n")
    (tmp_path / "leak.sh").symlink_to("/etc/shadow")
    with (tmp_path / "huge.sh").open("wb") as handle:
        handle.truncate(2 << 20)
    assert files_matching(tmp_path, lambda p: p.suffix == ".sh", limit=10) == ["ok.sh"]


def _reference_relative_path(path: str) -> str:
    """relative_path's rule as it was first written, on PurePosixPath (fingerprints hash it)."""
    parts = [p for p in PurePosixPath(path).parts if p not in ("/", ".", "")]
    return "/".join(p for p in parts if p != "..")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("./pkg/a.py", "pkg/a.py"),
        ("/abs/a.py", "abs/a.py"),
        ("a//b/./c/../d/", "a/b/c/d"),
        ("..\\..\\win\\a.py", "win/a.py"),
        ("///x", "x"),
        # Two leading slashes stay a root, as PurePosixPath has it: fingerprints hash the path.
        ("//x/y", "///x/y"),
        (".", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_relative_path_keeps_only_the_names(raw, expected):
    assert relative_path(raw, None) == expected


def test_relative_path_agrees_with_its_pathlib_rule():
    pieces = ["", "/", "//", ".", "..", "a", "b.py", "\\", ". ", "...", "é"]
    for path in map("".join, itertools.product(pieces, repeat=4)):
        expected = _reference_relative_path(path.replace("\\", "/")) if path else ""
        assert relative_path(path, None) == expected, path


def test_relative_path_removes_the_workspace(tmp_path):
    assert relative_path(f"{tmp_path}/src/a.py", tmp_path) == "src/a.py"
    assert relative_path(f"{tmp_path}\\src\\a.py", tmp_path) == "src/a.py"
    assert relative_path("/elsewhere/../a.py", tmp_path) == "elsewhere/a.py"
