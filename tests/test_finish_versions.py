"""The library versions a results document records: read from each package's metadata ``Version:`` line,
the same as importlib.metadata.version (which parses the whole file) for every installed package."""

from __future__ import annotations

from importlib.metadata import distributions, version

from assay.run.finish import library_versions


def test_every_installed_package_reads_as_importlib_metadata_says() -> None:
    names = {d.metadata["Name"] for d in distributions()}
    assert len(names) > 20
    assert library_versions(sorted(names)) == {name: version(name) for name in names}


def test_a_package_not_installed_has_no_version() -> None:
    assert library_versions(["no-such-package-for-assay"]) == {"no-such-package-for-assay": None}
