"""Old import paths (before the code moved into layer folders) still import, as the same module objects."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from assay.env.aliases import MOVED

SINGLE = sorted((old, targets[0]) for old, targets in MOVED.items() if len(targets) == 1)


@pytest.mark.parametrize(("old", "new"), SINGLE)
def test_an_old_module_path_is_the_new_module_object(old: str, new: str) -> None:
    assert importlib.import_module(old) is importlib.import_module(new)


def test_from_imports_of_old_paths_work_as_plugins_write_them() -> None:
    from assay.credentials import how_to_set  # type: ignore[import-not-found]
    from assay.settings import Settings as OldSettings  # type: ignore[import-not-found]

    from assay.env.settings import Settings

    assert OldSettings is Settings
    assert how_to_set("openai_api_key") == importlib.import_module("assay.env.credentials").how_to_set("openai_api_key")


def test_the_split_redaction_module_finds_names_in_both_new_homes() -> None:
    import assay.env.masking as masking
    import assay.env.redaction as redaction
    old = importlib.import_module("assay.redaction")
    assert old.Redactor is redaction.Redactor and old.RedactingFilter is redaction.RedactingFilter
    assert old.mask is masking.mask and old.is_secret_key is masking.is_secret_key
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = old.nothing_here


@pytest.mark.parametrize(("package", "name", "home"), [
    ("assay.preflight", "preflight", "assay.preflight.requirements"),
    ("assay.preflight", "Requirement", "assay.preflight.requirements"),
    ("assay.metrics", "METRICS", "assay.metrics.scorers"),
    ("assay.media", "encode_image", "assay.media.image"),
    ("assay.media", "video_part", "assay.media.video"),
    ("assay.tasks.data", "select_docs", "assay.tasks.data.load"),
    ("assay.tasks.registry", "TaskRegistry", "assay.tasks.registry.index"),
    ("assay.tasks.scoring", "score_generation", "assay.tasks.scoring.results"),
])
def test_a_module_that_became_a_package_keeps_its_names(package: str, name: str, home: str) -> None:
    assert getattr(importlib.import_module(package), name) is getattr(importlib.import_module(home), name)


def test_a_packages_own_submodule_is_never_shadowed_and_unknown_names_fail() -> None:
    import assay.tasks.data as data
    from assay.tasks.data import load

    assert load is importlib.import_module("assay.tasks.data.load")
    with pytest.raises(AttributeError):
        _ = data.no_such_name
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("assay.no_such_module")


def test_a_fresh_interpreter_resolves_an_old_path_first_thing() -> None:
    # `import assay.plan` as the first statement: the finder is installed by `import assay` on the way.
    code = "import assay.plan, assay.preflight.plan as p, sys; print(assay.plan is p, 'datasets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "False"]
