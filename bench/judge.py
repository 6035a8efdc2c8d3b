"""Judged evaluation throughput: `assay run` on N judged samples, model and judge both stubs at 200 ms.

Each sample is one model request and one judge request. Rows, all measured in this run:
  * assay, async scoring (how assay's built-in judged tasks score: the judge call awaited on the loop);
  * assay, an lmms-eval-style helper (synchronous ``process_results`` calling ``lmms_eval.llm_judge``'s
    ``get_server(...).evaluate(...)`` from a worker thread, bridged to the judge on the loop);
  * lmms-eval's way: the judge called one request at a time from ``process_results`` (a bare
    ``requests.post`` loop; measured on a slice, extrapolated to N) — the model answers first, so only the
    judging stage is counted, which flatters it;
  * the floors: N x latency / concurrency per stage, and both stages back to back.

    python bench/judge.py [--n 1000] [--concurrency 200] [--latency-ms 200] [--sequential-sample 25]

Target (issue #9, this 2-core machine): 1,000 judged samples at 200 ms in <= 5 s wall (start-up included).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VERDICT = '{"pred": "yes", "score": 4}'

ASYNC_UTILS = '''
from assay.judge import json_object, judge, score, yes_no

VERDICT = json_object({"pred": yes_no, "score": score(0, 5)})


async def process_results(doc, results):
    outcome = await judge(f"Question: {doc['q']}\\nAnswer: {results[0]}\\nJSON verdict only.", VERDICT)
    return {"accuracy": 1.0 if outcome.ok and outcome.value["pred"] else 0.0}
'''
SYNC_UTILS = '''
from lmms_eval.llm_judge import Request, ServerConfig, get_server

server = get_server("openai", ServerConfig(model_name="bench-judge", max_tokens=32))


def process_results(doc, results):
    response = server.evaluate(Request(messages=[{"role": "user", "content": f"{doc['q']} -> {results[0]}"}]))
    return {"accuracy": 1.0 if "yes" in response.content else 0.0}
'''


def make_task(folder: Path, name: str, n: int, utils: str) -> None:
    task = folder / name
    task.mkdir(parents=True)
    (task / "docs.jsonl").write_text("".join(json.dumps({"q": f"What is {i} + 1?", "a": str(i + 1)}) + "\n"
                                             for i in range(n)))
    (task / "utils.py").write_text(utils)
    (task / f"{name}.yaml").write_text(
        f"task: {name}\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: docs.jsonl\n"
        "test_split: test\ndoc_to_text: \"{{q}}\"\ndoc_to_target: a\n"
        "generation_kwargs:\n  max_new_tokens: 8\n  temperature: 0\n"
        "process_results: !function utils.process_results\n"
        "metric_list:\n  - metric: accuracy\n    aggregation: mean\n    higher_is_better: true\n"
        "metadata:\n  version: 1.0\n  judge_model: bench-judge\n"
    )


def stub(latency_ms: float, answer: str | None = None) -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, str(HERE / "stub_server.py"), "--latency-ms", str(latency_ms)]
    if answer is not None:
        cmd += ["--answer", answer]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, f"http://127.0.0.1:{int(proc.stdout.readline())}/v1"


def run_assay(task: str, tmp: Path, model_url: str, judge_url: str, n: int, c: int) -> tuple[float, dict[str, object]]:
    out = tmp / f"out-{task}"
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update({"LMMS_EVAL_HOME": str(tmp / "home"), "VERBOSITY": "WARNING", "HF_HOME": str(tmp / "hf")})
    cmd = [sys.executable, "-m", "assay", "run", "--model", "openai_compatible",
           "--model_args", f"model=bench,base_url={model_url},num_concurrent={c}",
           "--judge_model", "openai_compatible", "--judge_args", f"model=bench-judge,base_url={judge_url},"
           f"num_concurrent={c}", "--tasks", task, "--include_path", str(tmp / "tasks"), "--output_path", str(out)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"assay run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    document = json.loads(next(out.rglob("*_results.json")).read_text())
    result = document["results"][task]
    assert result["n_judged"] == n and result["metrics"]["accuracy"]["value"] == 1.0, result
    return wall, {**document["judge"], "run_s": document["timing"]["wall_s"]}


def _note(stats: dict[str, object]) -> str:
    return f"{stats['requests']} judge requests; {float(str(stats['run_s'])):.2f} s of it evaluating (after start-up)"


def sequential_judging(judge_url: str, calls: int) -> float:
    """lmms-eval's judging: one blocking request per process_results call, one call after another."""
    import requests

    body = {"model": "bench-judge", "messages": [{"role": "user", "content": "grade"}], "max_tokens": 32}
    start = time.perf_counter()
    with requests.Session() as session:
        for _ in range(calls):
            session.post(f"{judge_url}/chat/completions", json=body, timeout=60).raise_for_status()
    return (time.perf_counter() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--sequential-sample", type=int, default=25, help="judge calls timed for lmms-eval's row")
    args = parser.parse_args()
    n, c, latency = args.n, args.concurrency, args.latency_ms / 1000.0
    rows: list[tuple[str, float, str]] = []
    model, model_url = stub(args.latency_ms)
    judge, judge_url = stub(args.latency_ms, VERDICT)
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            make_task(tmp / "tasks", "bench_judged", n, ASYNC_UTILS)
            make_task(tmp / "tasks", "bench_judged_lmms", n, SYNC_UTILS)
            wall, stats = run_assay("bench_judged", tmp, model_url, judge_url, n, c)
            rows.append(("assay run, async judged scoring", wall, _note(stats)))
            wall, stats = run_assay("bench_judged_lmms", tmp, model_url, judge_url, n, c)
            rows.append(("assay run, lmms-eval helper (judge client, threads)", wall, _note(stats)))
        per_call = sequential_judging(judge_url, args.sequential_sample)
        rows.append(("lmms-eval: judge one request at a time (judging only)", per_call * n,
                     f"{per_call * 1000:.0f} ms/call x {n}, measured on {args.sequential_sample}"))
    finally:
        for proc in (model, judge):
            proc.terminate()
            proc.wait()
    per_stage = n * latency / c
    rows.append((f"floor: one stage, {n} x {latency:g} s / {c}", per_stage, "model or judge alone"))
    rows.append(("floor: stages overlapped (answering while judging)", per_stage + latency,
                 "one stage + the last judgement"))
    rows.append(("floor: both stages back to back per sample", 2 * per_stage, "model then judge, no overlap"))
    print(f"\n{n} judged samples, model and judge at {args.latency_ms:g} ms, concurrency {c} (target: <= 5 s)\n")
    print(f"{'':<58}{'wall s':>9}  note (wall: process start to exit)")
    for label, seconds, note in rows:
        print(f"{label:<58}{seconds:>9.2f}  {note}")


if __name__ == "__main__":
    main()
