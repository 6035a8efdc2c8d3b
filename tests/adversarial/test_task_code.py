"""Adversarial catalog, "task code" (issue #7, class 20): task code that exits is an error naming the task
and the function, not assay's exit code; a doc without the target field is an error, not a silent match
against the field's name."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tests.fault_server import FaultServer
from tests.helpers import results_file, run_cli, samples, write


def task(root: Path, name: str, rows: list[dict[str, str]], *, target: str = "answer", extra: str = "") -> Path:
    folder = root / "tasks"
    write(folder, f"{name}.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    write(folder, "utils.py", "import sys\n\ndef exit3(doc, results):\n    sys.exit(3)\n")
    write(folder, f"{name}.yaml", f"""
        task: {name}
        dataset_path: json
        dataset_kwargs:
          data_files:
            test: {name}.jsonl
        doc_to_text: q
        doc_to_target: {target}
        metric_list:
          - metric: exact_match
        {extra}
        """)
    return folder


def run(capsys: pytest.CaptureFixture[str], server: FaultServer, folder: Path, name: str,
        *extra: str) -> tuple[int, str, str]:
    return run_cli(capsys, "--model", "openai_compatible", "--model_args", f"model=m,base_url={server.base_url}",
                   "--tasks", name, "--include_path", str(folder), "--log_samples", "--output_path", "out", *extra)


def test_c20_task_code_calling_sys_exit_is_a_sample_error_not_assays_exit_code(
        run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"q": f"q{i}", "answer": "A"} for i in range(3)]
    folder = task(run_dir, "exits", rows, extra="process_results: !function utils.exit3")
    with FaultServer(answer=lambda body: "A") as server:
        code, _, err = run(capsys, server, folder, "exits")
    assert code == 1 and code != 3  # 3 means "credential" to scripts
    assert "no sample succeeded" in err and "Traceback" not in err
    errors = [s["error"]["message"] for s in samples(run_dir / "out")]
    assert errors == ["task exits: process_results called sys.exit(3)"] * 3


def test_c20_a_doc_without_the_target_field_is_an_error_not_a_match_against_its_name(
        run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"q": "q0", "answer": "A"}, {"q": "q1"}, {"q": "q2", "answer": "A"}]  # doc 1 lacks `answer`
    folder = task(run_dir, "holes", rows)
    # The model answers with the field's *name*: scored against the literal, doc 1 would "pass".
    with FaultServer(answer=lambda body: "answer" if body["messages"][-1]["content"] == "q1" else "A") as server:
        code, _, _ = run(capsys, server, folder, "holes", "--max_error_rate", "0.5")
        assert server.count == 2  # doc 1 was never sent
    assert code == 0
    by_id = {s["doc_id"]: s for s in samples(run_dir / "out")}
    assert by_id[1]["error"]["message"] == "task holes: this doc has no field 'answer', which doc_to_target names"
    assert by_id[0]["metrics"] == {"exact_match": 1.0} and by_id[2]["metrics"] == {"exact_match": 1.0}
    assert results_file(run_dir / "out")["results"]["holes"]["n_scored"] == 2


def test_c20_a_literal_target_by_design_is_said_once(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                                    caplog: pytest.LogCaptureFixture) -> None:
    folder = task(run_dir, "literal", [{"q": f"q{i}"} for i in range(4)], target="right")
    with FaultServer(answer=lambda body: "right") as server, caplog.at_level(logging.WARNING):
        code, _, _ = run(capsys, server, folder, "literal")
    assert code == 0
    said = [r.getMessage() for r in caplog.records if "is not a field of its docs" in r.getMessage()]
    assert said == ["task literal: doc_to_target 'right' is not a field of its docs; every doc is scored against "
                    "that literal text"]
    assert results_file(run_dir / "out")["results"]["literal"]["metrics"]["exact_match"]["value"] == 1.0
