"""Installed packages read without importlib.metadata: "no package can declare an ``assay.…`` group" only
where importlib.metadata, reading the same folders, finds none, and a version only where it reads the same
one — and "maybe" (importlib.metadata asked) for anything not read the same way."""

from __future__ import annotations

import sys
import zipfile
from importlib.metadata import distributions
from pathlib import Path

import pytest

from assay.env.installed import UNDECIDED, installed_version, installed_versions, may_declare_group


def dist(site: Path, name: str, entry_points: str | bytes | None) -> None:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    if isinstance(entry_points, str):
        (info / "entry_points.txt").write_text(entry_points)
    elif entry_points is not None:
        (info / "entry_points.txt").write_bytes(entry_points)


def importlib_groups(site: Path) -> set[str]:
    return {ep.group for d in distributions(path=[str(site)]) for ep in d.entry_points}


SITES: dict[str, tuple[list[tuple[str, str | None]], bool]] = {
    "assay's own console script only": ([("assay", "[console_scripts]\nassay = assay.cli:main\n")], False),
    "no entry points file": ([("plain", None)], False),
    "other groups": ([("a", "[pytest11]\nx = assay.y\n"), ("b", "[gui_scripts]\nassay.tasks = m:f\n")], False),
    "a task plugin": ([("p", "[assay.tasks]\nmine = p\n")], True),
    # importlib.metadata reads this group as " assay.providers ": read here as a maybe, which is never wrong
    "spaced header": ([("p", "  [ assay.providers ]\necho = p:Echo\n")], True),
    "mixed": ([("a", "[console_scripts]\na = a:main\n"),
               ("p", "[console_scripts]\nx = p:m\n[assay.metrics]\nm = p:m\n")], True),
}


@pytest.mark.parametrize("case", SITES, ids=list(SITES))
def test_no_is_said_only_where_importlib_metadata_finds_none(tmp_path: Path, case: str) -> None:
    packages, expected = SITES[case]
    for name, text in packages:
        dist(tmp_path, name, text)
    found = any(group.startswith("assay.") for group in importlib_groups(tmp_path))
    said = may_declare_group("assay.", [str(tmp_path)])
    assert said is expected
    assert said or not found


def test_a_folder_that_is_not_there_is_skipped_as_importlib_metadata_skips_it(tmp_path: Path) -> None:
    assert may_declare_group("assay.", [str(tmp_path / "missing")]) is False


def test_an_egg_info_file_has_no_entry_points(tmp_path: Path) -> None:
    (tmp_path / "old-1.0.egg-info").write_text("Metadata-Version: 1.0\nName: old\nVersion: 1.0\n")
    assert importlib_groups(tmp_path) == set()
    assert may_declare_group("assay.", [str(tmp_path)]) is False


@pytest.mark.parametrize("what", ["zip on the path", "egg", "not UTF-8"])
def test_what_it_does_not_read_as_importlib_metadata_does_is_a_maybe(tmp_path: Path, what: str) -> None:
    entry = tmp_path
    if what == "zip on the path":
        entry = tmp_path / "site.zip"
        with zipfile.ZipFile(entry, "w") as archive:
            archive.writestr("p-1.0.dist-info/entry_points.txt", "[assay.tasks]\nmine = p\n")
    elif what == "egg":  # an egg on the path itself (one inside a folder on the path is not read)
        entry = tmp_path / "p-1.0-py3.11.egg"
        (entry / "EGG-INFO").mkdir(parents=True)
    else:
        dist(tmp_path, "p", b"[console_scripts]\nx = \xff:main\n")
    assert may_declare_group("assay.", [str(entry)]) is True


def test_another_distribution_finder_is_a_maybe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Finder:
        @staticmethod
        def find_distributions(*args: object, **kwargs: object) -> list[object]:
            return []

    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Finder()])
    assert may_declare_group("assay.", [str(tmp_path)]) is True


def test_this_environment_agrees_with_importlib_metadata() -> None:
    declared = any(ep.group.startswith("assay.") for d in distributions() for ep in d.entry_points)
    assert may_declare_group("assay.") or not declared


