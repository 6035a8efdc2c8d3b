"""On a 2-node cluster (tests/test_ray.py starts it): the same results as a local run for a built-in task,
an lmms-eval image task with a judge and a video task with a judge; a cached rerun sends nothing; Ctrl-C
ends the cluster's work and keeps the results; no secret ends up anywhere Ray keeps things."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fault_server import FaultServer
from tests.helpers import write
from tests.ray_inner.support import ADDRESS, SECRETS, TEMP, assay, assert_same_run, env, pick, results, rows

#: A key given in --model_args is a secret too (the redactor learns it from the arguments); not shaped like a
#: vendor key, so only that registration can mask it.
ARGS_SECRET = "plainModelArgsSecret7e6d5c4b3a29"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("user")


def both(home: Path, name: str, *args: str, **extra: str) -> tuple[Path, Path]:
    """The same command locally and with --ray; both must succeed."""
    local, cluster = home / f"{name}-local", home / f"{name}-ray"
    for out, more in ((local, ()), (cluster, ("--ray", ADDRESS))):
        done = assay(home, *args, "--output_path", str(out), "--log_samples", *more, **extra)
        assert done.returncode == 0, done.stderr[-3000:]
    return local, cluster


def test_builtin_task_with_limit_shuffle_and_fewshot(home: Path) -> None:
    with FaultServer(lambda body: pick(body, "ABCD")) as model:
        local, cluster = both(home, "arith", "--model", "openai_compatible", "--model_args",
                              f"model=m,base_url={model.base_url},num_concurrent=4", "--tasks", "assay_arith_mc",
                              "--limit", "24", "--seed", "7", "--num_fewshot", "2", LMMS_EVAL_SHUFFLE_DOCS="1")
    assert_same_run(local, cluster, ["assay_arith_mc"])
    ran = rows(cluster, "assay_arith_mc")
    assert len(ran) == 24 and sorted(r["doc_id"] for r in ran) != list(range(24))  # shuffled by the seed
    prompt = ran[0]["arguments"]["messages"][-1]["content"]
    assert prompt.count("What is") == 3  # two few-shot examples, then the question
    assert len(list(cluster.rglob("*_results.json"))) == 1
    assert results(cluster)["results"]["assay_arith_mc"]["metrics"]["exact_match"]["value"] is not None


def _mmvet(home: Path) -> Path:
    from PIL import Image

    from tests.conftest import SHARED_TREES

    tree = next((t for t in SHARED_TREES if t.is_dir()), None)
    if tree is None:
        pytest.skip("lmms-eval's task tree is not available")
    folder = home / "tasks" / "mmvet"
    (folder / "images").mkdir(parents=True, exist_ok=True)
    rows_ = [{"file_name": f"v{i}.png", "question_id": f"v{i}", "question": f"What is in picture {i}?",
              "answer": "red", "capability": "rec"} for i in range(6)]
    for i, row in enumerate(rows_):
        Image.new("RGB", (32, 32), (40 * i, 30, 30)).save(folder / "images" / row["file_name"])
    (folder / "images" / "metadata.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows_))
    write(folder, "mmvet_local.yaml", f"include: {tree / 'mmvet' / 'mmvet.yaml'}\ntask: mmvet_local\n"
          f"dataset_path: imagefolder\ndataset_kwargs:\n  data_dir: {folder / 'images'}\ntest_split: train\n")
    return home / "tasks"


def test_lmms_eval_image_task_with_a_judge(home: Path) -> None:
    tasks = _mmvet(home)
    with FaultServer(lambda body: "It is " + pick(body, ["red", "blue", "a cat"])) as model, \
            FaultServer(lambda body: pick(body, ["0.0", "0.5", "1.0"])) as judge:
        local, cluster = both(home, "mmvet", "--model", "openai_compatible", "--model_args",
                              f"model=m,base_url={model.base_url}", "--tasks", "mmvet_local", "--include_path",
                              str(tasks), "--judge_model", "openai_compatible", "--judge_args",
                              f"model=judge-m,base_url={judge.base_url}")
        assert judge.count == 2 * 6
    assert_same_run(local, cluster, ["mmvet_local"])
    assert results(cluster)["results"]["mmvet_local"]["n_judged"] == 6


def test_video_task_with_a_judge(home: Path) -> None:
    def grade(body: dict[str, Any]) -> str:
        return json.dumps({"pred": pick(body, ["yes", "no"]), "score": int(pick(body, "012345"))})

    with FaultServer(lambda body: pick(body, ["left", "right", "up"])) as model, FaultServer(grade) as judge:
        local, cluster = both(home, "video", "--model", "openai_compatible", "--model_args",
                              f"model=m,base_url={model.base_url},api_key={ARGS_SECRET}", "--tasks",
                              "assay_video_qa", "--limit", "10", "--judge_model", "openai_compatible",
                              "--judge_args", f"model=judge-m,base_url={judge.base_url}", "--verbosity", "DEBUG")
    assert_same_run(local, cluster, ["assay_video_qa"])
    assert rows(cluster, "assay_video_qa")[0]["arguments"]["messages"][-1]["content"].startswith("<video")


def test_concurrency_and_the_cost_cap_are_the_clusters(home: Path) -> None:
    with FaultServer(lambda body: "A") as model:
        model.latency = 0.05
        done = assay(home, "--model", "openai_compatible", "--model_args",
                     f"model=m,base_url={model.base_url},num_concurrent=3", "--tasks", "assay_arith_mc", "--limit",
                     "60", "--output_path", str(home / "limits"), "--ray", ADDRESS)
        assert done.returncode == 0, done.stderr[-2000:]
        assert 2 <= model.max_in_flight <= 3  # both workers sent, never more than 3 at once between them
    stats = results(home / "limits")["model_stats"]
    assert stats["requests"] == 60 and stats["retries"] == 0  # the workers' counters, added up by the driver
    with FaultServer(lambda body: "A") as model:
        # The prompts are estimated far under the cap (so the run starts), but every answer bills 5,000 input
        # tokens: $0.005003 at $1 per 1M tokens, so the $0.03 cap is reached mid-run, after 5 or 6 answers.
        model.sticky = {"usage": {"prompt_tokens": 5000, "completion_tokens": 3, "total_tokens": 5003}}
        done = assay(home, "--model", "openai_compatible", "--model_args",
                     f"model=m,base_url={model.base_url},num_concurrent=3,input_price=1,output_price=1",
                     "--tasks", "assay_arith_mc", "--limit", "60", "--max_cost", "0.03", "--output_path",
                     str(home / "capped"), "--ray", ADDRESS)
        paid = model.count
    assert done.returncode == 1 and "cost cap reached" in done.stderr, done.stderr[-2000:]
    document = results(home / "capped")
    assert document["status"] == "aborted"
    assert 5 <= paid <= 6 + 3 and document["cost"]["total_usd"] <= 0.03 + 3 * 0.005003 + 1e-9
    assert document["cost"]["total_usd"] == pytest.approx(paid * 0.005003)


def test_a_cached_rerun_on_the_cluster_sends_nothing(home: Path) -> None:
    with FaultServer(lambda body: pick(body, "ABCD")) as model:
        args = ("--model", "openai_compatible", "--model_args", f"model=m,base_url={model.base_url}",
                "--tasks", "assay_arith_mc", "--limit", "40", "--use_cache", "--ray", ADDRESS)
        first = assay(home, *args, "--output_path", str(home / "cache-1"))
        assert first.returncode == 0, first.stderr[-2000:]
        assert model.count == 40
        again = assay(home, *args, "--output_path", str(home / "cache-2"))
        assert again.returncode == 0, again.stderr[-2000:]
        local = assay(home, *args[:-2], "--output_path", str(home / "cache-3"))  # the same LMMS_EVAL_HOME
        assert local.returncode == 0, local.stderr[-2000:]
        assert model.count == 40
    assert results(home / "cache-2")["results"]["assay_arith_mc"]["n_cached"] == 40


def test_ctrl_c_ends_the_cluster_work_and_keeps_the_results(home: Path) -> None:
    out = home / "stopped"
    with FaultServer(lambda body: "A") as model:
        model.latency = 0.3
        proc = subprocess.Popen([sys.executable, "-m", "assay", "run", "--model", "openai_compatible",
                                 "--model_args", f"model=m,base_url={model.base_url},num_concurrent=4",
                                 "--tasks", "assay_arith_mc", "--output_path", str(out), "--log_samples",
                                 "--ray", ADDRESS], env=env(home), cwd=home, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not _lines(out) >= 8:
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, err[-2000:]
        sent = model.count
        time.sleep(1.5)
        assert model.count == sent  # nothing more is sent once the driver has stopped
    document = results(out)
    assert document["status"] == "interrupted"
    written = rows(out, "assay_arith_mc")
    assert 8 <= len(written) < 300 and document["results"]["assay_arith_mc"]["n_completed"] == len(written)
    assert "Traceback" not in err


def test_a_sweep_runs_each_model_with_its_own_results(home: Path) -> None:
    out = home / "sweep"
    with FaultServer(lambda body: pick(body, "ABCD")) as model:
        runs = [{"model": "openai_compatible", "tasks": task, "limit": 20, "output_path": str(out),
                 "log_samples": True, "model_args": f"model={name},base_url={model.base_url}"}
                for name, task in (("m1", "assay_arith_mc"), ("m2", "assay_arith_mc"), ("m3", "no_such_task"))]
        script = f"import assay\nouts = assay.sweep({runs!r}, ray={ADDRESS!r})\n" \
                 "print([type(o).__name__ for o in outs])"
        done = subprocess.run([sys.executable, "-c", script], env=env(home), cwd=home, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        asked = sorted(body["model"] for body in model.requests)
    assert done.stdout.strip().splitlines()[-1] == "['EvaluationResult', 'EvaluationResult', 'TaskError']"
    assert asked == ["m1"] * 20 + ["m2"] * 20
    for name in ("m1", "m2"):
        assert len(rows(out / name, "assay_arith_mc")) == 20
        assert results(out / name)["model"]["name"] == name


def test_a_config_list_with_ray_runs_every_run_on_the_cluster(home: Path) -> None:
    out = home / "config-list"
    with FaultServer(lambda body: pick(body, "ABCD")) as model:
        runs = "".join(f"- model: openai_compatible\n  model_args: model={name},base_url={model.base_url}\n"
                       f"  tasks: assay_arith_mc\n  limit: 10\n" for name in ("c1", "c2"))
        (home / "runs.yaml").write_text(runs)
        done = assay(home, "--config", str(home / "runs.yaml"), "--output_path", str(out), "--log_samples",
                     "--ray", ADDRESS)
        assert done.returncode == 0, done.stderr[-3000:]
        assert sorted(body["model"] for body in model.requests) == ["c1"] * 10 + ["c2"] * 10
    assert "ok  run 1 of 2" in done.stderr and "ok  run 2 of 2" in done.stderr
    assert done.stdout.count("exact_match") == 2  # each run's table
    for name in ("c1", "c2"):
        assert results(out / name)["status"] == "complete" and len(rows(out / name, "assay_arith_mc")) == 10


def _lines(out: Path) -> int:
    files = list(out.rglob("*_samples_*.jsonl"))
    return len(files[0].read_text().splitlines()) if files else 0


def _state_dump() -> str:
    """What the GCS serves the state API (`ray list actors/jobs/tasks --detail`): actors, jobs, task events."""
    script = f"""
import ray
from ray._private import state
ray.init(address="{ADDRESS}", logging_level="ERROR")
parts = [state.actors(), state.jobs(), state.state._get_all_task_events()]
print(repr(parts))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ShardWorker" in done.stdout  # the dump holds what the runs above did
    return done.stdout


def test_no_secret_in_rays_session_folder_or_state() -> None:
    """After every run above: Ray's logs, spill and session files, and its state, hold no credential."""
    secrets = [*SECRETS.values(), ARGS_SECRET]
    found = []
    for path in TEMP.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                data = path.read_bytes()
            except OSError:
                continue  # a socket
            found += [f"{name} in {path}" for name in secrets if name.encode() in data]
    state = _state_dump()
    found += [f"{name} in the state API" for name in secrets if name in state]
    assert not found, found
    assert list(TEMP.rglob("*.log")) or list(TEMP.rglob("*.out")), "no Ray log was scanned"
