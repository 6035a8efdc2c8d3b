"""Parity with lmms-eval: the same YAMLs, documents and model answers give the same per-sample scores,
prompts and aggregates as lmms-eval 0.7.3 recorded (tests/parity_reference.json,
scripts/parity_lmms_eval.py), on 15 popular tasks run end to end against a loopback server.

The tasks are lmms-eval's own folders (../shared/lmms-eval-tasks) through wrapper YAMLs that point them at
small local stand-ins (tests/parity_data.py): images, a video task with media under HF_HOME, filters,
few-shot, aggregations with `args`, metadata lists, and a multiple_choice task scored by log-likelihood
(lmms-eval's API model cannot, so its expected numbers are derived here by hand).

Audio: four of lmms-eval's audio tasks (LibriSpeech WER, CoVoST2 BLEU, VocalSound, MuChoMusic) on the tone
stand-ins of tests/audio_standins.py, against lmms-eval 0.7.3's own `gpt4o_audio` model's numbers
(tests/parity_audio_reference.json, `scripts/parity_lmms_eval.py --audio`): the server hears each clip's pitch,
so both tools get the same answer for the same doc.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import audio_standins, parity_data
from tests.audio_data import by_pitch
from tests.fault_server import FaultServer

REFERENCE = json.loads((Path(__file__).parent / "parity_reference.json").read_text())["tasks"]
AUDIO_REFERENCE = json.loads((Path(__file__).parent / "parity_audio_reference.json").read_text())["tasks"]


def _assay_run(work: Path, tasks: list[str], server: FaultServer) -> dict[str, Any]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(work), "HF_HOME": str(work / "hf"),
           "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "LMMS_EVAL_HOME": str(work / "home"),
           "OPENAI_API_KEY": "sk-parity-secret-0123456789"}
    cmd = [sys.executable, "-m", "assay", "run", "--model", "openai_compatible", "--model_args",
           f"model=m,base_url={server.base_url}", "--tasks", ",".join(tasks), "--include_path",
           str(work / "tasks"), "--output_path", str(work / "out"), "--log_samples"]
    proc = subprocess.run(cmd, env=env, cwd=work, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(next((work / "out").rglob("*_results.json")).read_text())
    samples = {}
    for path in (work / "out").rglob("*_samples_*.jsonl"):
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        samples[rows[0]["task"]] = {str(r["doc_id"]): r for r in rows}
    return {"results": results, "samples": samples, "work": work, "stderr": proc.stderr}


@pytest.fixture(scope="module")
def parity_run(lmms_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("parity")
    answers = parity_data.write(work, lmms_tree, work / "hf")
    with FaultServer(answer=parity_data.oracle(answers), logprobs=parity_data.logprobs(answers)) as server:
        return _assay_run(work, list(answers), server)


@pytest.fixture(scope="module")
def audio_parity_run(lmms_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("audio_parity")
    answers = audio_standins.write(work, lmms_tree, decoded=True, only=audio_standins.PARITY)
    with FaultServer(answer=by_pitch(audio_standins.table(answers))) as server:
        return _assay_run(work, list(answers), server)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and math.isclose(a, b, rel_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _text(record: dict[str, Any]) -> str:
    """The prompt's text as sent (media placeholders dropped), all turns joined."""
    parts = [m["content"] for m in record["arguments"]["messages"]]
    text = "\n".join(parts)
    for _ in range(16):
        if text.startswith("<image> ") or text.startswith("<video "):
            text = text.split(" ", 2 if text.startswith("<video ") else 1)[-1].split("frames> ", 1)[-1]
        elif text.startswith("<audio "):
            text = text.split(" s>", 1)[1].removeprefix(" ")
    return text


@pytest.mark.parametrize("task", sorted(REFERENCE))
def test_same_scores_and_aggregates_as_lmms_eval(parity_run: dict[str, Any], task: str) -> None:
    _check_against(REFERENCE[task], parity_run, task)


@pytest.mark.parametrize("task", sorted(AUDIO_REFERENCE))
def test_audio_tasks_score_as_lmms_eval(audio_parity_run: dict[str, Any], task: str) -> None:
    _check_against(AUDIO_REFERENCE[task], audio_parity_run, task)
    assert all(r["audio"] for r in audio_parity_run["samples"][task].values())  # the clip reached the model


def _check_against(expected: dict[str, Any], parity_run: dict[str, Any], task: str) -> None:
    entry = parity_run["results"]["results"][task]
    assert entry["n_errors"] == 0, entry["errors"]
    for key, value in expected["aggregates"].items():
        if value == []:  # lmms-eval's placeholder for a returned metric metric_list does not aggregate
            assert key not in entry
            continue
        assert key in entry and _same(entry[key], value), (key, entry.get(key), value)
    records = parity_run["samples"][task]
    assert records.keys() == expected["samples"].keys()
    for doc_id, by_filter in expected["samples"].items():
        got = records[doc_id]["metrics"]
        for filter_name, metrics in by_filter.items():
            for metric, value in metrics.items():
                key = metric if filter_name == "none" else f"{metric},{filter_name}"
                assert key in got and _same(got[key], value), (doc_id, key, got.get(key), value)
    if task != "parity_mmmu_val":  # assay sends mmmu's doc_to_messages; lmms-eval's simple model its text
        for doc_id, prompt in expected["prompts"].items():
            assert _text(records[doc_id]) == prompt, doc_id


def test_multiple_choice_by_loglikelihood(parity_run: dict[str, Any]) -> None:
    """arc_easy: the scripted log-likelihoods (tests/parity_data.py) give acc 3/6 and acc_norm 4/6 by hand."""
    entry = parity_run["results"]["results"]["parity_arc_easy"]
    assert entry["acc,none"] == 0.5 and math.isclose(entry["acc_norm,none"], 4 / 6)
    assert math.isclose(entry["acc_stderr,none"], math.sqrt(0.3) / math.sqrt(6))  # sample stdev / sqrt(n)
    records = parity_run["samples"]["parity_arc_easy"]
    assert [records[str(i)]["metrics"]["acc"] for i in range(6)] == [1.0, 0.0, 0.0, 1.0, 0.0, 1.0]
    assert records["1"]["resps"][3] == [-0.9, True]  # per choice: log-likelihood, greedy


def test_lmms_eval_view_and_outputs(parity_run: dict[str, Any]) -> None:
    results, work = parity_run["results"], parity_run["work"]
    assert results["versions"]["parity_gsm8k"] == 3.0 and results["versions"]["parity_chartqa"] == "Yaml"
    assert results["n-shot"]["parity_gsm8k"] == 5
    assert results["n-samples"]["parity_mme"] == {"original": 10, "effective": 10}
    assert results["higher_is_better"]["parity_pope"]["pope_f1_score"] is True
    # aggregations that take `args` wrote their files under --output_path, as lmms-eval's do
    assert list((work / "out").rglob("textvqa_submission_*.json"))
    assert list((work / "out").rglob("ocrbench_results.txt"))
    assert "num_beams not sent" in parity_run["stderr"]  # a local-model knob, dropped with a notice
    for path in (work / "out").rglob("*"):
        if path.is_file():
            assert "sk-parity-secret-0123456789" not in path.read_text(errors="replace")
