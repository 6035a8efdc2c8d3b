"""Adversarial catalog, issue #16 "hangs that cannot be stopped": task code that never returns (in
``doc_to_text``, ``process_results``, an aggregation), that leaves a non-daemon thread behind, or that calls
``os._exit``. Each call of task code has a time limit (--task_timeout) after which that doc or metric is an
error; a second stop signal ends the process within seconds with the results document on disk; the
process exits when the run ends whatever threads task code left; ``os._exit`` cannot end a run halfway.
The soak: 30 trials of "task code hangs, then SIGTERM twice", every one ending within 5 s of the second
signal with its results on disk."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.adversarial.test_signals import clean_env
from tests.fault_server import FaultServer
from tests.helpers import question_task, results_file, run_cli, samples

#: Task code: hangs (after leaving a marker file, so a test knows the hang has begun), exits, leaves threads.
UTILS = """
import os, threading, time
from pathlib import Path

def _hang(where):
    Path(os.environ.get("HANG_MARKER", "hanging")).write_text(where)
    threading.Event().wait()

def text_hangs_on_q1(doc):
    if doc["q"] == "q1":
        _hang("doc_to_text")
    return doc["q"]

def score_hangs_on_q1(doc, results):
    if doc["q"] == "q1":
        _hang("process_results")
    return {"exact_match": float(results[0] == doc["answer"])}

def score_hangs(doc, results):
    _hang("process_results")

def mean_hangs(values):
    _hang("aggregation")

def score_leaves_a_thread(doc, results):
    threading.Thread(target=time.sleep, args=(3600,), daemon=False).start()
    return {"exact_match": 1.0}

def score_calls_os_exit(doc, results):
    os._exit(0)
