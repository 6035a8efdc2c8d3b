"""Record (or check) what the local model answers to a fixed set of greedy prompts.

    python scripts/record_local_parity.py tests/data/local_parity.json            # record
    python scripts/record_local_parity.py tests/data/local_parity.json --check    # compare, exit 1 on a diff

The fixture was recorded once from the previous backend (llama-cpp-python 0.3.36, built with
CMAKE_ARGS="-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF") through the `local` provider as it was then, so that
tests/test_local_model.py can show the xllamacpp backend gives the same text for the same prompts.

With llama-cpp-python importable, recording also computes reference loglikelihoods independently of the
provider: the chat-templated context plus the continuation evaluated in one pass, log-softmax of the
full-sequence logits, the continuation's tokens split off the whole sequence as lm-eval splits them.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from assay.env.settings import load_settings
from assay.providers.local import LocalProvider
from assay.types import GenerationParams, Message, Request, TextPart

# (messages as (role, text) pairs, max_tokens, stop strings): short and long answers, a system prompt,
# several turns, stop strings, an answer cut by max_tokens, and one ended by the model itself.
PROMPTS: list[tuple[list[tuple[str, str]], int, list[str]]] = [
    ([("user", "What is 17 + 25?\nA. 42\nB. 41\nC. 32\nD. 52\n"
               "Answer with the option's letter from the given choices directly.")], 8, []),
    ([("user", "Name a colour of the sky.")], 12, []),
    ([("system", "You are a terse assistant."), ("user", "What is the capital of France?")], 24, []),
    ([("user", "Hi, my name is Ana."), ("assistant", "Nice to meet you, Ana!"), ("user", "What is my name?")], 16, []),
    ([("user", "Write a haiku about autumn.")], 48, []),
    ([("user", "List three fruits, separated by commas.")], 24, ["\n"]),
    ([("user", "Count from 1 to 10, separated by spaces.")], 40, ["7"]),
    ([("user", "Explain in one sentence what a CPU does.")], 48, []),
    ([("user", "Translate 'good morning' into French.")], 16, []),
    ([("user", "Write a long story about a dragon.")], 128, []),
]


# (user prompt, continuations) scored as the start of the assistant turn.
LOGLIKELIHOOD: list[tuple[str, list[str]]] = [
    (PROMPTS[0][0][0][1], ["A", "B", "C", "D", " A"]),
    ("What is the capital of France?", ["Paris", "London", "The capital of France is Paris."]),
    ("Name a colour of the sky.", ["The sky is a brilliant shade of blue", "Green"]),
]


def _reference_loglikelihoods(model_path: str) -> list[dict[str, Any]]:
    import numpy as np
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    llm = Llama(model_path=model_path, n_ctx=2048, n_threads=1, logits_all=True, verbose=False, seed=0)
    # The template's bos/eos tokens, filled in as llama-cpp-python does for its own chat handler.
    formatter = Jinja2ChatFormatter(template=llm.metadata["tokenizer.chat_template"],
                                    eos_token=llm._model.token_get_text(llm._model.token_eos()),
                                    bos_token=llm._model.token_get_text(llm._model.token_bos()))
    out = []
    for prompt, continuations in LOGLIKELIHOOD:
        context = formatter(messages=[{"role": "user", "content": prompt}]).prompt
        context_tokens = llm.tokenize(context.encode(), add_bos=True, special=True)
        for continuation in continuations:
            whole = llm.tokenize((context + continuation).encode(), add_bos=True, special=True)
            tokens = whole[len(context_tokens):]
            alone = llm.tokenize(continuation.encode(), add_bos=False, special=True)
            llm.reset()
            llm.eval(whole)
            logits = np.asarray(llm.scores[: len(whole)], dtype=np.float64)
            logprob, greedy = 0.0, True
            for i, token in enumerate(tokens):
                row = logits[len(context_tokens) + i - 1]
                logprob += float(row[token] - (row.max() + np.log(np.exp(row - row.max()).sum())))
                greedy = greedy and int(row.argmax()) == token
            out.append({"prompt": prompt, "continuation": continuation, "logprob": round(logprob, 5),
                        "is_greedy": greedy, "context_tokens": len(context_tokens), "tokens": tokens,
                        "split_equals_alone": tokens == alone})
    return out


def _backend() -> str:
    for dist in ("xllamacpp", "llama-cpp-python"):
        try:
            return f"{dist} {version(dist)}"
        except PackageNotFoundError:
            continue
    return "unknown"


async def _answers() -> list[dict[str, Any]]:
    provider = LocalProvider(load_settings(environ={}, discover_dotenv=False), {})
    out = []
    try:
        for turns, max_tokens, stop in PROMPTS:
            messages = tuple(Message(role, (TextPart(text),)) for role, text in turns)  # type: ignore[arg-type]
            params = GenerationParams(max_tokens=max_tokens, temperature=0.0, stop=tuple(stop))
            response = await provider.generate(Request(messages, params))
            out.append({"messages": [list(t) for t in turns], "max_tokens": max_tokens, "stop": stop,
                        "text": response.text, "finish_reason": response.finish_reason,
                        "input_tokens": response.usage.input_tokens, "output_tokens": response.usage.output_tokens})
    finally:
        await provider.aclose()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("fixture", type=Path)
    parser.add_argument("--check", action="store_true", help="compare with the fixture instead of writing it")
    args = parser.parse_args()
    answers = asyncio.run(_answers())
    if not args.check:
        payload: dict[str, Any] = {"recorded_with": _backend(), "python": platform.python_version(),
                                   "cases": answers}
        if importlib.util.find_spec("llama_cpp") is not None:
            from assay.providers.local import default_model_path

            payload["loglikelihood"] = _reference_loglikelihoods(str(default_model_path()))
        args.fixture.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n")
        print(f"recorded {len(answers)} answers with {payload['recorded_with']} -> {args.fixture}")
        return 0
    recorded = json.loads(args.fixture.read_text())
    same = 0
    for old, new in zip(recorded["cases"], answers, strict=True):
        ok = old["text"] == new["text"]
        same += ok
        print(f"{'same' if ok else 'DIFF'}  {old['messages'][-1][1][:40]!r}: {new['text'][:60]!r}"
              f"  tokens in/out {old['input_tokens']}/{old['output_tokens']} -> "
              f"{new['input_tokens']}/{new['output_tokens']}")
    print(f"{same}/{len(answers)} identical to {recorded['recorded_with']} (now {_backend()})")
    return 0 if same == len(answers) else 1


if __name__ == "__main__":
    sys.exit(main())
