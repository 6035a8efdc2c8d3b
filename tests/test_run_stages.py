"""The run's stages: task code contained in worker threads, aggregation failures kept per metric, output
failures that stop paying and say what is where, honest statuses, stopping on request, the judge bridge."""

from __future__ import annotations

import asyncio
import errno
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.fault_server import FaultServer, last_user_text
from tests.helpers import results_file, run_cli, samples, write

UTILS = '''
import sys, threading
from assay.model.bridge import run_coroutine

def doc_to_text(doc):
    if doc["q"] == "exit-in-prompt":
        sys.exit(4)
    return doc["q"]

def exiting_results(doc, results):
    sys.exit(3)

def echo_results(doc, results):
    return {"match": float(results[0].strip() == doc["a"]), "broken": 1.0}

def boom(values):
    raise AssertionError("the task's own check failed at this limit")

GATE = threading.Event()

def waiting_results(doc, results):
    # Scoring blocks until every request has reached the server: only possible off the event loop.
    if not GATE.wait(20):
        raise TimeoutError("other requests were stalled while this one was scored")
    return {"match": float(results[0].strip() == doc["a"])}

def judged_results(doc, results):
    from assay.model.bridge import active_run
    from assay.types import Message, Request
    model = active_run().model
    verdict = run_coroutine(model.generate(Request((Message.user("judge: " + results[0]),))))
    return {"match": float(verdict.text.strip() == "yes")}
'''


