"""Dispatch throughput: `assay run` on 1000 multiple-choice questions against a loopback stub.

Prints, for 0 ms and 200 ms of server latency at concurrency 64: wall time (process start to exit),
requests/s, peak RSS and time to first request — for assay with every cloud provider (each speaking its
own vendor's wire format to the stub), and for bare client loops against the same stub (aiohttp, httpx,
and the openai, anthropic and google-genai SDKs), measured in the same run as the floors to compare with.

    python bench/throughput.py [--n 1000] [--concurrency 64] [--latencies 0,200] [--repeat 1]
    python bench/throughput.py --sizes 1000,10000,50000 --latencies 0 --clients "" \
        --providers openai_compatible --baseline-src /tmp/base   # memory flat under load (issue #7)

Targets (issue #3, this 2-core machine): >= 1,500 req/s at 0 ms; 1000 questions at 200 ms in <= 4.5 s
wall start-up included; peak RSS <= 120 MB; first request <= 0.5 s after start. Issue #10: every provider
dispatches >= 1,000 requests/s at 0 ms (the dispatch/s column). Issue #7: a 50,000-doc JSONL task runs
with peak RSS <= 80 MB (docs stream from their file); --baseline-src runs the same command on another
source tree (e.g. `git archive <commit> src | tar -x -C /tmp/base`) for the rows beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent


def make_task(folder: Path, n: int) -> None:
    """An lmms-eval style task of n arithmetic questions read from local JSONL (answer key: 'A')."""
    with (folder / "bench_mc.jsonl").open("w") as f:
        for i in range(n):
            a, b = i % 97, (i * 7) % 89
            f.write(json.dumps({"question": f"What is {a} + {b}?", "A": a + b, "B": a + b + 1, "answer": "A"}) + "\n")
    (folder / "bench_mc.yaml").write_text(
        "task: bench_mc\n"
        "dataset_path: json\n"
        "dataset_kwargs:\n  data_files:\n    test: bench_mc.jsonl\n"
        "test_split: test\n"
        "output_type: generate_until\n"
        'doc_to_text: "{{question}}\\nA. {{A}}\\nB. {{B}}\\nAnswer with the option letter."\n'
        "doc_to_target: answer\n"
        "generation_kwargs:\n  max_new_tokens: 8\n  temperature: 0\n"
        "metric_list:\n  - metric: exact_match\n    aggregation: mean\n    higher_is_better: true\n"
    )


#: --model_args (besides model= and num_concurrent=) that point each provider at the stub: ``{url}`` is the
#: OpenAI-style root (…/v1), ``{root}`` the server root, each as the vendor's own SDK means base_url.
PROVIDER_ARGS = {
    "openai_compatible": "base_url={url}",
    "azure_openai": "endpoint={root}",
    "anthropic": "base_url={root}",
    "gemini": "base_url={root}",
    "xai": "base_url={url}",
    "reka": "base_url={url}",
}
#: Stand-in keys (the stub checks none); real keys are removed from the environment first.
BENCH_KEYS = {"OPENAI_API_KEY": "bench", "AZURE_API_KEY": "bench", "ANTHROPIC_API_KEY": "bench",
              "GOOGLE_API_KEY": "bench", "XAI_API_KEY": "bench", "REKA_API_KEY": "bench"}
_SDK_MODULES = {"openai": "openai", "anthropic": "anthropic", "genai": "google.genai"}


def _available(client: str) -> bool:
    import importlib.util

    module = _SDK_MODULES.get(client)
    try:
        found = module is None or importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        print(f"(skipping the {client} floor: {module} is not installed)", file=sys.stderr)
    return found


def _popen_with_rss(cmd: list[str], env: dict[str, str] | None) -> tuple[float, float, float, str]:
    """(start wall-clock, wall seconds, peak RSS MB, stdout) using wait4 for the child's own rusage."""
    start_wall, start = time.time(), time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{err[-3000:]}")
    return start_wall, wall, usage.ru_maxrss / 1024.0, out


