"""The end of an `assay` process: exit handlers run and every line is out before the process ends, without
the interpreter's teardown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

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


def test_the_collector_is_tuned_for_the_run_and_restored_after(tmp_path: Path, run_dir: Path,
                                                                     capsys: Any) -> None:
    """While requests are answered, what was built before them is out of the collector's sight
    (gc.freeze) and young collections are rarer; once `assay run` returns, nothing stays frozen and the
    collector is as it was (a list of runs frees each one)."""
    import gc

    from assay.cli.run_cmd import RUN_GC_THRESHOLD
    from tests.helpers import run_cli

    seen: list[int] = []
    thresholds: list[tuple[int, int, int]] = []

    def answer(body: dict[str, Any]) -> str:
        seen.append(gc.get_freeze_count())
        thresholds.append(gc.get_threshold())
        return "A"

    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0 and before[0] < RUN_GC_THRESHOLD
    with FaultServer(answer=answer) as server:
        code, _, _ = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                             f"model=t,base_url={server.base_url},num_concurrent=2", "--tasks", "assay_arith_mc",
                             "--limit", "6", "--output_path", str(run_dir / "out"))
    assert code == 0 and len(seen) == 6
    assert min(seen) > 10_000  # the modules, the plan, the tasks: frozen before the first request
    assert {t[0] for t in thresholds} == {RUN_GC_THRESHOLD}  # young collections rarer while it runs
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before  # as it was, once the run is over
