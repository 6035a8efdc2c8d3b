"""What each provider accepts in ``--model_args``: one pydantic schema per provider.

A schema lists assay's own names (with bounds), lmms-eval's names for the same thing as aliases
(``model_version`` → ``model``, ``retry_backoff_s`` → ``backoff_initial``), and the request parameters the
vendor's API really takes (``reasoning_effort``, ``response_format``, ``top_p``…), which go into the body as
given. Anything else is refused before the first request (:mod:`assay.model.args` turns the validation error
into a ConfigError naming the closest valid name): a request body never carries an lmms-eval argument or a
typo. ``extra_body.NAME=value`` is the explicit way to send a parameter assay does not know yet.

lmms-eval arguments that mean nothing for an API call (``max_frames_num``, ``adaptive_concurrency``…) are
not fields: :data:`LMMS_ONLY` says what becomes of each (honoured, or accepted with a notice).
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

#: The prefix of ``--model_args extra_body.NAME=value``: sent to the vendor as NAME, unchecked.
EXTRA_BODY = "extra_body."


def _alias(*names: str) -> Any:
    return Field(default=None, validation_alias=AliasChoices(*names))


class ModelArgs(BaseModel):
    """What every API provider accepts: the model, where it lives, and the transport (retries, timeout,
    concurrency, pace) and price knobs the Model wrapper and the cost meter read."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, allow_inf_nan=False, frozen=True)

    model: str | None = _alias("model", "model_version", "pretrained")
    api_key: str | None = None
    base_url: str | None = _alias("base_url", "api_base", "api_url")
    num_concurrent: int | None = Field(default=None, ge=1)
    max_concurrency: int | None = Field(default=None, ge=1)
    rpm: float | None = Field(default=None, gt=0)
    max_attempts: int | None = Field(default=None, ge=1)
    max_retries: int | None = Field(default=None, ge=0)
    timeout: float | None = Field(default=None, gt=0)
    backoff_initial: float | None = Field(default=None, ge=0,
                                          validation_alias=AliasChoices("backoff_initial", "retry_backoff_s"))
    backoff_max: float | None = Field(default=None, ge=0)
    max_retry_after: float | None = Field(default=None, ge=0)
    input_price: float | None = Field(default=None, ge=0)
    output_price: float | None = Field(default=None, ge=0)
    # --batch's own arguments (checked by assay.model.batch.config, which says what each must be)
    batch: Any = None
    batch_poll_interval: Any = None
    batch_max_requests: Any = None
    batch_retry: Any = None


class ChatCompletionsArgs(ModelArgs):
    """OpenAI's chat completions parameters (also what xAI and Azure take)."""

    reasoning: bool | None = None  # assay's: treat the model as a reasoning model (max_completion_tokens)
    audio_part: str | None = None  # assay's: ``audio_url`` for a server that reads only vLLM's audio part
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    seed: int | None = None
    stop: str | list[str] | None = None
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    logit_bias: dict[str, float] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    response_format: dict[str, Any] | None = None
    reasoning_effort: str | None = None
    verbosity: str | None = None
    service_tier: str | None = None
    user: str | None = None
    store: bool | None = None
    metadata: dict[str, str] | None = None
    prediction: dict[str, Any] | None = None


class OpenAICompatibleArgs(ChatCompletionsArgs):
    """vLLM's and SGLang's extra sampling parameters, which their OpenAI-compatible servers take in the body."""

    top_k: int | None = None
    min_p: float | None = Field(default=None, ge=0, le=1)
    repetition_penalty: float | None = Field(default=None, gt=0)
    min_tokens: int | None = Field(default=None, ge=0)
    skip_special_tokens: bool | None = None
    include_stop_str_in_output: bool | None = None
    ignore_eos: bool | None = None
    chat_template_kwargs: dict[str, Any] | None = None
    mm_processor_kwargs: dict[str, Any] | None = None
    guided_json: Any = None
    guided_choice: list[str] | None = None
    guided_regex: str | None = None


class AzureArgs(ChatCompletionsArgs):
    deployment: str | None = _alias("deployment", "azure_deployment", "deployment_name")
    endpoint: str | None = _alias("endpoint", "azure_endpoint")
    api_version: str | None = None


class AnthropicArgs(ModelArgs):
    """The Messages API's parameters (``system`` comes from the prompt's system turn)."""

    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=1)
    top_p: float | None = Field(default=None, ge=0, le=1)
    top_k: int | None = Field(default=None, ge=0)
    stop_sequences: list[str] | None = None
    thinking: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    service_tier: str | None = None


class GeminiArgs(ModelArgs):
    """``generationConfig`` entries, under the API's names (snake_case accepted), and the API version."""

    api_version: str | None = None
    thinkingConfig: dict[str, Any] | None = _alias("thinkingConfig", "thinking_config")
    responseMimeType: str | None = _alias("responseMimeType", "response_mime_type")
    responseSchema: dict[str, Any] | None = _alias("responseSchema", "response_schema")
    responseModalities: list[str] | None = _alias("responseModalities", "response_modalities")
    mediaResolution: str | None = _alias("mediaResolution", "media_resolution")
    topK: int | None = _alias("topK", "top_k")
    presencePenalty: float | None = _alias("presencePenalty", "presence_penalty")
    frequencyPenalty: float | None = _alias("frequencyPenalty", "frequency_penalty")
    candidateCount: int | None = _alias("candidateCount", "candidate_count")
    #: lmms-eval's gemini argument, sent as ``thinkingConfig.thinkingBudget``.
    thinking_budget: int | None = Field(default=None, ge=-1)


class RekaArgs(ModelArgs):
    temperature: float | None = Field(default=None, ge=0)
    top_p: float | None = Field(default=None, ge=0, le=1)
    top_k: int | None = Field(default=None, ge=0)
    max_tokens: int | None = Field(default=None, ge=1)
    stop: list[str] | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None


class LocalArgs(ModelArgs):
    """The embedded llama.cpp model: a GGUF file, its context window and threads, and a seed."""

    model: str | None = _alias("model", "model_version")
    model_path: str | None = _alias("model_path", "pretrained")
    n_ctx: int | None = Field(default=None, ge=1)
    n_threads: int | None = Field(default=None, ge=1)
    seed: int | None = None


#: Built-in provider name -> its schema (a plugin provider checks its own arguments).
SCHEMAS: dict[str, type[BaseModel]] = {
    "openai": ChatCompletionsArgs,
    "openai_compatible": OpenAICompatibleArgs,
    "xai": ChatCompletionsArgs,
    "azure_openai": AzureArgs,
    "anthropic": AnthropicArgs,
    "gemini": GeminiArgs,
    "reka": RekaArgs,
    "local": LocalArgs,
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


def accepted_names(schema: type[BaseModel]) -> list[str]:
    """Every name ``schema`` takes (fields and their aliases), for suggestions and the README."""
    names: list[str] = []
    for field_name, info in schema.model_fields.items():
        names.append(field_name)
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            names.extend(str(choice) for choice in alias.choices if choice != field_name)
    return names