def stub_stats(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats") as resp:
        data: dict[str, float] = json.loads(resp.read())
        return data


def stub_reset(port: int) -> None:
    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/reset", method="POST")).read()


def _candidates(args: argparse.Namespace, n: int, port: int, task_dir: Path, out: Path,
                env: dict[str, str]) -> list[tuple[str, list[str], dict[str, str]]]:
    """(row name, command, environment): the floors, `assay run` per provider, and the baseline source tree."""
    py, url, root = sys.executable, f"http://127.0.0.1:{port}/v1", f"http://127.0.0.1:{port}"
    rows = [(f"floor: bare {c} loop", [py, str(HERE / "floors.py"), c, url, str(n), str(args.concurrency)], env)
            for c in args.clients.split(",") if c and _available(c)]
    for provider in (p for p in args.providers.split(",") if p):
        cmd = [py, "-m", "assay", "run", "--model", provider,
               "--model_args", f"model=bench,{PROVIDER_ARGS[provider].format(url=url, root=root)},"
                               f"num_concurrent={args.concurrency}",
               "--tasks", args.task, "--include_path", str(task_dir), "--output_path", str(out),
               "--limit", str(n), "--log_samples"]
        rows.append((f"assay run {provider}", cmd, env))
        if args.baseline_src:
            base_env = {**env, "PYTHONPATH": str(Path(args.baseline_src).resolve() / "src")}
            rows.append((f"{provider} ({args.baseline_name})", cmd, base_env))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--sizes", default=None,
                        help="comma-separated doc counts, one set of rows each (default: --n), e.g. 1000,10000,50000")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latencies", default="0,200")
    parser.add_argument("--repeat", type=int, default=1, help="runs per row; the best wall time is kept")
    parser.add_argument("--clients", default="aiohttp,httpx,openai,anthropic,genai",
                        help="bare loops to measure as floors (SDKs: openai, anthropic, genai; skipped if absent)")
    parser.add_argument("--providers", default=",".join(PROVIDER_ARGS),
                        help="providers to run `assay run` with, each against its own wire format on the stub")
    parser.add_argument("--task", default="bench_mc",
                        help="task to run (default: the generated text questions); e.g. assay_colors for images")
    parser.add_argument("--baseline-src", default=None, metavar="DIR",
                        help="also run assay from this source tree (a folder holding src/assay), as the baseline")
    parser.add_argument("--baseline-name", default="baseline", help="how the baseline rows are labelled")
    args = parser.parse_args()
    sizes = [int(x) for x in (args.sizes or str(args.n)).split(",")]
    py = sys.executable
    rows: list[tuple[str, int, int, float, float, float, float, float | None]] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
        env.update({"LMMS_EVAL_HOME": str(tmp / "home"), "VERBOSITY": "WARNING"})
        env.update(BENCH_KEYS)
        for n in sizes:
            task_dir = tmp / f"task_{n}"
            task_dir.mkdir()
            make_task(task_dir, n)
            for latency in (float(x) for x in args.latencies.split(",")):
                stub = subprocess.Popen([py, str(HERE / "stub_server.py"), "--latency-ms", str(latency)],
                                        stdout=subprocess.PIPE, text=True)
                assert stub.stdout is not None
                port = int(stub.stdout.readline())
                try:
                    for name, cmd, cmd_env in _candidates(args, n, port, task_dir, tmp / "out", env):
                        rows.append((name, n, int(latency), *_measure(name, cmd, cmd_env, port, n, args.repeat)))
                finally:
                    stub.terminate()
                    stub.wait()
    python = sys.version.split()[0]
    print(f"\nconcurrency {args.concurrency}, {os.cpu_count()} cores, Python {python}")
    print(f"{'client':<34} {'docs':>6} {'latency':>8} {'wall s':>7} {'req/s':>7} {'dispatch/s':>11} "
          f"{'peak RSS MB':>12} {'1st req s':>10}")
    for name, n, latency, wall, rps, dispatch, rss, ttfr in rows:
        ttfr_text = f"{ttfr:.3f}" if ttfr is not None else "—"
        print(f"{name:<34} {n:>6} {latency:>6}ms {wall:>7.2f} {rps:>7.0f} {dispatch:>11.0f} {rss:>12.1f} "
              f"{ttfr_text:>10}")
    print("wall and req/s: process start to exit; dispatch/s: first request to last answer.")
    print("Floors are bare loops: no tasks, prompts, scoring, retries or files.")


def _measure(name: str, cmd: list[str], env: dict[str, str], port: int, n: int,
             repeat: int) -> tuple[float, float, float, float, float | None]:
    """(wall s, req/s, dispatch/s, peak RSS MB, time to first request): the best of ``repeat`` runs."""
    best: tuple[float, float, float, float | None] | None = None
    for _ in range(repeat):
        stub_reset(port)
        start_wall, wall, rss, _ = _popen_with_rss(cmd, env)
        stats = stub_stats(port)
        if int(stats["count"]) != n:
            raise SystemExit(f"{name}: stub saw {stats['count']} requests, expected {n}")
        first, last = stats["first_request_at"], stats["last_answer_at"]
        ttfr = (first - start_wall) if first else None
        # Dispatch rate: first request to last answer, without process start-up.
        dispatch = n / (last - first) if first and last and last > first else float("nan")
        if best is None or wall < best[0]:
            best = (wall, dispatch, rss, ttfr)
    assert best is not None
    return best[0], n / best[0], best[1], best[2], best[3]


if __name__ == "__main__":
    main()