# -- versions -------------------------------------------------------------------------------------------


def importlib_version(site: Path, name: str) -> str | None:
    found = next(iter(distributions(path=[str(site)], name=name)), None)
    return None if found is None else found.version


@pytest.mark.parametrize("query", ["my-pkg", "my_pkg", "My.Pkg", "MY__PKG", "other", "my"])
def test_a_version_is_the_one_importlib_metadata_reads(tmp_path: Path, query: str) -> None:
    dist(tmp_path, "my_pkg", None)  # my_pkg-1.0.dist-info
    (tmp_path / "other-2.0.dist-info").mkdir()
    (tmp_path / "other-2.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: other\nVersion: 2.0rc1\n")
    expected = importlib_version(tmp_path, query)
    assert installed_version(query, [str(tmp_path)]) == expected
    assert expected is not None or query == "my"


def test_the_first_folder_on_the_path_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    dist(second, "pkg", None)
    (first / "pkg-3.1.dist-info").mkdir(parents=True)
    (first / "pkg-3.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: pkg\nVersion: 3.1\n")
    path = [str(tmp_path / "absent"), str(first), str(second)]
    assert installed_version("pkg", path) == "3.1"
    # several at once, from one look at the path: each as asked alone
    names = ["pkg", "PKG", "other", "absent"]
    assert installed_versions(names, path) == {name: installed_version(name, path) for name in names}


@pytest.mark.parametrize("what", ["egg-info", "no version line", "zip on the path"])
def test_a_version_read_otherwise_is_left_to_importlib_metadata(tmp_path: Path, what: str) -> None:
    entry = tmp_path
    if what == "egg-info":
        (tmp_path / "pkg-1.0.egg-info").mkdir()
        (tmp_path / "pkg-1.0.egg-info" / "PKG-INFO").write_text("Metadata-Version: 1.0\nName: pkg\nVersion: 1.0\n")
    elif what == "no version line":
        (tmp_path / "pkg-1.0.dist-info").mkdir()
        (tmp_path / "pkg-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: pkg\n")
    else:
        entry = tmp_path / "site.zip"
        with zipfile.ZipFile(entry, "w") as archive:
            archive.writestr("pkg-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n")
    assert installed_version("pkg", [str(entry)]) is UNDECIDED


def test_this_environments_versions_agree_with_importlib_metadata() -> None:
    from importlib.metadata import PackageNotFoundError, version

    for name in ("assay", "aiohttp", "pydantic", "datasets", "xllamacpp", "not-installed-anywhere"):
        try:
            expected: str | None = version(name)
        except PackageNotFoundError:
            expected = None
        assert installed_version(name) in (expected, UNDECIDED)
    assert installed_version("aiohttp") is not UNDECIDED  # the usual case is read here


@pytest.mark.parametrize("metadata", [
    "Metadata-Version: 2.1\nName: pkg\nVersion: 1.2\n\n" + "long description\n" * 2000 + "Version: 9\n",
    "Metadata-Version: 2.1\nName: pkg\n\nVersion: 9\n",  # none in the headers: the first line anywhere
    "Metadata-Version: 2.1\nName: pkg\nVersion: 1.2 \r\nVersion: 1.3\n\n",  # read as text: \r\n is a line end
    "Metadata-Version: 2.1\n" + "X: " + "y" * 9000 + "\nVersion: 4\n\nbody",  # headers past the first read
])
def test_the_version_is_the_first_version_line_of_the_whole_metadata(tmp_path: Path, metadata: str) -> None:
    import re

    (tmp_path / "pkg-1.0.dist-info").mkdir()
    file = tmp_path / "pkg-1.0.dist-info" / "METADATA"
    file.write_bytes(metadata.encode())
    # what the previous code searched: importlib.metadata's read_text("METADATA"), the whole file as text
    whole = re.search(r"^Version:[ \t]*(\S+)[ \t]*$", file.read_text(encoding="utf-8"), re.MULTILINE)
    assert whole is not None
    assert installed_version("pkg", [str(tmp_path)]) == whole.group(1)
