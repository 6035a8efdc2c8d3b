"""The library versions a results document records: read from each package's metadata ``Version:`` line,
the same as importlib.metadata.version (which parses the whole file) for every installed package."""

from __future__ import annotations

from importlib.metadata import distributions, version

from assay.run.finish import installed_version


def test_every_installed_package_reads_as_importlib_metadata_says() -> None:
    names = {d.metadata["Name"] for d in distributions()}
    assert len(names) > 20
    assert {name: installed_version(name) for name in names} == {name: version(name) for name in names}


def test_a_package_not_installed_has_no_version() -> None:
    assert installed_version("no-such-package-for-assay") is None
