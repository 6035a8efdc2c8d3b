"""What each provider accepts in ``--model_args``: one schema per provider.

A schema lists assay's own names (with bounds), lmms-eval's names for the same thing as aliases
(``model_version`` → ``model``, ``retry_backoff_s`` → ``backoff_initial``), and the request parameters the
vendor's API really takes (``reasoning_effort``, ``response_format``, ``top_p``…), which go into the body as
given. Anything else is refused before the first request (:mod:`assay.model.args` turns the validation error
into a ConfigError naming the closest valid name): a request body never carries an lmms-eval argument or a
typo. ``extra_body.NAME=value`` is the explicit way to send a parameter assay does not know yet.

A schema is plain data: :func:`fast_check` takes the usual arguments (known names, values of the declared
type within bounds) without pydantic, whose import costs more than the rest of a run's start-up; anything
else (another type, a bound crossed, an unknown name) goes to the same schema as a pydantic model
(:func:`pydantic_model`), which converts it or says exactly what is wrong. A property test holds the two
to the same answers.

lmms-eval arguments that mean nothing for an API call (``max_frames_num``, ``adaptive_concurrency``…) are
not fields: :data:`LMMS_ONLY` says what becomes of each (honoured, or accepted with a notice).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

#: The prefix of ``--model_args extra_body.NAME=value``: sent to the vendor as NAME, unchecked.
EXTRA_BODY = "extra_body."


@dataclass(frozen=True)
class Arg:
    """One argument: its type, the other names it is taken under (lmms-eval's), a number's bounds."""

    kind: Any = str
    aliases: tuple[str, ...] = ()
    ge: float | None = None
    gt: float | None = None
    le: float | None = None


def _aka(*aliases: str, kind: Any = str) -> Arg:
    return Arg(kind, aliases)


Schema = Mapping[str, Arg]

#: What every API provider accepts: the model, where it lives, and the transport (retries, timeout,
#: concurrency, pace) and price knobs the Model wrapper and the cost meter read.
MODEL_ARGS: Schema = {
    "model": _aka("model_version", "pretrained"),
    "api_key": Arg(str),
    "base_url": _aka("api_base", "api_url"),
    "num_concurrent": Arg(int, ge=1),
    "max_concurrency": Arg(int, ge=1),
    "rpm": Arg(float, gt=0),
    "max_attempts": Arg(int, ge=1),
    "max_retries": Arg(int, ge=0),
    "timeout": Arg(float, gt=0),
    "backoff_initial": Arg(float, ("retry_backoff_s",), ge=0),
    "backoff_max": Arg(float, ge=0),
    "max_retry_after": Arg(float, ge=0),
    "input_price": Arg(float, ge=0),
    "output_price": Arg(float, ge=0),
    # --batch's own arguments (checked by assay.model.batch.config, which says what each must be)
    "batch": Arg(Any),
    "batch_poll_interval": Arg(Any),
    "batch_max_requests": Arg(Any),
    "batch_retry": Arg(Any),
}

#: OpenAI's chat completions parameters (also what xAI and Azure take).
CHAT_COMPLETIONS_ARGS: Schema = {
    **MODEL_ARGS,
    "reasoning": Arg(bool),  # assay's: treat the model as a reasoning model (max_completion_tokens)
    "audio_part": Arg(str),  # assay's: ``audio_url`` for a server that reads only vLLM's audio part
    "temperature": Arg(float, ge=0, le=2),
    "top_p": Arg(float, ge=0, le=1),
    "max_tokens": Arg(int, ge=1),
    "max_completion_tokens": Arg(int, ge=1),
    "seed": Arg(int),
    "stop": Arg(str | list[str]),
    "frequency_penalty": Arg(float, ge=-2, le=2),
    "presence_penalty": Arg(float, ge=-2, le=2),
    "logit_bias": Arg(dict[str, float]),
    "logprobs": Arg(bool),
    "top_logprobs": Arg(int, ge=0, le=20),
    "response_format": Arg(dict[str, Any]),
    "reasoning_effort": Arg(str),
    "verbosity": Arg(str),
    "service_tier": Arg(str),
    "user": Arg(str),
    "store": Arg(bool),
    "metadata": Arg(dict[str, str]),
    "prediction": Arg(dict[str, Any]),
}

#: vLLM's and SGLang's extra sampling parameters, which their OpenAI-compatible servers take in the body.
OPENAI_COMPATIBLE_ARGS: Schema = {
    **CHAT_COMPLETIONS_ARGS,
    "top_k": Arg(int),
    "min_p": Arg(float, ge=0, le=1),
    "repetition_penalty": Arg(float, gt=0),
    "min_tokens": Arg(int, ge=0),
    "skip_special_tokens": Arg(bool),
    "include_stop_str_in_output": Arg(bool),
    "ignore_eos": Arg(bool),
    "chat_template_kwargs": Arg(dict[str, Any]),
    "mm_processor_kwargs": Arg(dict[str, Any]),
    "guided_json": Arg(Any),
    "guided_choice": Arg(list[str]),
    "guided_regex": Arg(str),
}

AZURE_ARGS: Schema = {
    **CHAT_COMPLETIONS_ARGS,
    "deployment": _aka("azure_deployment", "deployment_name"),
    "endpoint": _aka("azure_endpoint"),
    "api_version": Arg(str),
}

#: The Messages API's parameters (``system`` comes from the prompt's system turn).
ANTHROPIC_ARGS: Schema = {
    **MODEL_ARGS,
    "max_tokens": Arg(int, ge=1),
    "temperature": Arg(float, ge=0, le=1),
    "top_p": Arg(float, ge=0, le=1),
    "top_k": Arg(int, ge=0),
    "stop_sequences": Arg(list[str]),
    "thinking": Arg(dict[str, Any]),
    "metadata": Arg(dict[str, Any]),
    "service_tier": Arg(str),
}

#: ``generationConfig`` entries, under the API's names (snake_case accepted), and the API version.
GEMINI_ARGS: Schema = {
    **MODEL_ARGS,
    "api_version": Arg(str),
    "thinkingConfig": _aka("thinking_config", kind=dict[str, Any]),
    "responseMimeType": _aka("response_mime_type"),
    "responseSchema": _aka("response_schema", kind=dict[str, Any]),
    "responseModalities": _aka("response_modalities", kind=list[str]),
    "mediaResolution": _aka("media_resolution"),
    "topK": _aka("top_k", kind=int),
    "presencePenalty": _aka("presence_penalty", kind=float),
    "frequencyPenalty": _aka("frequency_penalty", kind=float),
    "candidateCount": _aka("candidate_count", kind=int),
    #: lmms-eval's gemini argument, sent as ``thinkingConfig.thinkingBudget``.
    "thinking_budget": Arg(int, ge=-1),
}

REKA_ARGS: Schema = {
    **MODEL_ARGS,
    "temperature": Arg(float, ge=0),
    "top_p": Arg(float, ge=0, le=1),
    "top_k": Arg(int, ge=0),
    "max_tokens": Arg(int, ge=1),
    "stop": Arg(list[str]),
    "seed": Arg(int),
    "presence_penalty": Arg(float),
    "frequency_penalty": Arg(float),
}

#: The embedded llama.cpp model: a GGUF file, its context window and threads, and a seed.
LOCAL_ARGS: Schema = {
    **MODEL_ARGS,
    "model": _aka("model_version"),
    "model_path": _aka("pretrained"),
    "n_ctx": Arg(int, ge=1),
    "n_threads": Arg(int, ge=1),
    "seed": Arg(int),
}

#: Built-in provider name -> its schema (a plugin provider checks its own arguments).
SCHEMAS: dict[str, Schema] = {
    "openai": CHAT_COMPLETIONS_ARGS,
    "openai_compatible": OPENAI_COMPATIBLE_ARGS,
    "xai": CHAT_COMPLETIONS_ARGS,
    "azure_openai": AZURE_ARGS,
    "anthropic": ANTHROPIC_ARGS,
    "gemini": GEMINI_ARGS,
    "reka": REKA_ARGS,
    "local": LOCAL_ARGS,
}

#: Settings from lmms-eval's API model classes that assay honours under its own concept (arg -> run setting).
HONOURED: dict[str, str] = {
    "max_frames_num": "num_frames",
    "nframes": "num_frames",
}

#: lmms-eval model arguments with no meaning for an API call here: accepted, said once, never sent.
LMMS_ONLY: dict[str, str] = {
    "max_size_in_mb": "assay fits each image to the vendor's own size limit",
    "batch_size": "requests are sent concurrently (num_concurrent=N)",
    "video_fps": "videos are sampled to a fixed number of frames (max_frames_num=N)",
    "fps": "videos are sampled to a fixed number of frames (max_frames_num=N)",
    "max_frames": "videos are sampled to a fixed number of frames (max_frames_num=N)",
    "httpx_trust_env": "assay's HTTP client reads proxy variables as usual",
    "adaptive_concurrency": "concurrency is fixed (num_concurrent=N); Retry-After pauses every worker",
    "adaptive_min_concurrency": "concurrency is fixed (num_concurrent=N)",
    "adaptive_max_concurrency": "concurrency is fixed (num_concurrent=N)",
    "adaptive_target_latency_s": "concurrency is fixed (num_concurrent=N)",
    "adaptive_increase_step": "concurrency is fixed (num_concurrent=N)",
    "adaptive_decrease_factor": "concurrency is fixed (num_concurrent=N)",
    "adaptive_failure_threshold": "concurrency is fixed (num_concurrent=N)",
    "prefix_aware_queue": "requests are sent in doc order",
    "prefix_hash_chars": "requests are sent in doc order",
    "modality": "each task's docs say what media they carry",
    "image_token": "images go in the message's own parts",
    "interleave": "images are placed where the task puts them",
    "continual_mode": "answers are kept with --use_cache",
    "response_persistent_folder": "answers are kept with --use_cache",
    "pass_video_url": "videos are sent as sampled frames",
    "enable_thinking_kwarg": "send chat_template_kwargs={…} or extra_body.NAME=value instead",
    "max_pixels": "assay fits each image to the vendor's own size limit",
    "min_pixels": "assay fits each image to the vendor's own size limit",
    "is_qwen3_vl": "the server applies the model's own chat template",
    "num_cpus": "no local processing pool is used",
    "work_dir": "no local processing pool is used",
    "message_format": "each provider sends messages in its vendor's own format",
    "safety_threshold": "the vendor's default safety settings apply",
    "system_prompt": "use --system_instruction",
    "tmp_folder": "no temporary files are written",
    "device": "API models run where they are served",
    "device_map": "API models run where they are served",
}

#: lmms-eval model arguments assay refuses, with the fix (they change where the request goes or who pays).
REFUSED: dict[str, str] = {
    "mcp_server_path": "tool use through an MCP server is not supported: the model would answer without its tools",
    "vertexai": "Vertex AI is not supported: use a Gemini API key (GOOGLE_API_KEY)",
    "project": "Vertex AI is not supported: use a Gemini API key (GOOGLE_API_KEY)",
    "location": "Vertex AI is not supported: use a Gemini API key (GOOGLE_API_KEY)",
}


def accepted_names(schema: Schema) -> list[str]:
    """Every name ``schema`` takes (fields and their aliases), for suggestions and the README."""
    return [name for field, arg in schema.items() for name in (field, *arg.aliases)]


class Unsure(Exception):
    """:func:`fast_check` leaves these arguments to pydantic (:func:`pydantic_model`)."""


def fast_check(schema: Schema, args: Mapping[str, Any]) -> dict[str, Any]:
    """``args`` under their fields' names, in the schema's order, ``None`` left out — what the pydantic
    model gives — when every name is known (once) and every value already of its field's type, within its
    bounds; else :class:`Unsure`."""
    names = {name: field for field, arg in schema.items() for name in (field, *arg.aliases)}
    given: dict[str, Any] = {}
    for key, value in args.items():
        field = names.get(key)
        if field is None or field in given:
            raise Unsure
        given[field] = value
    return {field: _typed(arg, given[field]) for field, arg in schema.items() if given.get(field) is not None}


def _typed(arg: Arg, value: Any) -> Any:
    if arg.kind is Any or (arg.kind in (str, bool) and type(value) is arg.kind):
        return value
    number = (int,) if arg.kind is int else (int, float) if arg.kind is float else ()
    if isinstance(value, number) and not isinstance(value, bool) and math.isfinite(value) and _within(arg, value):
        return float(value) if arg.kind is float else value
    raise Unsure


def _within(arg: Arg, value: float) -> bool:
    return ((arg.ge is None or value >= arg.ge) and (arg.gt is None or value > arg.gt)
            and (arg.le is None or value <= arg.le))


@functools.lru_cache(maxsize=16)
def pydantic_model(provider: str) -> type[BaseModel]:
    """The provider's schema as a pydantic model: unknown names refused, numbers coerced to text where a
    text is wanted, never NaN or infinite."""
    from pydantic import AliasChoices, ConfigDict, Field, create_model

    fields: dict[str, Any] = {}
    for field, arg in SCHEMAS[provider].items():
        bounds: dict[str, Any] = {k: v for k, v in (("ge", arg.ge), ("gt", arg.gt), ("le", arg.le)) if v is not None}
        alias = AliasChoices(field, *arg.aliases) if arg.aliases else None
        fields[field] = (arg.kind | None, Field(default=None, validation_alias=alias, **bounds))
    config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, allow_inf_nan=False, frozen=True)
    model: type[BaseModel] = create_model(f"{provider}_args", __config__=config, **fields)
    return model
