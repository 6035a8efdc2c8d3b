"""Task YAML parsing: `!function` placeholders, malformed files, `include:` merging."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.errors import TaskError
from assay.tasks.yaml.includes import load_with_includes
from assay.tasks.yaml.loader import FunctionRef, FunctionStr, dump_yaml, for_display
from assay.tasks.yaml.read import parse_yaml_file
from tests.helpers import write


def test_function_tag_is_a_placeholder_with_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "t.yaml", """\
        task: t
        doc_to_text: !function utils.doc_to_text
    """)
    data = parse_yaml_file(path)
    ref = data["doc_to_text"]
    assert isinstance(ref, FunctionRef)
    assert (ref.name, ref.module, ref.attr, ref.line) == ("utils.doc_to_text", "utils", "doc_to_text", 2)
    assert ref.yaml_path == path


def test_function_tag_without_a_dot_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "t.yaml", "task: t\nprocess_docs: !function nodot\n")
    with pytest.raises(TaskError, match=r"t\.yaml:2: `!function` needs `module\.function`"):
        parse_yaml_file(path)


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", "task: t\ndataset_path: x\n  broken: [1, 2\nmetric_list: []\n")
    with pytest.raises(TaskError) as info:
        parse_yaml_file(path)
    assert f"{path}:3" in info.value.message
    assert "malformed YAML" in info.value.message


def test_include_child_overrides_parent_and_nesting_works(tmp_path: Path) -> None:
    write(tmp_path, "_base.yaml", """\
        dataset_path: base/data
        test_split: test
        generation_kwargs: {max_new_tokens: 16}
        doc_to_text: !function utils.base_text
    """)
    write(tmp_path, "sub/_middle.yaml", """\
        include: ../_base.yaml
        test_split: validation
        metadata: {version: 2}
    """)
    child = write(tmp_path, "sub/child.yaml", """\
        include: _middle.yaml
        task: child
        generation_kwargs: {max_new_tokens: 4}
    """)
    config = load_with_includes(child)
    assert config["task"] == "child"
    assert config["dataset_path"] == "base/data"  # from the grandparent
    assert config["test_split"] == "validation"  # the middle file wins over its include
    assert config["generation_kwargs"] == {"max_new_tokens": 4}  # shallow: the child's whole mapping
    assert "include" not in config
    # a !function keeps the file it was written in (functions resolve next to *that* YAML)
    assert config["doc_to_text"].yaml_path == (tmp_path / "_base.yaml").resolve()


def test_include_list_first_listed_wins_like_lmms_eval(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "dataset_path: from_a\nshared: a\n")
    write(tmp_path, "b.yaml", "dataset_path: from_b\nonly_b: yes\n")
    child = write(tmp_path, "c.yaml", "include: [a.yaml, b.yaml]\ntask: c\n")
    config = load_with_includes(child)
    assert config["dataset_path"] == "from_a"
    assert config["only_b"] is True


def test_include_without_yaml_extension(tmp_path: Path) -> None:
    write(tmp_path, "_default_template_yaml", "dataset_path: lmms-lab/x\n")
    child = write(tmp_path, "t.yaml", "include: _default_template_yaml\ntask: t\n")
    assert load_with_includes(child)["dataset_path"] == "lmms-lab/x"


def test_missing_include_names_the_including_file(tmp_path: Path) -> None:
    child = write(tmp_path, "t.yaml", "include: nope.yaml\ntask: t\n")
    with pytest.raises(TaskError, match=r"t\.yaml: included file 'nope\.yaml' not found"):
        load_with_includes(child)


def test_include_cycle_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "include: b.yaml\n")
    write(tmp_path, "b.yaml", "include: a.yaml\n")
    with pytest.raises(TaskError, match="include cycle"):
        load_with_includes(tmp_path / "a.yaml")


def test_non_mapping_file_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "list.yaml", "- a\n- b\n")
    with pytest.raises(TaskError, match="must be a YAML mapping"):
        load_with_includes(path)


def test_display_form_and_dump_round_trip(tmp_path: Path) -> None:
    path = write(tmp_path, "t.yaml", """\
        task: t
        doc_to_visual: !function utils.doc_to_visual
        metric_list:
          - metric: anls
            aggregation: !function utils.agg
    """)
    shown = for_display(parse_yaml_file(path))
    assert shown["doc_to_visual"] == "!function utils.doc_to_visual"
    assert isinstance(shown["metric_list"][0]["aggregation"], FunctionStr)
    text = dump_yaml(shown)
    assert "doc_to_visual: !function utils.doc_to_visual\n" in text
    again = parse_yaml_file(write(tmp_path, "again.yaml", text))
    assert again["metric_list"][0]["aggregation"].name == "utils.agg"