"""


def task(root: Path, name: str, *, n: int = 4, extra: str = "", metric: str = "- metric: exact_match") -> Path:
    return question_task(root, name, n, utils=UTILS, metric=metric, extra=extra)


def run(capsys: pytest.CaptureFixture[str], server: FaultServer, folder: Path, name: str,
        *extra: str) -> tuple[int, str, str]:
    return run_cli(capsys, "--model", "openai_compatible", "--model_args", f"model=m,base_url={server.base_url}",
                   "--tasks", name, "--include_path", str(folder), "--log_samples", "--output_path", "out",
                   "--max_error_rate", "0.5", *extra)


@pytest.mark.parametrize(("hook", "extra", "what"), [
    ("process_results", "process_results: !function utils.score_hangs_on_q1", "scoring"),
    ("doc_to_text", "doc_to_text: !function utils.text_hangs_on_q1", "building the prompt"),
])
def test_a_hung_call_is_that_docs_error_after_the_time_limit(
        run_dir: Path, capsys: pytest.CaptureFixture[str], hook: str, extra: str, what: str) -> None:
    folder = task(run_dir, "hangs", extra=extra)
    with FaultServer(answer=lambda body: "A") as server:
        started = time.monotonic()
        code, _, err = run(capsys, server, folder, "hangs", "--task_timeout", "0.5")
        took = time.monotonic() - started
    assert code == 0 and took < 20, (code, err)
    by_id = {s["doc_id"]: s for s in samples(run_dir / "out")}
    assert by_id[1]["error"]["message"] == f"task hangs: {what} did not return within 0.5 s"
    assert all(by_id[i]["metrics"] == {"exact_match": 1.0} for i in (0, 2, 3))  # the others went on
    assert results_file(run_dir / "out")["results"]["hangs"]["n_scored"] == 3


def test_a_hung_aggregation_is_that_metrics_error(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = task(run_dir, "aggs", metric="- metric: exact_match\n            aggregation: !function utils.mean_hangs")
    with FaultServer(answer=lambda body: "A") as server:
        code, _, err = run(capsys, server, folder, "aggs", "--task_timeout", "0.5")
    entry = results_file(run_dir / "out")["results"]["aggs"]["metrics"]["exact_match"]
    assert entry["value"] is None
    assert entry["error"] == "task aggs: aggregation of exact_match did not return within 0.5 s"
    assert code == 1 and "aggregation of aggs/exact_match failed" in err


def test_task_timeout_must_be_a_number_of_seconds(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = task(run_dir, "t")
    with FaultServer(answer=lambda body: "A") as server:
        code, _, err = run(capsys, server, folder, "t", "--task_timeout", "-1")
    assert code == 2 and "error: --task_timeout -1 must be 0 (no limit) or more" in err and "hint:" in err


def _start(root: Path, server: FaultServer, folder: Path, name: str, *extra: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "assay", "run", "--model", "openai_compatible", "--model_args",
           f"model=m,base_url={server.base_url}", "--tasks", name, "--include_path", str(folder), "--log_samples",
           "--output_path", "out", "--max_error_rate", "1", *extra]
    env = {**clean_env(root), "HANG_MARKER": str(root / "hanging")}
    return subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def test_threads_task_code_leaves_behind_do_not_keep_the_process(tmp_path: Path) -> None:
    folder = task(tmp_path, "threads", extra="process_results: !function utils.score_leaves_a_thread")
    with FaultServer(answer=lambda body: "A") as server:
        proc = _start(tmp_path, server, folder, "threads")
        try:
            _, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
    assert proc.returncode == 0, err
    assert results_file(tmp_path / "out")["status"] == "complete"


def test_os_exit_in_task_code_cannot_make_a_run_look_complete(tmp_path: Path) -> None:
    folder = task(tmp_path, "exits", extra="process_results: !function utils.score_calls_os_exit")
    with FaultServer(answer=lambda body: "A") as server:
        proc = _start(tmp_path, server, folder, "exits")
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "no sample succeeded" in err and "Traceback" not in err
    doc = results_file(tmp_path / "out")
    assert doc["status"] == "failed" and doc["results"]["exits"]["errors"] == {"scoring": 4}
    assert {s["error"]["message"] for s in samples(tmp_path / "out")} == {
        "task exits: scoring called os._exit(0)"}


# -- the soak: task code hangs, then SIGTERM twice ---------------------------------------------------------

TRIALS = 30
HOOKS = {  # where the hang is: prompt building, scoring (both in the execute stage), aggregation (finish)
    "doc_to_text": "doc_to_text: !function utils.text_hangs_on_q1",
    "process_results": "process_results: !function utils.score_hangs",
    "aggregation": "",
}


def one_trial(root: Path, index: int) -> str | None:
    """None if the process ended within 5 s of the second SIGTERM with its results on disk; else what broke."""
    hook = list(HOOKS)[index % 3]
    gap = random.Random(index).uniform(0, 0.3)
    trial = root / f"trial{index}"
    trial.mkdir()
    metric = ("- metric: exact_match\n            aggregation: !function utils.mean_hangs" if hook == "aggregation"
              else "- metric: exact_match")
    folder = task(trial, "soak", extra=HOOKS[hook], metric=metric)
    try:
        with FaultServer(answer=lambda body: "A") as server:
            proc = _start(trial, server, folder, "soak")
            try:
                deadline = time.monotonic() + 60
                while not (trial / "hanging").exists():
                    assert proc.poll() is None, proc.communicate()
                    assert time.monotonic() < deadline, "the task code never started hanging"
                    time.sleep(0.01)
                os.killpg(proc.pid, signal.SIGTERM)
                time.sleep(gap)
                second = time.monotonic()
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
                _, err = proc.communicate(timeout=30)
                ended = time.monotonic() - second
            finally:
                proc.kill()
        assert ended < 5, f"ended {ended:.1f} s after the second signal"
        assert proc.returncode == 128 + signal.SIGTERM, (proc.returncode, err[-2000:])
        assert "Traceback" not in err, err
        doc = results_file(trial / "out")
        assert doc["status"] == "interrupted" and doc["status_reason"] == "SIGTERM", doc["status"]
    except BaseException as exc:  # reported with the trial that broke
        return f"trial {index} ({hook}, gap {gap:.2f} s): {exc!r}"
    return None


def test_soak_task_code_hangs_then_sigterm_twice(tmp_path: Path) -> None:
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=6) as pool:  # the runs mostly wait on the hang: six at a time
        failures = [f for f in pool.map(lambda i: one_trial(tmp_path, i), range(TRIALS)) if f]
    assert failures == [], "\n".join(failures)
    assert time.monotonic() - started < 600