def task_folder(root: Path, name: str, process_results: str, *, docs: int = 4, extra: str = "") -> Path:
    folder = root / "tasks" / name
    rows = [{"q": f"q{i}", "a": "A"} for i in range(docs)]
    write(folder, "data.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    write(folder, "utils.py", UTILS)
    write(folder, f"{name}.yaml", f"""
        task: {name}
        dataset_path: json
        dataset_kwargs:
          data_files:
            test: data.jsonl
        test_split: test
        doc_to_text: !function utils.doc_to_text
        doc_to_target: a
        process_results: !function utils.{process_results}
        metric_list:
          - metric: match
            aggregation: mean
        {extra}
        """)
    return folder.parent


def run(capsys: pytest.CaptureFixture[str], server: FaultServer, include: Path, task: str, out: Path,
        *extra: str) -> tuple[int, str, str]:
    return run_cli(capsys, "--model", "openai_compatible",
                   "--model_args", f"model=t,base_url={server.base_url},num_concurrent=4,backoff_initial=0.01",
                   "--tasks", task, "--include_path", str(include), "--output_path", str(out), "--log_samples",
                   *extra)


def test_sys_exit_in_scoring_is_a_sample_error_not_the_process_exit(run_dir: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    include = task_folder(run_dir, "exits", "exiting_results")
    with FaultServer(answer=lambda body: "A") as server:
        code, _, err = run(capsys, server, include, "exits", run_dir / "out")
        assert server.count == 4  # every doc was still asked: one exit did not end the run
    assert code == 1  # not 3 (the credential code the task's sys.exit(3) would have given)
    assert "Traceback" not in err and "no sample succeeded" in err
    doc = results_file(run_dir / "out")
    assert doc["status"] == "failed" and doc["results"]["exits"]["errors"] == {"scoring": 4}
    rows = samples(run_dir / "out")
    assert len(rows) == 4
    assert all("called sys.exit(3)" in r["error"]["message"] and "exits" in r["error"]["message"] for r in rows)
    assert all(r["resps"] == [["A"]] for r in rows)  # the paid answers are kept


def test_sys_exit_while_building_one_prompt_costs_only_that_sample(run_dir: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    include = task_folder(run_dir, "prompts", "echo_results", docs=20)
    data = include / "prompts" / "data.jsonl"
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    rows[3]["q"] = "exit-in-prompt"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    with FaultServer(answer=lambda body: "A") as server:
        code, _, _ = run(capsys, server, include, "prompts", run_dir / "out", "--max_error_rate", "0.1")
        assert server.count == 19
    assert code == 0
    doc = results_file(run_dir / "out")
    assert doc["status"] == "complete"
    assert doc["results"]["prompts"]["errors"] == {"prompt": 1}
    assert doc["results"]["prompts"]["metrics"]["match"]["value"] == 1.0
    failed = [r for r in samples(run_dir / "out") if r["error"]]
    assert [r["doc_id"] for r in failed] == [3] and "sys.exit(4)" in failed[0]["error"]["message"]


def test_a_failing_aggregation_keeps_the_samples_and_the_other_metrics(run_dir: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    include = task_folder(run_dir, "agg", "echo_results",
                          extra="  - metric: broken\n            aggregation: !function utils.boom")
    with FaultServer(answer=lambda body: "A") as server:
        code, out, err = run(capsys, server, include, "agg", run_dir / "out")
    assert code == 1 and "Traceback" not in err
    assert "aggregation of agg/broken failed" in err
    doc = results_file(run_dir / "out")
    assert doc["status"] == "failed"
    metrics = doc["results"]["agg"]["metrics"]
    assert metrics["match"]["value"] == 1.0 and metrics["match"]["n"] == 4
    assert metrics["broken"]["value"] is None and "the task's own check failed" in metrics["broken"]["error"]
    assert len(samples(run_dir / "out")) == 4
    assert "match" in out  # the table is still printed


def test_scoring_runs_off_the_event_loop(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    include = task_folder(run_dir, "blocking", "waiting_results", docs=4)
    seen: list[str] = []

    def answer(body: dict[str, Any]) -> str:
        seen.append(last_user_text(body))
        if len(seen) == 4:  # every request arrived while doc 0's scoring was still blocked: open the gate
            import sys

            for module in list(sys.modules.values()):
                gate = getattr(module, "GATE", None)
                if isinstance(gate, threading.Event):
                    gate.set()
        return "A"

    with FaultServer(answer=answer) as server:
        code, _, err = run(capsys, server, include, "blocking", run_dir / "out")
    assert code == 0, err
    assert results_file(run_dir / "out")["results"]["blocking"]["metrics"]["match"]["value"] == 1.0


def test_task_code_reaches_the_runs_model_through_the_bridge(run_dir: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    include = task_folder(run_dir, "judged", "judged_results", docs=6)

    def answer(body: dict[str, Any]) -> str:
        return "yes" if last_user_text(body).startswith("judge:") else "A"

    with FaultServer(answer=answer) as server:
        code, _, err = run(capsys, server, include, "judged", run_dir / "out")
        assert server.count == 12  # one answer and one judgement per doc, all through the run's model
    assert code == 0, err
    doc = results_file(run_dir / "out")
    assert doc["results"]["judged"]["metrics"]["match"]["value"] == 1.0
    assert doc["model_stats"]["requests"] == 12


def test_the_bridge_refuses_outside_a_run_and_on_the_loop_thread() -> None:
    from assay.model.bridge import BridgeError, run_coroutine
    from assay.model.context import RunContext, current_run

    async def nothing() -> int:
        return 1

    with pytest.raises(BridgeError, match="no assay run is active"):
        run_coroutine(nothing())

    async def on_the_loop() -> None:
        current_run.set(RunContext(loop=asyncio.get_running_loop(), model=None, settings=None,  # type: ignore[arg-type]
                                   redactor=None))  # type: ignore[arg-type]
        with pytest.raises(BridgeError, match="deadlock"):
            run_coroutine(nothing())
        assert await asyncio.to_thread(run_coroutine, nothing()) == 1  # from a worker thread it works

    asyncio.run(on_the_loop())


def test_an_unwritable_output_path_fails_before_any_request(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = run_dir / "not-a-folder"
    blocker.write_text("a file where the output folder should be")
    with FaultServer(answer=lambda body: "A") as server:
        code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                               f"model=t,base_url={server.base_url}", "--tasks", "assay_arith_mc", "--limit", "3",
                               "--output_path", str(blocker / "out"))
        assert server.count == 0  # nothing paid
    assert code == 2 and "error: cannot write to --output_path" in err and "Traceback" not in err


def test_samples_that_cannot_be_written_stop_the_run(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from assay.sinks.files import FileSink

    original = FileSink.sample
    written = {"n": 0}

    def full_disk(self: FileSink, task: str, record: dict[str, Any]) -> None:
        if written["n"] >= 5:
            raise OSError(errno.ENOSPC, "No space left on device")
        written["n"] += 1
        original(self, task, record)

    monkeypatch.setattr(FileSink, "sample", full_disk)
    with FaultServer(answer=lambda body: "A") as server:
        code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                               f"model=t,base_url={server.base_url},num_concurrent=1", "--tasks", "assay_arith_mc",
                               "--limit", "50", "--log_samples", "--output_path", str(run_dir / "out"))
        assert server.count == 6  # the sixth answer could not be kept, so nothing more was bought
    assert code == 1 and "Traceback" not in err
    assert "No space left on device" in err and "results in" in err and "samples in" in err
    doc = results_file(run_dir / "out")
    assert doc["status"] == "aborted" and "samples file" in doc["status_reason"]
    assert len(samples(run_dir / "out")) == 5


def test_results_that_cannot_be_written_are_rescued(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from assay.sinks.files import FileSink

    def full_disk(self: FileSink, results: dict[str, Any]) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(FileSink, "finish", full_disk)
    with FaultServer(answer=lambda body: "A") as server:
        code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                               f"model=t,base_url={server.base_url}", "--tasks", "assay_arith_mc",
                               "--limit", "5", "--output_path", str(run_dir / "out"))
    assert code == 1 and "Traceback" not in err
    rescued = list((run_dir / "home" / "rescued").glob("*_results.json"))
    assert len(rescued) == 1 and str(rescued[0]) in err
    doc = json.loads(rescued[0].read_text())
    # The status the run ended with (exit 1), not the `complete` it would have been.
    assert doc["status"] == "aborted" and "No space left on device" in doc["status_reason"]
    assert doc["results"]["assay_arith_mc"]["n_completed"] == 5


def test_a_stop_request_ends_the_run_with_what_was_finished(run_dir: Path, settings: Any) -> None:
    import signal

    from assay.env.redaction import Redactor
    from assay.errors import RunInterrupted
    from assay.options import RunOptions
    from assay.run import RunControl, run_evaluation

    control = RunControl()

    def answer(body: dict[str, Any]) -> str:
        return "A"

    with FaultServer(answer=answer) as server:
        server.queue(*[{}] * 3, *[{"delay": 30}] * 5)

        def stop_when_stuck() -> None:
            while server.count < 4:
                threading.Event().wait(0.01)
            control.request_stop("SIGTERM", signal.SIGTERM)
            control.request_stop("SIGINT", signal.SIGINT)  # a second signal changes nothing

        threading.Thread(target=stop_when_stuck, daemon=True).start()
        options = RunOptions(model="openai_compatible", tasks=("assay_arith_mc",), limit=8,
                             model_args={"model": "t", "base_url": server.base_url, "num_concurrent": 1},
                             output_path=run_dir / "out", log_samples=True)
        with pytest.raises(RunInterrupted) as info:
            asyncio.run(run_evaluation(settings, options, Redactor(), control=control))
    assert info.value.exit_code == 128 + signal.SIGTERM
    doc = results_file(run_dir / "out")
    assert doc["status"] == "interrupted" and doc["status_reason"] == "SIGTERM"
    assert doc["results"]["assay_arith_mc"]["n_completed"] == 3
    assert len(samples(run_dir / "out")) == 3


def test_a_group_reports_its_size_weighted_metric(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """assay_demo = assay_arith_mc + assay_colors, exact_match weighted by size: a server that always says
    "A" scores exactly the share of docs whose answer is A, over both tasks."""
    from assay.env.settings import load_settings
    from assay.tasks import TaskRegistry

    settings = load_settings(environ={}, discover_dotenv=False)
    registry = TaskRegistry.discover(settings)
    hits = total = 0
    for name in ("assay_arith_mc", "assay_colors"):
        task = registry.load(name, settings=settings, model_name="openai_compatible")
        for doc in task.docs(limit=10):
            hits += float(task.score(doc, "A")["exact_match"]) == 1.0
            total += 1
    with FaultServer(answer=lambda body: "A") as server:
        code, out, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                                 f"model=t,base_url={server.base_url}", "--tasks", "assay_demo", "--limit", "10",
                                 "--output_path", str(run_dir / "out"))
    assert code == 0, err
    group = results_file(run_dir / "out")["groups"]["assay_demo"]
    assert group["metrics"]["exact_match"] == {"value": pytest.approx(hits / total), "n": total}
    assert 0 < hits < total
    assert "AggregateMetric" not in out


def test_the_results_table_goes_through_the_redactor(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-table-SECRET-9a8b7c6d5e4f"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    include = task_folder(run_dir, "aliased", "echo_results", extra=f"task_alias: 'alias {secret}'")
    with FaultServer(answer=lambda body: "A") as server:
        code, out, err = run(capsys, server, include, "aliased", run_dir / "out")
    assert code == 0, err
    assert secret not in out and "<redacted:OPENAI_API_KEY>" in out
