"""Dispatch throughput: `assay run` on N multiple-choice questions against a loopback stub, beside floors.

Prints, per doc count and server latency at concurrency 64: wall time (process start to exit), CPU time
(user + system of the process), CPU per request, requests/s and its ratio to the bare aiohttp loop measured
in the same run, dispatch/s (first request to last answer), the time outside that request window (start-up
and finish), peak RSS and time to first request — for assay with every cloud provider (each speaking its
own vendor's wire format to the stub), for bare client loops against the same stub (aiohttp, httpx, and
the openai, anthropic and google-genai SDKs), and for assay from another source tree (--baseline-src).
Rounds are interleaved (every row once, then again) and each figure is the median over the rounds; the
1-minute load average at the start of each row's runs is printed beside it (the machine is shared).

    python bench/throughput.py [--n 1000] [--concurrency 64] [--latencies 0,200] [--repeat 3]
    git worktree add /tmp/base <commit>     # the previous commit, as the baseline
    python bench/throughput.py --sizes 1000,10000 --latencies 0,200 --clients aiohttp,aiohttp-uvloop \
        --providers openai_compatible --baseline-src /tmp/base --repeat 3     # issue #18's table

`assay run` goes on uvloop's event loop when uvloop is installed (assay.run.eventloop). The floor every
ratio is taken against stays issue #18's, the bare aiohttp loop on asyncio's event loop; the
``aiohttp-uvloop`` client is the same loop on uvloop, as a row of its own (its ratio beside it).

Targets (issue #18, 2 shared cores): at 10,000 questions, 0 ms, samples logged: CPU per request <= 0.5 ms,
requests/s >= 0.7x the bare aiohttp loop, peak RSS <= 60 MB; at 1,000 questions the time outside the
request window <= 0.6 s; at 200 ms latency, wall within 1.05x the floor loop. Earlier: issue #3 (>= 1,500
req/s), #10 (every provider >= 1,000 dispatch/s), #7 (50,000 docs at <= 80 MB: --sizes 50000).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
FLOOR = "floor: bare aiohttp loop"


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
_SDK_MODULES = {"openai": "openai", "anthropic": "anthropic", "genai": "google.genai", "aiohttp-uvloop": "uvloop"}


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


@dataclass
class Measured:
    """One run of one command; ``load`` is the 1-minute load average when it started."""

    wall: float
    cpu: float
    rss_mb: float
    first: float | None  # seconds from process start to the first request the stub saw
    window: float | None  # first request to last answer
    load: float


def _run_once(cmd: list[str], env: dict[str, str], port: int, n: int, name: str) -> Measured:
    """Run ``cmd`` once; wait4 gives the child's own CPU time and peak RSS."""
    stub_reset(port)
    load = os.getloadavg()[0]
    with tempfile.TemporaryFile() as err:
        start_wall, start = time.time(), time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{err.read()[-3000:].decode()}")
    stats = stub_stats(port)
    if int(stats["count"]) != n:
        raise SystemExit(f"{name}: stub saw {stats['count']} requests, expected {n}")
    first, last = stats["first_request_at"], stats["last_answer_at"]
    return Measured(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0,
                    (first - start_wall) if first else None, (last - first) if first and last else None, load)


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _row(name: str, n: int, latency: int, runs: list[Measured], floor: list[Measured] | None) -> str:
    wall = statistics.median(r.wall for r in runs)
    cpu = statistics.median(r.cpu for r in runs)
    window = _median([r.window for r in runs])
    outside = _median([r.wall - r.window if r.window else None for r in runs])
    first = _median([r.first for r in runs])
    rss = statistics.median(r.rss_mb for r in runs)
    ratio = (n / wall) / (n / statistics.median(r.wall for r in floor)) if floor else None
    cells = [f"{name:<34}", f"{n:>6}", f"{latency:>5}ms", f"{wall:>7.2f}", f"{cpu:>6.2f}", f"{cpu / n * 1000:>7.3f}",
             f"{n / wall:>7.0f}", f"{ratio:>6.2f}x" if ratio else f"{'—':>7}",
             f"{n / window:>9.0f}" if window else f"{'—':>9}",
             f"{outside:>8.2f}" if outside is not None else f"{'—':>8}",
             f"{rss:>7.1f}", f"{first:>8.3f}" if first is not None else f"{'—':>8}",
             " ".join(f"{r.load:.1f}" for r in runs)]
    return " ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--sizes", default=None,
                        help="comma-separated doc counts, one set of rows each (default: --n), e.g. 1000,10000,50000")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latencies", default="0,200")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds; each figure is their median")
    parser.add_argument("--clients", default="aiohttp,aiohttp-uvloop,httpx,openai,anthropic,genai",
                        help="bare loops to measure as floors (aiohttp-uvloop: the aiohttp loop on uvloop; SDKs: "
                             "openai, anthropic, genai; skipped if absent)")
    parser.add_argument("--providers", default=",".join(PROVIDER_ARGS),
                        help="providers to run `assay run` with, each against its own wire format on the stub")
    parser.add_argument("--task", default="bench_mc",
                        help="task to run (default: the generated text questions); e.g. assay_colors for images")
    parser.add_argument("--baseline-src", default=None, metavar="DIR",
                        help="also run assay from this source tree (a folder holding src/assay), as the baseline")
    parser.add_argument("--baseline-name", default="baseline", help="how the baseline rows are labelled")
    args = parser.parse_args()
    sizes = [int(x) for x in (args.sizes or str(args.n)).split(",")]
    lines: list[str] = []
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
                lines.extend(_measure_set(args, n, latency, task_dir, tmp, env))
    print(f"\nconcurrency {args.concurrency}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"medians of {args.repeat} interleaved rounds")
    print(f"{'client':<34} {'docs':>6} {'latency':>7} {'wall s':>7} {'CPU s':>6} {'CPU/req':>7} {'req/s':>7} "
          f"{'/floor':>7} {'dispatch/s':>9} {'outside':>8} {'RSS MB':>7} {'1st req':>8} load (per round)")
    print("\n".join(lines))
    print("wall, req/s: process start to exit; CPU/req in ms; /floor: req/s against the bare aiohttp loop of the "
          "same run;\ndispatch/s: first request to last answer; outside: wall minus that window (start-up, finish).")


def _measure_set(args: argparse.Namespace, n: int, latency: float, task_dir: Path, tmp: Path,
                 env: dict[str, str]) -> list[str]:
    """Every row for one doc count and latency: one stub, rounds interleaved."""
    py = sys.executable
    stub = subprocess.Popen([py, str(HERE / "stub_server.py"), "--latency-ms", str(latency)],
                            stdout=subprocess.PIPE, text=True)
    assert stub.stdout is not None
    port = int(stub.stdout.readline())
    try:
        candidates = _candidates(args, n, port, task_dir, tmp / "out", env)
        runs: dict[str, list[Measured]] = {name: [] for name, _, _ in candidates}
        for _ in range(args.repeat):
            for name, cmd, cmd_env in candidates:
                runs[name].append(_run_once(cmd, cmd_env, port, n, name))
    finally:
        stub.terminate()
        stub.wait()
    floor = runs.get(FLOOR)
    return [_row(name, n, int(latency), measured, floor) for name, measured in runs.items()]


if __name__ == "__main__":
    main()
