"""``generation_kwargs`` (lmms-eval's, written for Hugging Face ``generate``) as chat-API parameters.

Kept and translated: ``max_new_tokens``/``max_tokens``/``max_gen_toks`` -> ``max_tokens``; ``temperature``,
``top_p``, ``seed``; ``until``/``stop_sequences`` -> ``stop`` (at most 4, what OpenAI-style APIs accept);
``do_sample: false`` without a temperature -> ``temperature: 0``. Dropped, with a one-time notice naming
them: knobs that only mean something to a local Hugging Face model (``num_beams``, ``image_aspect_ratio``,
``repetition_penalty``, ``top_k``…), which an API either rejects (a 400 for every request) or lacks.
Any other key is passed to the provider as it is (a provider-specific body argument).

lmms-eval adds ``until: ["\\n\\n"]`` to every task without an ``until``; its API models never send it,
so neither does assay: an implicit stop would cut answers that lmms-eval's API runs keep whole.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from assay.errors import TaskError
from assay.types import GenerationParams

log = logging.getLogger(__name__)

MAX_TOKEN_KEYS = ("max_new_tokens", "max_tokens", "max_gen_toks")
STOP_KEYS = ("until", "stop_sequences", "stop")
MAX_STOP = 4
#: Hugging Face generate() / model preprocessing knobs that chat APIs do not take.
LOCAL_ONLY = frozenset(
    {
        "num_beams", "image_aspect_ratio", "repetition_penalty", "top_k", "skip_special_tokens",
        "length_penalty", "min_new_tokens", "no_repeat_ngram_size", "use_cache", "early_stopping",
        "num_return_sequences", "typical_p", "max_length", "min_length", "visual_cot", "max_agentic_steps",
        "patch_size", "min_pixels", "max_pixels", "downsample_ratio", "modalities", "num_frames",
    }
)  # fmt: skip

_said: set[tuple[str, str]] = set()
_said_lock = threading.Lock()


def _notice_once(task: str, text: str) -> None:
    with _said_lock:
        if (task, text) in _said:
            return
        _said.add((task, text))
    log.warning("task %s: %s", task, text)


def generation_params(task: str, kwargs: Mapping[str, Any],
                      override: Mapping[str, Any] | None = None) -> GenerationParams:
    """The task's generation kwargs, with ``override`` (``--gen_kwargs``) on top, as API parameters."""
    merged = {**kwargs, **(override or {})}
    max_tokens = next((merged[k] for k in MAX_TOKEN_KEYS if k in merged and merged[k] is not None), None)
    stop_value = next((merged[k] for k in STOP_KEYS if k in merged and merged[k] is not None), None)
    temperature = merged.get("temperature")
    if merged.get("do_sample") is False and temperature is None:
        temperature = 0.0  # greedy, which is what do_sample: false means to a Hugging Face model
    dropped = sorted(k for k in merged if k in LOCAL_ONLY)
    if dropped:
        _notice_once(task, f"generation_kwargs {', '.join(dropped)} not sent "
                           "(local-model settings an API does not take)")
    stop = _stop(task, stop_value)
    known = {*MAX_TOKEN_KEYS, *STOP_KEYS, *LOCAL_ONLY, "temperature", "top_p", "seed", "do_sample"}
    extra = {k: v for k, v in merged.items() if k not in known}
    try:
        return GenerationParams(
            max_tokens=None if max_tokens is None else int(max_tokens),
            temperature=None if temperature is None else float(temperature),
            top_p=None if merged.get("top_p") is None else float(merged["top_p"]),
            stop=stop,
            seed=None if merged.get("seed") is None else int(merged["seed"]),
            extra=tuple(sorted((str(k), _freeze(v)) for k, v in extra.items())),
        )
    except (TypeError, ValueError) as exc:
        from assay.env.masking import looks_like_credential

        detail = str(exc)  # int()'s message quotes the value: a key pasted into --gen_kwargs must not be echoed
        for value in merged.values():
            if isinstance(value, str) and value.strip() and looks_like_credential(value):
                detail = detail.replace(value, "<hidden>")
        raise TaskError(f"task {task}: bad generation_kwargs: {detail}", hint="fix generation_kwargs") from None


def _stop(task: str, value: Any) -> tuple[str, ...]:
    stops = (value,) if isinstance(value, str) else tuple(str(s) for s in value or ())
    stops = tuple(s for s in dict.fromkeys(stops) if s)
    if len(stops) > MAX_STOP:
        _notice_once(task, f"{len(stops)} stop sequences; APIs accept {MAX_STOP}, the first {MAX_STOP} are sent")
        stops = stops[:MAX_STOP]
    return stops


def _freeze(value: Any) -> Any:
    """Lists become tuples (JSON-identical) so GenerationParams stays hashable in the common case."""
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value
