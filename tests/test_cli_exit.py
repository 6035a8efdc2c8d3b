"""The end of an `assay` process: exit handlers run and every line is out before the process ends, without
the interpreter's teardown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.fault_server import FaultServer
from tests.helpers import results_file, write

UTILS = """
import atexit, os

def _last_words():
    with open(os.environ["ASSAY_TEST_MARK"], "w") as f:
        f.write("exit handler ran")

atexit.register(_last_words)

def text(doc):
    return doc["q"]
"""


def test_exit_handlers_run_and_output_is_whole(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    write(folder, "t.jsonl", "".join(json.dumps({"q": f"q{i}", "answer": "A"}) + "\n" for i in range(30)))
    write(folder, "utils.py", UTILS)
    write(folder, "t.yaml", """
        task: exit_t
        dataset_path: json
        dataset_kwargs:
          data_files:
            test: t.jsonl
        doc_to_text: !function utils.text
        doc_to_target: answer
        metric_list:
          - metric: exact_match
        """)
    mark = tmp_path / "mark.txt"
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(HOME=str(tmp_path), LMMS_EVAL_HOME=str(tmp_path / "home"), ASSAY_TEST_MARK=str(mark))
    with FaultServer(answer=lambda body: "A") as server:
        proc = subprocess.run(
            [sys.executable, "-m", "assay", "run", "--model", "openai_compatible", "--model_args",
             f"model=t,base_url={server.base_url},num_concurrent=4", "--tasks", "exit_t", "--include_path",
             str(folder), "--log_samples", "--output_path", str(tmp_path / "out")],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert mark.read_text() == "exit handler ran"
    lines = proc.stdout.splitlines()
    assert lines[-1].startswith("samples (exit_t): ") and lines[-1].endswith(".jsonl")
    assert "Traceback" not in proc.stderr
    assert results_file(tmp_path / "out")["results"]["exit_t"]["n_scored"] == 30
