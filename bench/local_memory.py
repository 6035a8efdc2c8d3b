"""Memory of the embedded model over many distinct prompts: does RSS stay flat?

    python bench/local_memory.py [--prompts 300] [--every 50] [--max-tokens 8]

Each configuration runs in a fresh process through assay's `local` provider (SmolLM2-135M, 1 thread) and
sends ``--prompts`` distinct prompts, printing the process's resident memory (RSS, from /proc) after
loading and every ``--every`` prompts. Configurations:

- assay: the provider as shipped (host-RAM prompt cache off, every prompt evaluated in full);
- RAM cache on: the same, with xllamacpp's default ``cache_ram_mib=8192`` (baseline);
- binding defaults: RAM cache on and prefix reuse on (``cache_prompt``), i.e. xllamacpp as it comes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import asyncio, json, sys
from typing import Any
from assay.providers.local import LocalProvider
from assay.env.settings import load_settings
from assay.types import GenerationParams, Message, Request

variant, prompts, every, max_tokens = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
SUBJECTS = ["dragons", "rivers", "bread", "comets", "violins", "glaciers", "owls", "bridges", "tea", "maps"]


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * 4096 / 2**20


class PrefixReuse:
    # The server with each request's cache_prompt switched back on (the binding's default).
    def __init__(self, server: Any) -> None:
        self.server = server
        self.listening_address = server.listening_address

    def handle_chat_completions(self, body: dict) -> dict:
        return self.server.handle_chat_completions({**body, "cache_prompt": True})


class Variant(LocalProvider):
    def _params(self) -> Any:
        params = super()._params()
        if variant != "assay":
            params.cache_ram_mib = 8192
        return params

    def _load(self) -> Any:
        server = super()._load()
        return PrefixReuse(server) if variant == "binding" and not isinstance(server, PrefixReuse) else server


async def main() -> list[tuple[int, float]]:
    provider = Variant(load_settings(environ={}, discover_dotenv=False), {})
    await provider.generate(Request((Message.user("hi"),), GenerationParams(max_tokens=1)))
    points = [(0, rss_mb())]
    for i in range(1, prompts + 1):
        text = (f"Prompt {i}: in {3 + i % 5} sentences, tell me something surprising about "
                f"{SUBJECTS[i % len(SUBJECTS)]} and the number {i * 7919 % 1000}.")
        await provider.generate(Request((Message.user(text),), GenerationParams(max_tokens=max_tokens)))
        if i % every == 0:
            points.append((i, rss_mb()))
    await provider.aclose()
    points.append((-1, rss_mb()))  # after aclose: the model freed
    return points


print(json.dumps(asyncio.run(main())))
"""

VARIANTS = [("assay", "assay"), ("ram", "RAM cache on (baseline)"), ("binding", "binding defaults")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=300)
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--max-tokens", type=int, default=8)
    args = parser.parse_args()
    columns = {}
    for variant, _ in VARIANTS:
        out = subprocess.run([sys.executable, "-c", CHILD, variant, str(args.prompts), str(args.every),
                              str(args.max_tokens)], capture_output=True, text=True, check=True).stdout
        columns[variant] = dict(json.loads(out.strip().splitlines()[-1]))
    print(f"\nRSS (MB) of the local model over {args.prompts} distinct prompts "
          f"(SmolLM2-135M, 1 thread, {args.max_tokens} tokens each)")
    print(f"{'prompts':>10} " + " ".join(f"{label:>24}" for _, label in VARIANTS))
    steps = [*sorted(k for k in columns["assay"] if k >= 0), -1]
    for step in steps:
        label = "after free" if step == -1 else str(step)
        print(f"{label:>10} " + " ".join(f"{columns[v].get(step, float('nan')):>24.0f}" for v, _ in VARIANTS))
    last = max(k for k in columns["assay"] if k >= 0)
    growth = {v: columns[v][last] - columns[v][0] for v, _ in VARIANTS}
    print(f"{'growth':>10} " + " ".join(f"{growth[v]:>+24.0f}" for v, _ in VARIANTS))
    print("baseline: RAM cache on (xllamacpp's default cache_ram_mib=8192), the setting assay turns off")


if __name__ == "__main__":
    main()
