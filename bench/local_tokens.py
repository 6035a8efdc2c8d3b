"""Decode speed of the embedded model (SmolLM2-135M via llama.cpp) by thread count and OpenMP wait policy,
on an idle machine and with the other core busy — the choice behind the local provider's default.

    python bench/local_tokens.py [--tokens 128] [--prompts 3]

Each row runs in a fresh process (OMP_WAIT_POLICY is read when llama.cpp loads). Baseline: 1 thread,
default policy (assay's default).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import json, sys, time
from llama_cpp import Llama
from assay.providers.local import default_model_path
threads, tokens, prompts = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
llm = Llama(model_path=str(default_model_path()), n_ctx=2048, n_threads=threads, verbose=False, seed=0)
llm.create_chat_completion(messages=[{"role": "user", "content": "hi"}], max_tokens=4)
start, produced = time.perf_counter(), 0
for i in range(prompts):
    out = llm.create_chat_completion(
        messages=[{"role": "user", "content": f"Write a long story about a dragon number {i}."}],
        max_tokens=tokens, temperature=0)
    produced += out["usage"]["completion_tokens"]
print(json.dumps({"tok_s": produced / (time.perf_counter() - start)}))
"""


def measure(threads: int, policy: str | None, busy: bool, tokens: int, prompts: int) -> float:
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    try:
        out = subprocess.run([sys.executable, "-c", CHILD, str(threads), str(tokens), str(prompts)],
                             env=env, capture_output=True, text=True, check=True).stdout
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
    return float(json.loads(out.strip().splitlines()[-1])["tok_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--prompts", type=int, default=3)
    args = parser.parse_args()
    rows = [(t, p) for t in (1, 2) for p in (None, "PASSIVE")]
    results = {(t, p, busy): measure(t, p, busy, args.tokens, args.prompts)
               for t, p in rows for busy in (False, True)}
    base_idle, base_busy = results[(1, None, False)], results[(1, None, True)]
    print(f"\nSmolLM2-135M decode speed, {os.cpu_count()} cores ({args.prompts} prompts x {args.tokens} tokens)")
    header = f"{'threads':>7} {'OMP_WAIT_POLICY':>16} {'idle tok/s':>11} {'vs base':>8}"
    print(header + f" {'busy core tok/s':>16} {'vs base':>8}")
    for t, p in rows:
        idle, busy = results[(t, p, False)], results[(t, p, True)]
        label = "(default)" if p is None else p
        print(f"{t:>7} {label:>16} {idle:>11.1f} {idle / base_idle:>7.2f}x {busy:>16.1f} {busy / base_busy:>7.2f}x")
    print("baseline: 1 thread, default policy (assay's default)")


if __name__ == "__main__":
    main()
