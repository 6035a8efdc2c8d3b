"""lmms-eval's command-line flags: implemented, or accepted with a one-line notice."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from assay.cli import main
from tests.fault_server import FaultServer
from tests.helpers import results_file, run_cli, samples, write


def _tree(folder: Path) -> Path:
    write(folder, "train.jsonl", "".join(f'{{"q": "t{i}", "a": "{i}"}}\n' for i in range(5)))
    write(folder, "test.jsonl", '{"q": "what?", "a": "7"}\n')
    write(folder, "fs.yaml", """\
        task: fs
        dataset_path: json
        dataset_kwargs: {data_files: {train: train.jsonl, test: test.jsonl}}
        test_split: test
        fewshot_split: train
        fewshot_config: {sampler: first_n}
        doc_to_text: "Q: {{q}}"
        doc_to_target: a
        generation_kwargs: {max_new_tokens: 4}
    """)
    return folder


def test_num_fewshot_system_instruction_seed_and_notices(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = _tree(run_dir / "tasks")
    with FaultServer(answer=lambda body: "7") as server:
        code, out, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                                 f"model=m,base_url={server.base_url}", "--tasks", "fs", "--include_path", str(tree),
                                 "--num_fewshot", "2", "--system_instruction", "Be exact.", "--device", "cuda:0",
                                 "--seed", "3,4,5,6", "--show_config", "--log_samples", "--output_path",
                                 str(run_dir / "out"))
        sent = server.requests[0]["messages"][-1]["content"]
    assert code == 0, err
    # lmms-eval joins the system instruction to the examples with no separator when there is no description
    assert sent == "Be exact.Q: t0 0\n\nQ: t1 1\n\nQ: what?"
    assert "--device has no effect in assay: API models run where they are served" in err
    assert "# task fs" in out and "fewshot_split: train" in out  # --show_config
    doc = results_file(run_dir / "out")
    assert doc["n-shot"] == {"fs": 2} and doc["results"]["fs"]["exact_match,none"] == 1.0
    assert samples(run_dir / "out")[0]["arguments"]["messages"][0]["content"] == sent


def test_tasks_list_needs_no_model(cli_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = _tree(tmp_path / "tasks")
    assert main(["run", "--tasks", "list", "--include_path", str(tree)]) == 0
    out = capsys.readouterr().out
    assert "fs" in out and "assay_colors" in out
    assert main(["run", "--tasks", "list_groups"]) == 0
    out = capsys.readouterr().out
    assert "assay_demo" in out and "assay_colors" not in out


def test_bad_reasoning_tags_and_seed_are_usage_errors(cli_env: dict[str, str],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--model", "openai", "--tasks", "assay_colors", "--reasoning_tags", "[oops"]) == 2
    assert "--reasoning_tags '[oops' is not JSON" in capsys.readouterr().err
    assert main(["run", "--model", "openai", "--tasks", "assay_colors", "--seed", "1,2"]) == 2
    assert "give one value or four" in capsys.readouterr().err


def test_config_file_takes_lmms_eval_keys(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = _tree(run_dir / "tasks")
    with FaultServer(answer=lambda body: "7") as server:
        config = run_dir / "run.yaml"
        config.write_text(json.dumps({"model": "openai_compatible", "model_args": f"model=m,base_url={server.base_url}",
                                      "tasks": "fs", "include_path": str(tree), "num_fewshot": 1, "write_out": True,
                                      "output_path": str(run_dir / "out")}))
        code, _, err = run_cli(capsys, "--config", str(config))
        sent = server.requests[0]["messages"][-1]["content"]
    assert code == 0, err
    assert sent == "Q: t0 0\n\nQ: what?"
    assert "--write_out has no effect" in err


MC_TASK = """\
    task: mc
    dataset_path: mc.jsonl
    output_type: multiple_choice
    doc_to_text: "{{q}}"
    doc_to_choice: ["cat", "horse", "ox"]
    doc_to_target: a
    metric_list: [{metric: acc}, {metric: acc_norm}]
"""


def _logprobs(body: dict[str, object]) -> dict[str, object]:
    """The continuation is the last word; ' horse' is the likeliest."""
    prompt = str(body["prompt"])
    head, _, last = prompt.rpartition(" ")
    value = {"horse": -0.5, "cat": -2.0, "ox": -1.0}[last]
    return {"tokens": [head, " " + last], "token_logprobs": [None, value], "text_offset": [0, len(head)],
            "top_logprobs": [None, {"x": -0.5}]}


def test_multiple_choice_answers_are_cached_apart(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = run_dir / "tasks"
    write(tree, "mc.jsonl", '{"q": "Which neighs?", "a": 1}\n{"q": "Which moos?", "a": 2}\n')
    write(tree, "mc.yaml", MC_TASK)
    with FaultServer(logprobs=_logprobs) as server:
        args = ("--model", "openai_compatible", "--model_args", f"model=m,base_url={server.base_url}", "--tasks",
                "mc", "--include_path", str(tree), "--use_cache", "--log_samples")
        code, _, err = run_cli(capsys, *args, "--output_path", str(run_dir / "a"))
        assert code == 0, err
        first = server.count
        code, _, err = run_cli(capsys, *args, "--output_path", str(run_dir / "b"))
        assert code == 0, err
        assert first == 6 and server.count == first  # 2 docs x 3 choices, then nothing: all from the cache
    doc = results_file(run_dir / "b")
    assert doc["results"]["mc"]["acc,none"] == 0.5 and doc["model_stats"]["cache_hits"] == 6
    assert all(s["cached"] for s in samples(run_dir / "b"))


def test_image_multiple_choice_is_refused_for_a_text_scorer(run_dir: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    tree = run_dir / "tasks"
    write(tree, "mc.jsonl", '{"q": "Which neighs?", "a": 1}\n')
    write(tree, "utils.py", "from PIL import Image\n\ndef visual(doc):\n    return [Image.new('RGB', (4, 4))]\n")
    write(tree, "mc.yaml", textwrap.dedent(MC_TASK) + "doc_to_visual: !function utils.visual\n")
    with FaultServer(logprobs=_logprobs) as server:
        code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                               f"model=m,base_url={server.base_url}", "--tasks", "mc", "--include_path", str(tree))
        assert server.count == 0
    assert code == 2 and "mc: multiple_choice with images or video" in err
