"""Decode speed of the embedded model (SmolLM2-135M Q4_1) by backend and thread count, on an idle machine
and with the other core busy — the choice behind the local provider's defaults (xllamacpp, 1 thread).

    python bench/local_tokens.py [--tokens 128] [--prompts 3] [--repeats 3]
                                 [--llama-cpp-python /path/to/venv/bin/python]

Rows for xllamacpp go through assay's own `local` provider (what `--model local` runs). With
``--llama-cpp-python PYTHON`` — an interpreter whose environment has llama-cpp-python (it compiles for
~10 min, so it is not an assay dependency any more) — rows for the previous backend are measured in the
same run, called as the provider used to call it. Every figure is the median of ``--repeats`` fresh
processes, backends alternating. Baseline: llama-cpp-python, 1 thread (the previous default), measured in
this run when given, else the figure recorded on this machine before the switch.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

#: llama-cpp-python 0.3.x (README flags), 1 thread, idle machine: recorded before the switch.
RECORDED_BASELINE_TOK_S = 130.0

PROMPT = "Write a long story about a dragon number {i}."

XLLAMACPP_CHILD = r"""
import asyncio, json, resource, sys, time
from assay.providers.local import LocalProvider
from assay.env.settings import load_settings
from assay.types import GenerationParams, Message, Request
threads, tokens, prompts, prompt = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[5]
provider = LocalProvider(load_settings(environ={}, discover_dotenv=False), {"n_threads": threads})

async def main():
    start = time.perf_counter()
    await provider.generate(Request((Message.user("hi"),), GenerationParams(max_tokens=1)))
    load = time.perf_counter() - start
    start, produced = time.perf_counter(), 0
    for i in range(prompts):
        request = Request((Message.user(prompt.format(i=i)),), GenerationParams(max_tokens=tokens))
        produced += (await provider.generate(request)).usage.output_tokens
    elapsed = time.perf_counter() - start
    await provider.aclose()
    return load, produced / elapsed

load, tok_s = asyncio.run(main())
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"load_s": load, "tok_s": tok_s, "rss_mb": rss_mb}))
"""

LLAMA_CPP_CHILD = r"""
import json, resource, sys, time
from llama_cpp import Llama
threads, tokens, prompts, path, prompt = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
start = time.perf_counter()
llm = Llama(model_path=path, n_ctx=2048, n_threads=threads, verbose=False, seed=0)
llm.create_chat_completion(messages=[{"role": "user", "content": "hi"}], max_tokens=1)
load = time.perf_counter() - start
start, produced = time.perf_counter(), 0
for i in range(prompts):
    out = llm.create_chat_completion(messages=[{"role": "user", "content": prompt.format(i=i)}],
                                     max_tokens=tokens, temperature=0.0, top_p=1.0, seed=0)
    produced += out["usage"]["completion_tokens"]
elapsed = time.perf_counter() - start
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"load_s": load, "tok_s": produced / elapsed, "rss_mb": rss_mb}))
"""


def measure(python: str, child: str, threads: int, busy: bool, args: argparse.Namespace,
            model: Path) -> dict[str, float]:
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    try:
        out = subprocess.run([python, "-c", child, str(threads), str(args.tokens), str(args.prompts), str(model),
                              PROMPT], capture_output=True, text=True, check=True).stdout
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--prompts", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--llama-cpp-python", metavar="PYTHON", help="an interpreter with llama-cpp-python")
    args = parser.parse_args()
    from assay.providers.local import _binding_version, default_model_path

    model = default_model_path()
    backends = [(f"xllamacpp {_binding_version()}", sys.executable, XLLAMACPP_CHILD)]
    if args.llama_cpp_python:
        probe = [args.llama_cpp_python, "-c", "import importlib.metadata as m; print(m.version('llama-cpp-python'))"]
        old_version = subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip()
        backends.append((f"llama-cpp-python {old_version}", args.llama_cpp_python, LLAMA_CPP_CHILD))
    rows = [(name, threads) for name, _, _ in backends for threads in (1, 2)]
    load_before = os.getloadavg()[0]
    runs: dict[tuple[str, int, bool], list[dict[str, float]]] = {}
    for _ in range(args.repeats):  # backends alternate within each repeat, so drift hits them alike
        for threads in (1, 2):
            for busy in (False, True):
                for name, python, child in backends:
                    runs.setdefault((name, threads, busy), []).append(
                        measure(python, child, threads, busy, args, model))

    def median(name: str, threads: int, busy: bool, key: str) -> float:
        return statistics.median(r[key] for r in runs[(name, threads, busy)])

    old = next((name for name, _, _ in backends if name.startswith("llama-cpp-python")), None)
    base_idle = median(old, 1, False, "tok_s") if old else RECORDED_BASELINE_TOK_S
    base_busy = median(old, 1, True, "tok_s") if old else None
    print(f"\nSmolLM2-135M decode speed, {os.cpu_count()} cores, {model.name} "
          f"({args.prompts} prompts x {args.tokens} tokens, greedy; median of {args.repeats} fresh processes; "
          f"1-min load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after)")
    print(f"{'backend':>26} {'threads':>7} {'load s':>7} {'idle tok/s':>11} {'vs base':>8} "
          f"{'busy core tok/s':>16} {'vs base':>8} {'peak RSS MB':>12}")
    for name, threads in rows:
        idle, busy = median(name, threads, False, "tok_s"), median(name, threads, True, "tok_s")
        busy_ratio = f"{busy / base_busy:>7.2f}x" if base_busy else f"{'-':>8}"
        print(f"{name:>26} {threads:>7} {median(name, threads, False, 'load_s'):>7.2f} {idle:>11.1f} "
              f"{idle / base_idle:>7.2f}x {busy:>16.1f} {busy_ratio} {median(name, threads, False, 'rss_mb'):>12.0f}")
    if old:
        print(f"baseline: {old}, 1 thread (the previous default), measured above")
    else:
        print(f"baseline: llama-cpp-python, 1 thread, idle = {RECORDED_BASELINE_TOK_S:.0f} tok/s, recorded on this "
              "machine before the switch (pass --llama-cpp-python to measure it side by side)")
    print(f"recorded before the switch: llama-cpp-python, 1 thread, idle: {RECORDED_BASELINE_TOK_S:.0f} tok/s")


if __name__ == "__main__":
    main()
