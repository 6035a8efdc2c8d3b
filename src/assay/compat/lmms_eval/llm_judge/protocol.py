"""``lmms_eval.llm_judge.protocol``: the judge client's data shapes, with lmms-eval's field names.

Task helpers build these (``ServerConfig(model_name=…, temperature=…, max_tokens=…)``,
``Request(messages=[…], images=[…], config=…)``) and read ``Response.content`` / ``.model_used``. In
assay the transport fields (``timeout``, ``num_retries``, ``retry_delay``, ``max_concurrent``) are the
judge's own (``--judge_args``): they are accepted and kept, not used per request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: lmms-eval's defaults, which assay's judge also uses (5 retries, 10 s base delay).
DEFAULT_NUM_RETRIES = 5
DEFAULT_RETRY_DELAY = 10


@dataclass
class ServerConfig:
    model_name: str
    temperature: float = 0.0
    max_tokens: int = 1024
    top_p: float | None = None
    timeout: int = 60
    num_retries: int = DEFAULT_NUM_RETRIES
    retry_delay: float = DEFAULT_RETRY_DELAY
    max_concurrent: int = 10
    system_prompt: str | None = None
    response_format: str | None = None  # "json" asks the judge for a JSON object
    judge_type: str = "general"
    output_format: str | None = None
    score_range: tuple[float, float] | None = None
    evaluation_criteria: dict[str, Any] | None = None


@dataclass
class Request:
    messages: list[dict[str, Any]]
    images: list[Any] | None = None  # file paths, base64 text/bytes, or PIL images
    config: ServerConfig | None = None
    question: str | None = None
    answer: str | None = None
    prediction: str | None = None
    context: str | None = None
    options: list[str] | None = None
    response1: str | None = None
    response2: str | None = None
    custom_prompt: str | None = None
    prompt_kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Response:
    content: str
    model_used: str
    usage: dict[str, int] | None = None
    raw_response: Any | None = None
    parsed_result: Any | None = None
    success: bool = True
    error_message: str | None = None
