"""Judge calls task code makes outside a sample's scoring — HallusionBench judges every answer from its
*aggregation* with ``requests.post`` — go through assay's judge: counted, failures void the metric, a run
with no usable verdict is never ``complete`` with exit 0, and a working judge scores what lmms-eval's own
code scores on the same judge answers. Plus the async client (``AsyncOpenAI``) and the failure-rate bound."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.adversarial.local_tasks import jsonl_task
from tests.fault_server import FaultServer, last_user_text
from tests.helpers import results_file, run_cli, write
from tests.test_judge_lmms_tasks import FAST, _image_folder, _wrapper

#: category, subcategory, set, figure, question, visual_input, reference answer
HB_DOCS = [("VD", "math", 0, 0, 0, 1, "yes, it is"), ("VD", "math", 0, 1, 0, 2, "yes, it is"),
           ("VS", "chart", 1, 0, 0, 0, "no"), ("VS", "chart", 1, 1, 0, 1, "no")]


@pytest.fixture
def model_server() -> Iterator[FaultServer]:
    with FaultServer(lambda body: "A red circle.") as server:
        yield server


@pytest.fixture(scope="module")
def hb_tasks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import SHARED_TREES

    tree = next((t for t in SHARED_TREES if t.is_dir()), None)
    if tree is None:
        pytest.skip("lmms-eval's task tree is not available")
    pytest.importorskip("requests")
    tasks = tmp_path_factory.mktemp("hb") / "tasks"
    rows = [{"file_name": f"h{i}.png", "category": c, "subcategory": sub, "set_id": s, "figure_id": f,
             "question_id": q, "visual_input": v, "question": f"Is claim {i} true?", "gt_answer_details": gt,
             "gt_answer": 1} for i, (c, sub, s, f, q, v, gt) in enumerate(HB_DOCS)]
    _image_folder(tasks / "hb" / "images", rows, (10, 200, 10))
    _wrapper(tasks / "hb", "hb_local", tree / "hallusion_bench" / "hallusion_bench_image.yaml",
             f"dataset_path: imagefolder\ndataset_kwargs:\n  data_dir: {tasks / 'hb' / 'images'}\n"
             "test_split: train\n")
    return tasks


def _hb(capsys: pytest.CaptureFixture[str], tasks: Path, out: Path, judge_url: str, *extra: str) -> tuple[int, str]:
    with FaultServer(lambda body: "The claim holds.") as model:
        code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                               f"model=m,base_url={model.base_url}", "--tasks", "hb_local",
                               "--include_path", str(tasks), "--judge_model", "openai_compatible",
                               "--judge_args", f"model=judge-m,base_url={judge_url},{FAST}",
                               "--output_path", str(out), *extra)
    return code, err


def _hb_grade(body: dict[str, Any]) -> str:
    reference = re.search(r"Reference answer: (.*)\n", last_user_text(body))
    assert reference is not None
    return "correct" if reference.group(1).startswith("yes") else "incorrect"


def test_hallusionbench_aggregation_judge_scores_like_lmms_eval(hb_tasks: Path, run_dir: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    with FaultServer(_hb_grade) as judge:
        code, err = _hb(capsys, hb_tasks, run_dir / "ok", judge.base_url)
        assert code == 0, err
        # The helper posts to OPENAI_API_URL as "gpt-4": the run's judge answered, under its own model name.
        assert judge.count == 4 and {r["model"] for r in judge.requests} == {"judge-m"}
    document = results_file(run_dir / "ok")
    result = document["results"]["hb_local"]
    # By hand from lmms-eval's rules: correctness 1,1,0,0 → per question 2/4; per figure (VS figure 0 left
    # out) 2 of 3 consistent; per question pair 1 of 2.
    assert result["metrics"]["aAcc"]["value"] == 50.0
    assert result["metrics"]["fAcc"]["value"] == pytest.approx(66.6667)
    assert result["metrics"]["qAcc"]["value"] == 50.0
    assert result["n_judged"] == 4 and result["n_judge_failed"] == 0
    assert document["judge"]["verdicts"] == 4


def test_hallusionbench_failing_judge_fails_the_run(hb_tasks: Path, run_dir: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    with FaultServer(_hb_grade) as judge:
        judge.sticky = {"status": 503}
        code, err = _hb(capsys, hb_tasks, run_dir / "down", judge.base_url, "--max_judge_failure_rate", "1")
    # Today: exit 0, `complete`, every answer "unclear" (or helper fallbacks) scored.
    assert code == 4, err
    assert "hb_local" in err and "request_failed" in err and "Traceback" not in err
    document = results_file(run_dir / "down")
    assert document["status"] == "failed"
    result = document["results"]["hb_local"]
    assert result["n_judge_failed"] >= 1 and result["n_judged"] == 0
    assert all(m["value"] is None and "judge failed" in m["error"] for m in result["metrics"].values())


def test_all_judgements_failed_is_never_complete_at_rate_one(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                                             model_server: FaultServer) -> None:
    """--max_judge_failure_rate 1 and every judgement failed: no metric, so not a complete run (as
    --max_error_rate 1 with every sample failed)."""
    with FaultServer(lambda body: "yes") as judge:
        judge.sticky = {"status": 503}
        code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                               f"model=m,base_url={model_server.base_url}", "--tasks", "assay_video_qa",
                               "--limit", "3", "--judge_model", "openai_compatible", "--judge_args",
                               f"model=j,base_url={judge.base_url},{FAST}", "--max_judge_failure_rate", "1",
                               "--output_path", str(run_dir))
    assert code == 4, err
    assert "no usable verdict" in err
    assert results_file(run_dir)["status"] == "failed"


THREE_DOCS = "".join(f'{{"q": "question {i}"}}\n' for i in range(3))
#: The keys of a task scored by its helper module's process_results.
SCORED_BY_HELPER = """\
    output_type: generate_until
    doc_to_text: !function utils.doc_to_text
    doc_to_target: "q"
    process_results: !function utils.process_results
    metric_list:
      - metric: judged
        aggregation: mean
        higher_is_better: true
    """

ASYNC_HELPER = '''
import asyncio
from openai import AsyncOpenAI

def doc_to_text(doc):
    return doc["q"]

def process_results(doc, results):
    async def ask():
        client = AsyncOpenAI(api_key="sk-not-used", base_url="http://127.0.0.1:9/v1", max_retries=0)
        reply = await client.chat.completions.create(
            model="gpt-4", messages=[{"role": "user", "content": "grade: " + results[0]}])
        return reply.choices[0].message.content
    verdict = asyncio.run(ask())
    return {"judged": 1.0 if verdict.strip() == "good" else 0.0}
'''


def test_async_openai_helper_goes_through_the_judge(tmp_path: Path, run_dir: Path,
                                                    capsys: pytest.CaptureFixture[str],
                                                    model_server: FaultServer) -> None:
    pytest.importorskip("openai")
    folder = jsonl_task(tmp_path / "asyncjudge", "asyncjudge", THREE_DOCS,
                        SCORED_BY_HELPER)
    write(folder, "utils.py", ASYNC_HELPER)
    with FaultServer(lambda body: "good") as judge:
        code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                               f"model=m,base_url={model_server.base_url}", "--tasks", "asyncjudge",
                               "--include_path", str(folder), "--judge_model", "openai_compatible",
                               "--judge_args", f"model=j,base_url={judge.base_url},{FAST}",
                               "--output_path", str(run_dir), "--log_samples")
        assert code == 0, err
        assert judge.count == 3 and {r["model"] for r in judge.requests} == {"j"}
    result = results_file(run_dir)["results"]["asyncjudge"]
    assert result["metrics"]["judged"]["value"] == 1.0 and result["n_judged"] == 3


def test_hallusionbench_with_a_dead_judge_exits_non_zero_in_seconds(hb_tasks: Path, run_dir: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Today: exit 0, `complete`, the same scores; failures only in log lines (and minutes of retries)."""
    import socket
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"
    started = time.monotonic()
    code, err = _hb(capsys, hb_tasks, run_dir / "dead", dead)
    assert code == 4 and time.monotonic() - started < 30, err
    result = results_file(run_dir / "dead")["results"]["hb_local"]
    assert result["n_judge_failed"] >= 1 and result["judge_failed"].get("request_failed")
    assert all(m["value"] is None for m in result["metrics"].values())


