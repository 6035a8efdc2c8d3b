"""Scoring a continuation through the legacy completions endpoint (``/v1/completions``).

The prompt is context + continuation, sent with ``echo=true, logprobs=1, max_tokens=0``: the server
returns the log-probability of every prompt token (the first is null) and the top alternative at each
position, without generating anything. Which tokens are the continuation's is read from
``text_offset`` (character offsets of the tokens in the echoed prompt), so no client-side tokenizer is
needed: a token counts as the continuation's when it ends after the context does. lm-evaluation-harness's
``local-completions`` model does the same with token ids from a tokenizer instead; vLLM and SGLang
serve both forms.
"""

from __future__ import annotations

import math
from typing import Any

from assay.errors import ProviderError
from assay.providers._http import as_int, malformed, parse_json
from assay.types import Loglikelihood, LoglikelihoodRequest, Usage

#: Relative slack when comparing a token's logprob with the best alternative's (servers round).
_GREEDY_SLACK = 1e-6


def prompt_of(request: LoglikelihoodRequest, *, provider: str) -> str:
    """The context as one completion prompt (messages' text joined by blank lines); media is refused."""
    if request.has_media():
        raise ProviderError(
            f"the completions endpoint cannot score images or video (task `{request.task}`)",
            hint="loglikelihood needs a text-only context; use a generation task for images",
            kind="unsupported",
            provider=provider,
        )
    return "\n\n".join(m.text for m in request.context if m.text)


def loglikelihood_body(model: str, context: str, request: LoglikelihoodRequest) -> dict[str, Any]:
    return {
        "model": model,
        "prompt": context + request.continuation,
        "max_tokens": 0,
        "echo": True,
        "logprobs": 1,
        "temperature": 0,
    }


def parse_loglikelihood(text: str, context_chars: int, *, provider: str, where: str) -> Loglikelihood:
    """Sum the continuation tokens' logprobs; greedy when each was the most likely token."""
    data = parse_json(text, provider=provider, where=where, what="completion with logprobs")
    try:
        logprobs = data["choices"][0]["logprobs"]
        tokens: list[str] = logprobs["tokens"]
        token_logprobs: list[float | None] = logprobs["token_logprobs"]
        offsets: list[int] = logprobs["text_offset"]
        top: list[dict[str, float] | None] = logprobs.get("top_logprobs") or [None] * len(tokens)
    except (KeyError, IndexError, TypeError):
        raise malformed(text, provider=provider, where=where, what="completion with logprobs "
                        "(does the server support echo=true with logprobs?)") from None
    total, greedy, counted = 0.0, True, 0
    for token, logprob, offset, alternatives in zip(tokens, token_logprobs, offsets, top, strict=False):
        if offset + len(token) <= context_chars:
            continue  # a context token
        if logprob is None or not math.isfinite(logprob):
            raise malformed(text, provider=provider, where=where, what="completion with finite logprobs")
        total += logprob
        counted += 1
        if alternatives:
            best = max(alternatives.values())
            if logprob < best - _GREEDY_SLACK * max(1.0, abs(best)):
                greedy = False
    if counted == 0:
        raise malformed(text, provider=provider, where=where, what="completion whose echo covers the continuation")
    usage = data.get("usage") if isinstance(data, dict) else None
    usage = usage if isinstance(usage, dict) else {}
    return Loglikelihood(logprob=total, is_greedy=greedy, usage=Usage(as_int(usage.get("prompt_tokens")), 0))
