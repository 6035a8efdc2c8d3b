"""Task discovery and the registry: names, groups, tags, globs, suggestions, laziness, loading errors."""

from __future__ import annotations

import logging
import re
import sys
import textwrap
from pathlib import Path

import pytest

from assay.env.settings import Settings, load_settings
from assay.errors import TaskError
from assay.tasks import TaskRegistry
from tests.helpers import write


def simple_task(folder: Path, name: str, extra: str = "") -> Path:
    write(folder, f"{name}/data.jsonl", '{"q": "1+1?", "a": "2"}\n{"q": "2+2?", "a": "4"}\n')
    return write(
        folder,
        f"{name}/{name}.yaml",
        f"task: {name}\ndataset_path: data.jsonl\ndoc_to_text: q\ndoc_to_target: a\n{textwrap.dedent(extra)}",
    )


def test_builtin_tasks_groups_and_tags_are_listed(settings: Settings) -> None:
    registry = TaskRegistry.discover(settings)
    assert {"assay_arith_mc", "assay_colors"} <= set(registry.task_names())
    assert "assay_demo" in registry.group_names()
    assert "assay_builtin" in registry.tag_names()


def test_listing_imports_no_task_code(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    marker = tmp_path / "imported.marker"
    write(folder, "lazy/utils.py", f"""\
        from pathlib import Path
        Path({str(marker)!r}).write_text("imported")
        raise RuntimeError("utils.py must not be imported while listing")
    """)
    write(folder, "lazy/_template_yaml", "doc_to_text: !function utils.doc_to_text\n")
    write(folder, "lazy/lazy.yaml", "include: _template_yaml\ntask: lazy_task\ndataset_path: x.jsonl\n")
    before = set(sys.modules)
    registry = TaskRegistry.discover(settings, include_paths=[folder])
    assert "lazy_task" in registry.task_names()
    assert registry.resolve(["lazy*"]) == ["lazy_task"]
    assert registry.config("lazy_task")["doc_to_text"] == "!function utils.doc_to_text"
    assert not marker.exists()
    assert not any(m.startswith("assay_task_") for m in set(sys.modules) - before)
    # ...and loading is where the import (and its failure) happens, naming the YAML and the function
    with pytest.raises(TaskError) as info:
        registry.load("lazy_task", settings=settings, model_name="m")
    assert marker.exists()
    assert "_template_yaml:1" in info.value.message and "utils.doc_to_text" in info.value.message
    assert "RuntimeError" in info.value.message


def test_function_resolves_next_to_the_yaml_that_names_it(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    # two folders with their own utils.py: each task gets its own module
    for name, word in (("one", "first"), ("two", "second")):
        simple_task(folder, name, "doc_to_text: !function utils.text\n")
        write(folder, f"{name}/utils.py", f"def text(doc):\n    return '{word}: ' + doc['q']\n")
    registry = TaskRegistry.discover(settings, include_paths=[folder])
    one = registry.load("one", settings=settings, model_name="m")
    two = registry.load("two", settings=settings, model_name="m")
    doc = {"q": "?"}
    assert one.prompt_text(doc) == "first: ?"
    assert two.prompt_text(doc) == "second: ?"


@pytest.mark.parametrize(
    ("utils", "ref", "expected"),
    [
        (None, "utils.fn", "no "),
        ("def other(doc):\n    return ''\n", "utils.fn", "has no attribute 'fn'"),
        ("import not_a_real_module_xyz\n", "utils.fn", "needs the Python package not_a_real_module_xyz"),
    ],
)
def test_bad_function_names_yaml_and_function(
    settings: Settings, tmp_path: Path, utils: str | None, ref: str, expected: str
) -> None:
    folder = tmp_path / "tasks"
    yaml_path = simple_task(folder, "bad", f"process_docs: !function {ref}\n")
    if utils is not None:
        write(folder, "bad/utils.py", utils)
    registry = TaskRegistry.discover(settings, include_paths=[folder])
    with pytest.raises(TaskError) as info:
        registry.load("bad", settings=settings, model_name="m")
    assert f"{yaml_path.resolve()}:5" in info.value.message
    assert f"!function {ref}" in info.value.message
    assert expected in info.value.message


def test_malformed_yaml_is_skipped_with_file_and_line(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    bad = write(folder, "broken.yaml", "task: broken\nmetric_list:\n  - metric: [exact_match\n")
    simple_task(folder, "fine")
    write(folder, "badgroup.yaml", "group: g\ntask: [fine]\naggregate_metric_list:\n  - metric: m\n"
                                   "    aggregation: median\n")
    registry = TaskRegistry.discover(settings, include_paths=[folder])
    assert "fine" in registry.task_names() and "g" not in registry.group_names()  # the rest still lists
    messages = sorted(p.message for p in registry.problems)
    assert len(messages) == 2 and re.search(rf"{bad.name}:\d+: malformed YAML", messages[1])
    assert "badgroup.yaml: group g: aggregate metric m: aggregation 'median' is not supported" in messages[0]
    assert all("\n" not in m for m in messages)  # one line each


def test_unknown_task_suggests_close_names(settings: Settings) -> None:
    registry = TaskRegistry.discover(settings)
    with pytest.raises(TaskError) as info:
        registry.resolve(["assay_colours"])
    assert "unknown task 'assay_colours'" in info.value.message
    assert "did you mean 'assay_colors'" in info.value.hint
    with pytest.raises(TaskError) as info:
        registry.load("assay_arith", settings=settings, model_name="m")
    assert "did you mean 'assay_arith_mc'" in info.value.hint


def test_resolve_groups_tags_globs_and_commas(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    simple_task(folder, "mme_a", "tag: [mme_tag, other]\n")
    simple_task(folder, "mme_b", "group: mme_tag\n")  # a string `group:` is lmms-eval's legacy tag
    simple_task(folder, "zzz")
    write(folder, "g.yaml", "group: both\ntask: [zzz, mme_tag]\n")
    write(folder, "outer.yaml", "group: outer\ntask: [both, mme_a]\n")
    registry = TaskRegistry.discover(settings, include_paths=[folder])
    assert registry.tag_members("mme_tag") == ["mme_a", "mme_b"]
    assert registry.resolve(["mme*"]) == ["mme_a", "mme_b"]  # a glob also matches the tag: no repeats
    assert registry.resolve(["both"]) == ["zzz", "mme_a", "mme_b"]
    assert registry.resolve(["outer"]) == ["zzz", "mme_a", "mme_b"]
    assert registry.resolve(["zzz,mme_b", " mme_a "]) == ["zzz", "mme_b", "mme_a"]
    with pytest.raises(TaskError, match="no task, group or tag matches 'nomatch\\*'"):
        registry.resolve(["nomatch*"])
    with pytest.raises(TaskError, match="is a group, not a task"):
        registry.load("both", settings=settings, model_name="m")


def test_groups_for_reports_fully_covered_groups(settings: Settings) -> None:
    registry = TaskRegistry.discover(settings)
    groups = registry.groups_for(registry.resolve(["assay_demo"]))
    info = groups["assay_demo"]
    assert info.members == ("assay_arith_mc", "assay_colors")
    assert [(m.metric, m.aggregation, m.weight_by_size) for m in info.aggregate_metric_list] == [
        ("exact_match", "mean", True)
    ]
    assert registry.groups_for(["assay_colors"]) == {}


def test_group_with_inline_tasks_and_overrides(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    simple_task(folder, "base_task", "generation_kwargs: {max_new_tokens: 5}\n")
    write(folder, "grp/data.jsonl", '{"q": "x", "a": "y"}\n')
    write(folder, "grp/grp.yaml", """\
        group: grp
        generation_kwargs: {max_new_tokens: 7}
        task:
          - task: inline_task
            dataset_path: data.jsonl
            doc_to_text: q
            doc_to_target: a
          - task: base_task
            task_alias: overridden
        aggregate_metric_list:
          - metric: exact_match
    """)
    registry = TaskRegistry.discover(settings, include_paths=[folder])
    assert "inline_task" in registry.task_names()
    assert registry.resolve(["grp"]) == ["inline_task", "base_task"]
    inline = registry.load("inline_task", settings=settings, model_name="m")
    assert inline.docs() == [{"q": "x", "a": "y"}]  # data relative to the group file's folder
    alone = registry.load("base_task", settings=settings, model_name="m")
    in_group = registry.load("base_task", settings=settings, model_name="m", group="grp")
    assert alone.alias == "base_task" and alone.generation_params().max_tokens == 5
    assert in_group.alias == "overridden" and in_group.generation_params().max_tokens == 7


def test_later_include_path_wins_with_a_warning(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "tasks"
    write(folder, "mine.yaml", "task: assay_colors\ndataset_path: mine.jsonl\ndoc_to_text: q\n")
    with caplog.at_level(logging.WARNING, logger="assay.tasks"):
        registry = TaskRegistry.discover(settings, include_paths=[folder])
    assert registry.config("assay_colors")["dataset_path"] == "mine.jsonl"
    assert any("assay_colors is defined twice" in r.getMessage() for r in caplog.records)


def test_missing_include_path_is_an_error(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(TaskError, match=r"include path .* does not exist"):
        TaskRegistry.discover(settings, include_paths=[tmp_path / "nope"])


def test_plugin_tasks_folder_found_without_importing_the_package(
    isolated: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    write(site, "my_plugin_pkg/__init__.py", "raise RuntimeError('plugin package must not be imported')\n")
    simple_task(site / "my_plugin_pkg" / "tasks", "plugin_task")
    monkeypatch.syspath_prepend(str(site))
    settings = load_settings(environ={**isolated, "LMMS_EVAL_PLUGINS": "my_plugin_pkg"}, discover_dotenv=False)
    registry = TaskRegistry.discover(settings)
    assert "plugin_task" in registry.task_names()
    assert "my_plugin_pkg" not in sys.modules
    assert registry.task_entry("plugin_task").source == "plugin my_plugin_pkg"


def test_missing_plugin_package_is_an_error(isolated: dict[str, str]) -> None:
    settings = load_settings(environ={**isolated, "LMMS_EVAL_PLUGINS": "no_such_pkg_xyz"}, discover_dotenv=False)
    with pytest.raises(TaskError, match="plugin package 'no_such_pkg_xyz' is not installed"):
        TaskRegistry.discover(settings)


def test_unsupported_output_type_and_unknown_metric_fail_at_load(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    simple_task(folder, "loglik", "output_type: generate_visual_cot\n")
    simple_task(folder, "badmetric", "metric_list:\n  - metric: exact_mach\n")
    simple_task(folder, "badagg", "metric_list:\n  - metric: exact_match\n    aggregation: meen\n")
    registry = TaskRegistry.discover(settings, include_paths=[folder])
    with pytest.raises(TaskError, match="output_type generate_visual_cot is not supported: it asks the model"):
        registry.load("loglik", settings=settings, model_name="m")
    with pytest.raises(TaskError) as info:
        registry.load("badmetric", settings=settings, model_name="m")
    assert "unknown metric 'exact_mach'" in info.value.message
    assert "exact_match" in info.value.hint and "mc_accuracy" in info.value.hint
    assert "normalized_exact_match" in info.value.hint
    with pytest.raises(TaskError, match="unknown aggregation 'meen'"):
        registry.load("badagg", settings=settings, model_name="m")


def test_unknown_keys_are_refused_by_name_inert_ones_said(settings: Settings, tmp_path: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "tasks"
    simple_task(folder, "extra", "some_future_key: 3\nnum_fewshoot: 2\n")
    simple_task(folder, "prompt", "use_prompt: promptsource:foo\n")
    simple_task(folder, "inert", "full_docs: true\nvalidation_split: val\n")
    registry = TaskRegistry.discover(settings, include_paths=[folder])
    with pytest.raises(TaskError) as info:
        registry.load("extra", settings=settings, model_name="m")
    assert "unknown keys 'some_future_key', 'num_fewshoot'" in info.value.message
    assert "did you mean 'num_fewshot'" in info.value.hint
    with pytest.raises(TaskError, match="`use_prompt` is not supported: promptsource"):
        registry.load("prompt", settings=settings, model_name="m")
    task = registry.load("inert", settings=settings, model_name="m")
    assert task.config.eval_split == "val" and task.config.notices == (
        f"task inert ({task.config.yaml_path}): `full_docs` has no effect "
        "(lmms-eval never passes full_docs to process_results)",
    )


def test_many_tasks_share_one_parsed_template(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    write(folder, "_default_template_yaml", "dataset_path: data.jsonl\ndoc_to_text: !function utils.nope\n")
    for i in range(200):
        write(folder, f"t{i:03d}.yaml", f"include: _default_template_yaml\ntask: gen_{i:03d}\n")
    registry = TaskRegistry.discover(settings, include_paths=[folder])
    assert len(registry.resolve(["gen_*"])) == 200


def test_function_tag_may_name_a_value(settings: Settings, tmp_path: Path) -> None:
    """lmms-eval's `!function` returns any attribute (egoplan2: `features: !function utils.features`)."""
    folder = tmp_path / "tasks"
    simple_task(folder, "valued", "dataset_kwargs:\n  features: !function utils.FEATURES\n")
    write(folder, "valued/utils.py", "FEATURES = {'q': 'string'}\n")
    registry = TaskRegistry.discover(settings, include_paths=[folder])
    task = registry.load("valued", settings=settings, model_name="m")
    assert task.config.dataset_kwargs["features"] == {"q": "string"}


def test_index_cache_reuses_unchanged_files_and_reparses_changed_ones(settings: Settings, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from assay.tasks.yaml import index_cache
    from assay.tasks.yaml import loader as yaml_loader
    from assay.tasks.yaml import read as yaml_read

    monkeypatch.setattr(index_cache, "MIN_FILES", 1)
    folder = tmp_path / "tasks"
    yaml_path = simple_task(folder, "cached", "process_docs: !function utils.fn\nwhen: 2020-01-01\n")
    simple_task(folder, "plain")
    TaskRegistry.discover(settings, include_paths=[folder])
    assert (settings.home / "task-index.json").is_file()
    parsed: list[Path] = []
    real = yaml_read.parse_yaml_file
    monkeypatch.setattr("assay.tasks.yaml.includes.parse_yaml_file", lambda p: parsed.append(p) or real(p))
    registry = TaskRegistry.discover(settings, include_paths=[folder])
    assert parsed == [yaml_path]  # a YAML date is not JSON: only that file is parsed again
    ref = registry.task_entry("cached").raw["process_docs"]
    assert ref == yaml_loader.FunctionRef("utils.fn", yaml_path, 5)  # placeholders survive the round trip
    plain = folder / "plain" / "plain.yaml"
    plain.write_text(plain.read_text() + "task_alias: changed\n")
    os.utime(plain, ns=(1, 1))
    parsed.clear()
    assert TaskRegistry.discover(settings, include_paths=[folder]).task_entry("plain").raw["task_alias"] == "changed"
    assert plain in parsed