UNDECLARED_HELPER = '''
import os
import requests

def doc_to_text(doc):
    return doc["q"]

def process_results(doc, results):
    url = os.environ["HELPER_JUDGE_URL"] + "/chat/" + "completions"  # built at run time: no static trace
    reply = requests.post(url, json={"model": "gpt-4", "messages": [{"role": "user", "content": results[0]}]})
    ok = reply.status_code == 200 and reply.json()["choices"][0]["message"]["content"] == "good"
    return {"judged": 1.0 if ok else 0.0}
'''


def test_a_judge_call_with_no_judge_configured_is_refused_not_sent(
        tmp_path: Path, run_dir: Path, capsys: pytest.CaptureFixture[str], model_server: FaultServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """No --judge_model, no OPENAI_API_KEY: the helper's call never reaches the address it read; it fails as a
    counted judge failure naming the missing key."""
    folder = jsonl_task(tmp_path / "undeclared", "undeclared", THREE_DOCS,
                        SCORED_BY_HELPER)
    write(folder, "utils.py", UNDECLARED_HELPER)
    with FaultServer(lambda body: "good") as default_endpoint:
        monkeypatch.setenv("HELPER_JUDGE_URL", default_endpoint.base_url)
        code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                               f"model=m,base_url={model_server.base_url}", "--tasks", "undeclared",
                               "--include_path", str(folder), "--output_path", str(run_dir))
        assert default_endpoint.count == 0
    assert code == 3 and "no judge is configured" in err and "OPENAI_API_KEY" in err, err
    assert "--judge_model" in err and "Traceback" not in err
    result = results_file(run_dir)["results"]["undeclared"]
    assert result["n_judge_failed"] >= 1 and result["metrics"]["judged"]["value"] is None


