"""`assay run` end to end against loopback servers: metrics on a known answer key, every fault class,
fatal errors, preflight, and what lands on disk."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.fault_server import FaultServer, last_user_text
from tests.helpers import results_file, run_cli, samples

TASK = "assay_arith_mc"

FAST_RETRY = "backoff_initial=0.01,backoff_max=0.05"


def answer_key(limit: int) -> dict[str, str]:
    """prompt text -> correct letter, computed from the task itself (not from assay's scoring)."""
    from assay.env.settings import load_settings
    from assay.tasks import TaskRegistry

    settings = load_settings(environ={}, discover_dotenv=False)
    task = TaskRegistry.discover(settings).load(TASK, settings=settings, model_name="openai_compatible")
    key = {}
    for doc in task.docs(limit=limit):
        key[task.messages(doc)[-1].text] = str(task.target(doc))
    return key





def wrong(letter: str) -> str:
    return "A" if letter != "A" else "B"


def test_metrics_match_a_known_answer_key(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = answer_key(40)
    chosen: dict[str, str] = {}

    def oracle(body: dict[str, Any]) -> str:
        prompt = last_user_text(body)
        right = key[prompt]
        # Answer right for prompts whose hash is even: a mix the test knows exactly.
        reply = right if sum(map(ord, prompt)) % 2 == 0 else wrong(right)
        chosen[prompt] = reply
        return f"The answer is ({reply})."

    with FaultServer(answer=oracle) as server:
        code, out, _ = run_cli(capsys, "--model", "openai_compatible",
                           "--model_args", f"model=test,base_url={server.base_url},num_concurrent=8",
                           "--tasks", TASK, "--limit", "40", "--output_path", str(run_dir / "out"),
                           "--log_samples")
    assert code == 0
    expected = sum(chosen[p] == key[p] for p in key) / len(key)
    assert 0 < expected < 1
    doc = results_file(run_dir / "out")
    entry = doc["results"][TASK]
    assert entry["metrics"]["mc_accuracy"]["value"] == pytest.approx(expected)
    assert entry["n_samples"] == 40 and entry["n_errors"] == 0 and entry["n_scored"] == 40
    assert entry["metrics"]["mc_accuracy"]["stderr"] > 0
    assert doc["status"] == "complete"
    # --model's name is kept; the provider's identity (vendor, base URL) sits beside it.
    assert doc["model"]["provider"] == "openai_compatible" and doc["model"]["name"] == "test"
    assert doc["model"]["identity"]["provider"] == "openai" and doc["model"]["identity"]["base_url"] == server.base_url
    assert doc["usage"] == {"input_tokens": 40 * 11, "output_tokens": 40 * 3,
                            "from_cache": {"input_tokens": 0, "output_tokens": 0}}
    rows = samples(run_dir / "out")
    assert sorted(r["doc_id"] for r in rows) == list(range(40))
    for r in rows:
        assert r["filtered_resps"][0].startswith("The answer is")
        assert r["metrics"]["mc_accuracy"] in (0, 1)
    assert "mc_accuracy" in out and TASK in out


@pytest.mark.parametrize(
    ("fault", "kind"),
    [({"status": 500}, "server"), ({"status": 503}, "server"), ({"drop": True}, "connection"),
     ({"malformed": True}, "malformed"), ({"empty": True}, "empty"), ({"delay": 3}, "timeout")],
    ids=["500", "503", "dropped", "malformed", "empty", "slow"],
)
def test_transient_faults_are_retried_or_recorded(
    run_dir: Path, capsys: pytest.CaptureFixture[str], fault: dict[str, Any], kind: str
) -> None:
    with FaultServer(answer=lambda body: "A") as server:
        # doc 0 succeeds (so a dropped connection is not taken for an unreachable server);
        # doc 1 fails on both of its 2 attempts (recorded error); doc 2 fails once, then succeeds.
        server.queue({}, fault, fault, fault)
        code, _, _ = run_cli(capsys, "--model", "openai_compatible",
                         "--model_args", f"model=t,base_url={server.base_url},num_concurrent=1,max_attempts=2,"
                                         f"timeout=1,{FAST_RETRY}",
                         "--tasks", TASK, "--limit", "4", "--output_path", str(run_dir / "out"), "--log_samples",
                         "--max_error_rate", "0.5")
        sent = server.count
    assert code == 0
    entry = results_file(run_dir / "out")["results"][TASK]
    assert entry["n_errors"] == 1 and entry["errors"] == {kind: 1}
    assert entry["n_scored"] == 3
    assert entry["metrics"]["mc_accuracy"]["n"] == 3  # the failure is excluded, not scored as wrong
    assert sent == 1 + 2 + 2 + 1  # attempts per doc: no more, no fewer
    errored = [r for r in samples(run_dir / "out") if r["error"]]
    assert len(errored) == 1 and errored[0]["error"]["type"] == kind and errored[0]["resps"] == []


def test_permanent_400_is_recorded_without_retry(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FaultServer(answer=lambda body: "A") as server:
        server.queue({"status": 400, "body": {"error": {"message": "bad image"}}})
        code, _, _ = run_cli(capsys, "--model", "openai_compatible",
                         "--model_args", f"model=t,base_url={server.base_url},num_concurrent=1,{FAST_RETRY}",
                         "--tasks", TASK, "--limit", "3", "--output_path", str(run_dir / "out"),
                         "--max_error_rate", "0.5")
        assert code == 0
        assert server.count == 3
    entry = results_file(run_dir / "out")["results"][TASK]
    assert entry["errors"] == {"bad_request": 1}


def test_401_stops_the_run_keeps_what_was_done_and_leaks_nothing(
    run_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-e2e-SECRET-0123456789abcdef"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    with FaultServer(answer=lambda body: "A") as server:
        server.queue({}, {}, {"status": 401, "body": {"error": {"message": f"Incorrect API key provided: {secret}"}}})
        code, out, err = run_cli(capsys, "--model", "openai_compatible",
                             "--model_args", f"model=t,base_url={server.base_url},num_concurrent=1",
                             "--tasks", TASK, "--limit", "20", "--output_path", str(run_dir / "out"),
                             "--log_samples")
        assert server.count == 3  # stopped at the first 401, not 20 refusals
    assert code == 3
    assert err.count("error:") == 1 and "Traceback" not in err and "hint:" in err
    assert "OPENAI_API_KEY" in err
    doc = results_file(run_dir / "out")
    assert doc["status"] == "aborted"
    rows = samples(run_dir / "out")
    assert sum(1 for r in rows if r["error"] is None) == 2  # the two paid answers are on disk
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(errors="ignore"), path
    assert secret not in out + err


def test_unreachable_server_is_one_line_and_fast(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once we leave the block: nothing listens there
    code, _, err = run_cli(capsys, "--model", "openai_compatible",
                       "--model_args", f"model=t,base_url=http://127.0.0.1:{port}/v1,max_attempts=2,{FAST_RETRY}",
                       "--tasks", TASK, "--limit", "50", "--output_path", str(run_dir / "out"))
    assert code == 1
    assert re.search(r"error: run stopped: cannot reach http://127\.0\.0\.1:\d+/v1", err)
    assert "Traceback" not in err
    assert results_file(run_dir / "out")["status"] == "aborted"


def test_preflight_fails_before_any_request(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FaultServer() as server:
        code, _, err = run_cli(capsys, "--model", "openai_compatible",
                           "--model_args", f"model=t,base_url={server.base_url}",
                           "--tasks", TASK, "--limit", "5", "--output_path", str(run_dir / "out"),
                           "--hf_hub_log_args", "hub_results_org=me,push_results_to_hub=True",
                           "--wandb_args", "project=p")
        assert server.count == 0
    assert code == 3
    assert "HF_TOKEN" in err and "WANDB_API_KEY" in err
    assert not (run_dir / "out").exists()


def test_openai_without_key_names_the_variable(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "--model", "openai", "--model_args", "model=gpt-4o-mini", "--tasks", TASK)
    assert code == 3
    assert "OPENAI_API_KEY" in err and "platform.openai.com" in err


@pytest.mark.parametrize(
    ("args", "needle"),
    [(["--model", "nope", "--tasks", TASK], "unknown model"),
     (["--model", "openai_compatible", "--model_args", "model=x,oops", "--tasks", TASK], "--model_args"),
     (["--model", "openai_compatible", "--model_args", "model=x,base_url=http://h/v1", "--tasks", "no_such_task"],
      "no_such_task"),
     (["--model", "openai_compatible", "--model_args", "model=x,num_concurrent=lots", "--tasks", TASK],
      "num_concurrent"),
     (["--model", "openai_compatible", "--tasks", TASK, "--limit", "-3"], "--limit")],
    ids=["model", "model_args", "task", "num_concurrent", "limit"],
)
def test_bad_input_is_one_line_with_a_hint(
    run_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    code, _, err = run_cli(capsys, *args)
    assert code == 2
    lines = err.strip().splitlines()
    assert lines[0].startswith("error:") and needle in lines[0]
    assert lines[1].startswith("hint:")
    assert "Traceback" not in err


def test_config_file_supplies_flags_and_explicit_flags_win(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FaultServer(answer=lambda body: "A") as server:
        config = run_dir / "run.yaml"
        config.write_text(f"model: openai_compatible\nmodel_args: model=t,base_url={server.base_url}\n"
                          f"tasks: {TASK}\nlimit: 7\noutput_path: {run_dir / 'out'}\n")
        code, _, _ = run_cli(capsys, "--config", str(config), "--limit", "3")
        assert code == 0 and server.count == 3


def test_predict_only_and_gen_kwargs(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FaultServer(answer=lambda body: "A") as server:
        code, _, _ = run_cli(capsys, "--model", "openai_compatible",
                         "--model_args", f"model=t,base_url={server.base_url}",
                         "--tasks", TASK, "--limit", "2", "--predict_only", "--log_samples",
                         "--gen_kwargs", "temperature=0.5,max_new_tokens=3",
                         "--output_path", str(run_dir / "out"))
        assert code == 0
        assert all(r["temperature"] == 0.5 and r["max_tokens"] == 3 for r in server.requests)
    assert results_file(run_dir / "out")["results"] == {}
    assert all(r["metrics"] == {} for r in samples(run_dir / "out"))


def test_image_task_sends_encoded_images_first(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import base64
    import io

    from PIL import Image

    seen: list[tuple[str, tuple[int, int]]] = []

    def look(body: dict[str, Any]) -> str:
        parts = body["messages"][-1]["content"]
        assert isinstance(parts, list) and parts[0]["type"] == "image_url" and parts[-1]["type"] == "text"
        url = parts[0]["image_url"]["url"]
        header, _, data = url.partition(",")
        image = Image.open(io.BytesIO(base64.b64decode(data)))
        seen.append((header, image.size))
        return "3"

    with FaultServer(answer=look) as server:
        code, _, err = run_cli(capsys, "--model", "openai_compatible",
                           "--model_args", f"model=t,base_url={server.base_url}",
                           "--tasks", "assay_colors", "--limit", "4", "--log_samples",
                           "--output_path", str(run_dir / "out"))
    assert code == 0, err
    assert len(seen) == 4
    assert all(h.startswith("data:image/") and h.endswith(";base64") and size[0] > 0 for h, size in seen)
    rows = samples(run_dir / "out")
    # The sample log names the image but never carries its base64 payload.
    assert all("<image>" in r["arguments"]["messages"][-1]["content"] for r in rows)
    assert all("base64" not in json.dumps(r) for r in rows)


def test_shuffled_docs_keep_their_dataset_ids(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMMS_EVAL_SHUFFLE_DOCS", "on")
    with FaultServer(answer=lambda body: "A") as server:
        code, _, _ = run_cli(capsys, "--model", "openai_compatible",
                             "--model_args", f"model=t,base_url={server.base_url}",
                         "--tasks", TASK, "--limit", "6", "--seed", "11", "--log_samples",
                         "--output_path", str(run_dir / "out"))
    assert code == 0
    rows = samples(run_dir / "out")
    ids = sorted(r["doc_id"] for r in rows)
    assert ids != list(range(6))  # a shuffled selection, not the first six
    # doc_id is the index in the dataset: the built-in docs carry it in their own id field.
    assert all(r["doc"]["id"] == f"arith-{r['doc_id']:03d}" for r in rows)
    assert results_file(run_dir / "out")["config"]["shuffle_docs"] is True


def test_bootstrap_confidence_interval(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FaultServer(answer=lambda body: "B") as server:
        code, _, _ = run_cli(capsys, "--model", "openai_compatible",
                             "--model_args", f"model=t,base_url={server.base_url}",
                         "--tasks", TASK, "--limit", "30", "--bootstrap_iters", "300",
                         "--output_path", str(run_dir / "out"))
    assert code == 0
    metric = results_file(run_dir / "out")["results"][TASK]["metrics"]["mc_accuracy"]
    low, high = metric["ci95"]
    assert 0 <= low <= metric["value"] <= high <= 1 and low < high


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_a_signal_keeps_every_finished_sample(tmp_path: Path, sig: str) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from assay.env.settings import SPECS

    names = {n for spec in SPECS for n in spec.env_names}
    env = {k: v for k, v in os.environ.items() if k not in names}
    env.update(HOME=str(tmp_path), LMMS_EVAL_HOME=str(tmp_path / "home"))
    with FaultServer(answer=lambda body: "A") as server:
        server.queue(*[{}] * 4, *[{"delay": 30}] * 10)
        proc = subprocess.Popen(
            [sys.executable, "-m", "assay", "run", "--model", "openai_compatible",
             "--model_args", f"model=t,base_url={server.base_url},num_concurrent=1", "--tasks", TASK,
             "--limit", "10", "--log_samples", "--output_path", str(tmp_path / "out")],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while server.count <= 4:  # the 5th request is in flight: 4 answers are on disk
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        proc.send_signal(getattr(signal, sig))
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 128 + getattr(signal, sig)  # the shell convention: 130 for SIGINT, 143 for SIGTERM
    assert "Traceback" not in err and "error: interrupted" in err
    assert "4 finished samples kept" in err
    doc = results_file(tmp_path / "out")
    assert doc["status"] == "interrupted"
    assert doc["results"][TASK]["n_completed"] == 4
    assert len(samples(tmp_path / "out")) == 4
