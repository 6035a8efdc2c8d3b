"""`assay tasks` through the real CLI entry point."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from assay.cli import main


def test_tasks_lists_builtin_tasks_groups_and_tags(cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks"]) == 0
    out = capsys.readouterr().out
    for name in ("assay_arith_mc", "assay_colors", "assay_demo", "assay_builtin"):
        assert name in out
    assert "group" in out and "tag" in out


def test_tasks_list_with_pattern_and_include_path(
    cli_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "mytasks"
    folder.mkdir()
    (folder / "mine.yaml").write_text("task: my_special_task\ndataset_path: d.jsonl\ndoc_to_text: q\n")
    assert main(["tasks", "list", "my_*", "--include_path", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "my_special_task" in out and "assay_colors" not in out


def test_tasks_show_prints_resolved_yaml(
    cli_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "mytasks"
    folder.mkdir()
    (folder / "_base_yaml").write_text("dataset_path: d.jsonl\ndoc_to_visual: !function utils.visual\n")
    (folder / "t.yaml").write_text(textwrap.dedent("""\
        include: _base_yaml
        task: shown_task
        doc_to_text: q
    """))
    assert main(["tasks", "show", "shown_task", "--include_path", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "doc_to_visual: !function utils.visual" in out
    body = yaml.load(out, Loader=yaml.BaseLoader)  # BaseLoader: tags are kept as plain text
    assert body["task"] == "shown_task" and body["dataset_path"] == "d.jsonl"
    assert "include" not in body


def test_tasks_show_group(cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "show", "assay_demo"]) == 0
    out = capsys.readouterr().out
    assert yaml.safe_load(out)["task"] == ["assay_arith_mc", "assay_colors"]


def test_tasks_show_redacts_secrets(
    cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "hf_abcdefghijklmnopqrstuvwxyz123456"
    monkeypatch.setenv("HF_TOKEN", secret)
    folder = tmp_path / "mytasks"
    folder.mkdir()
    (folder / "t.yaml").write_text(f"task: leaky\ndataset_path: org/x\ndataset_kwargs: {{token: {secret}}}\n")
    assert main(["tasks", "show", "leaky", "--include_path", str(folder)]) == 0
    out = capsys.readouterr().out
    assert secret not in out and "redacted" in out


def test_unknown_task_exits_2_with_a_suggestion(cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "show", "assay_colours"]) == 2
    err = capsys.readouterr().err
    assert "unknown task 'assay_colours'" in err
    assert "did you mean 'assay_colors'" in err


def test_show_needs_one_name(cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "show"]) == 2
    assert "needs exactly one" in capsys.readouterr().err