PROMPT_HELPER = '''
import requests

def doc_to_text(doc):
    # a judge asked while the prompt is built (no sample is being scored yet)
    reply = requests.post("https://api.openai.com/v1/chat/completions",
                          json={"model": "gpt-4", "messages": [{"role": "user", "content": "rephrase " + doc["q"]}]})
    return reply.json()["choices"][0]["message"]["content"] if reply.status_code == 200 else doc["q"]

def process_results(doc, results):
    return {"judged": 1.0}
'''


@pytest.mark.parametrize("judge_works", [True, False])
def test_a_judge_call_while_a_prompt_is_built_is_judged_and_counted(
        tmp_path: Path, run_dir: Path, capsys: pytest.CaptureFixture[str], model_server: FaultServer,
        judge_works: bool) -> None:
    folder = jsonl_task(tmp_path / "prompting", "prompting", THREE_DOCS,
                        SCORED_BY_HELPER)
    write(folder, "utils.py", PROMPT_HELPER)
    with FaultServer(lambda body: "a rephrased question") as judge:
        if not judge_works:
            judge.sticky = {"status": 503}
        code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                               f"model=m,base_url={model_server.base_url}", "--tasks", "prompting",
                               "--include_path", str(folder), "--judge_model", "openai_compatible",
                               "--judge_args", f"model=j,base_url={judge.base_url},{FAST}",
                               "--output_path", str(run_dir))
    assert "Traceback" not in err and list(run_dir.rglob("*_results.json")), err
    document = results_file(run_dir)
    outside = document["judge"]["outside_samples"]
    assert len(outside) >= 3 and {r["model"] for r in outside} == {"j"}, err
    if judge_works:
        assert code == 0, err
        assert all(r["ok"] for r in outside)
        assert all(last_user_text(r) == "a rephrased question" for r in model_server.requests)
    else:
        assert code == 4 and "a judgement outside any sample failed" in err, err
        assert document["status"] == "failed"


