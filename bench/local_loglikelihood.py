"""What scoring choices by loglikelihood costs on the embedded model, next to generating an answer.

    python bench/local_loglikelihood.py [--docs 30] [--threads 1]

For the first ``--docs`` questions of the built-in assay_arith_mc task (SmolLM2-135M, greedy, through
assay's `local` provider): generating the answer as the task does (max 8 tokens; baseline), scoring the
four letters A-D as the start of the assistant turn (4 loglikelihood requests), and scoring the four
option values ("81", …; 1-3 tokens each). Seconds per question and accuracy (a generated answer counts
when it starts with the right letter; a scored one when the right choice has the highest logprob).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

from assay.env.settings import load_settings
from assay.providers.local import LocalProvider
from assay.types import GenerationParams, LoglikelihoodRequest, Message, Request

DATA = Path(__file__).resolve().parents[1] / "src/assay/tasks/builtin/assay_arith_mc/assay_arith_mc.jsonl"
LETTERS = "ABCD"
POST_PROMPT = "\nAnswer with the option's letter from the given choices directly."


def prompt(doc: dict[str, Any]) -> str:
    options = "\n".join(f"{LETTERS[i]}. {option}" for i, option in enumerate(doc["options"]))
    return f"{doc['question']}\n{options}{POST_PROMPT}"


async def run(docs: list[dict[str, Any]], threads: int) -> dict[str, tuple[float, float]]:
    provider = LocalProvider(load_settings(environ={}, discover_dotenv=False), {"n_threads": threads})
    await provider.generate(Request((Message.user("hi"),), GenerationParams(max_tokens=1)))  # load first
    out: dict[str, tuple[float, float]] = {}

    async def best(doc: dict[str, Any], choices: list[str]) -> int:
        context = (Message.user(prompt(doc)),)
        scores = [(await provider.loglikelihood(LoglikelihoodRequest(context, c))).logprob for c in choices]
        return scores.index(max(scores))

    start, right = time.perf_counter(), 0
    for doc in docs:
        answer = await provider.generate(Request((Message.user(prompt(doc)),),
                                                 GenerationParams(max_tokens=8, temperature=0.0)))
        right += answer.text.strip()[:1] == doc["answer"]
    out["generate (max 8 tokens)"] = ((time.perf_counter() - start) / len(docs), right / len(docs))
    start, right = time.perf_counter(), 0
    for doc in docs:
        right += LETTERS[await best(doc, list(LETTERS))] == doc["answer"]
    out["loglikelihood, 4 letters"] = ((time.perf_counter() - start) / len(docs), right / len(docs))
    start, right = time.perf_counter(), 0
    for doc in docs:
        right += LETTERS[await best(doc, [str(o) for o in doc["options"]])] == doc["answer"]
    out["loglikelihood, 4 values"] = ((time.perf_counter() - start) / len(docs), right / len(docs))
    await provider.aclose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    docs = [json.loads(line) for line in DATA.read_text().splitlines()[: args.docs]]
    results = asyncio.run(run(docs, args.threads))
    base = results["generate (max 8 tokens)"][0]
    print(f"\nassay_arith_mc, first {len(docs)} questions, SmolLM2-135M, {args.threads} thread(s)")
    print(f"{'method':>26} {'s/question':>11} {'vs base':>8} {'accuracy':>9}")
    for name, (seconds, accuracy) in results.items():
        print(f"{name:>26} {seconds:>11.3f} {seconds / base:>7.2f}x {accuracy:>9.2f}")
    print("baseline: generate (max 8 tokens), how the generate_until task asks; chance accuracy is 0.25")


if __name__ == "__main__":
    main()