PROCESS_DOCS_HELPER = '''
import os
import requests

def rewrite(doc):
    # lmms-eval helpers that translate or rephrase questions with GPT while the documents are processed
    reply = requests.post(os.environ["HELPER_JUDGE_URL"] + "/chat/completions",
                          json={"model": "gpt-4", "messages": [{"role": "user", "content": "rephrase " + doc["q"]}]})
    reply.raise_for_status()
    return {"q": reply.json()["choices"][0]["message"]["content"]}

def process_docs(dataset):
    return dataset.map(rewrite)

def doc_to_text(doc):
    return doc["q"]

def process_results(doc, results):
    return {"judged": 1.0}
'''


@pytest.mark.parametrize("judge_works", [True, False])
def test_a_judge_call_while_documents_are_processed_goes_to_the_run_judge(
        tmp_path: Path, run_dir: Path, capsys: pytest.CaptureFixture[str], model_server: FaultServer,
        monkeypatch: pytest.MonkeyPatch, judge_works: bool) -> None:
    """process_docs runs in the prepare stage, before the first sample: its GPT calls are the run judge's too
    (counted outside the samples), never sent to the address and key the helper read."""
    pytest.importorskip("datasets")
    folder = jsonl_task(tmp_path / "rephrased", "rephrased", THREE_DOCS,
                        "    process_docs: !function utils.process_docs\n" + SCORED_BY_HELPER)
    write(folder, "utils.py", PROCESS_DOCS_HELPER)
    with FaultServer(lambda body: "a rephrased question") as judge, \
            FaultServer(lambda body: "from the helper's own endpoint") as default_endpoint:
        if not judge_works:
            judge.sticky = {"status": 503}
        monkeypatch.setenv("HELPER_JUDGE_URL", default_endpoint.base_url)
        monkeypatch.setenv("LMMS_EVAL_HOME", str(tmp_path / "home"))  # a fresh datasets cache: map runs
        code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                               f"model=m,base_url={model_server.base_url}", "--tasks", "rephrased",
                               "--include_path", str(folder), "--judge_model", "openai_compatible",
                               "--judge_args", f"model=j,base_url={judge.base_url},{FAST}",
                               "--output_path", str(run_dir))
        assert default_endpoint.count == 0, err
        assert judge.count >= (3 if judge_works else 1) and {r["model"] for r in judge.requests} == {"j"}, err
    assert "Traceback" not in err
    if judge_works:
        assert code == 0, err
        assert model_server.count == 3
        assert all(last_user_text(r) == "a rephrased question" for r in model_server.requests)
        outside = results_file(run_dir)["judge"]["outside_samples"]
        assert len(outside) == 3 and all(r["ok"] and r["model"] == "j" for r in outside)
    else:  # the helper raised on the judge's refusal: the task cannot load, nothing was asked of the model
        assert code != 0 and "rephrased" in err and "a judge call made by the task's code failed" in err, err
        assert model_server.count == 0


def test_a_dry_run_never_asks_the_judge_task_code_calls(tmp_path: Path, run_dir: Path,
                                                        capsys: pytest.CaptureFixture[str],
                                                        model_server: FaultServer) -> None:
    """--dry_run builds and counts every prompt; a prompt whose helper asks GPT gets no answer (the helper's
    own fallback is counted), the call is neither sent to the judge nor to the address the helper names."""
    folder = jsonl_task(tmp_path / "prompting", "prompting", THREE_DOCS, SCORED_BY_HELPER)
    write(folder, "utils.py", PROMPT_HELPER)
    with FaultServer(lambda body: "a rephrased question") as judge:
        code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                               f"model=m,base_url={model_server.base_url}", "--tasks", "prompting",
                               "--include_path", str(folder), "--judge_model", "openai_compatible",
                               "--judge_args", f"model=j,base_url={judge.base_url},{FAST}",
                               "--output_path", str(run_dir), "--dry_run")
        assert judge.count == 0 and model_server.count == 0
    assert code == 0 and "Traceback" not in err, err
    assert "asked a judge 3 time(s)" in err and "a dry run sends nothing" in err, err
