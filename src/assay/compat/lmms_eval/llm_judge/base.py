"""``lmms_eval.llm_judge.base``: the judge server interface task helpers call, backed by assay's judge.

``server.evaluate(request)`` (synchronous, from ``process_results`` in a worker thread) becomes one call
of the run's judge: the Model wrapper's retries and Retry-After, the judge's concurrency limit, cache and
cost meter, and an outcome in the sample's judge log. Whatever the helper does with an exception, a
failed judgement is already counted, and the sample is excluded rather than scored.

Which provider answers is the run's choice (``--judge_model`` / ``API_TYPE``), not the ``server_name``
passed to ``get_server``; the model is ``--judge_args model=…`` when given, else the ``model_name`` the
helper configured.
"""

from __future__ import annotations

import asyncio
from typing import Any

from assay.judge import parsers as p
from assay.judge.outcome import JudgeFailure, JudgeOutcome, Verdict
from assay.judge.runtime import judge, judge_sync
from assay.types import GenerationParams

from .protocol import Request, Response, ServerConfig
from .utils import JudgePromptBuilder, binary_parser, comparative_parser


class JudgeRequestError(RuntimeError):
    """The judge gave no usable answer (raised where lmms-eval's client raises; already counted)."""


def _params(config: ServerConfig) -> GenerationParams:
    extra: tuple[tuple[str, Any], ...] = ()
    if config.response_format == "json":
        extra = (("response_format", {"type": "json_object"}),)
    return GenerationParams(max_tokens=config.max_tokens, temperature=config.temperature, top_p=config.top_p,
                            extra=extra)


def _image_url(image: Any) -> str:
    """A data URL for an image a helper passes: a PIL image, a file path, or base64 text/bytes."""
    from pathlib import Path

    from assay.media.image import encode_image

    if isinstance(image, (bytes, bytearray)):
        image = bytes(image).decode("ascii", errors="replace")
    if isinstance(image, str):
        if image.startswith("data:"):
            return image
        if len(image) < 4096 and Path(image).is_file():
            return encode_image(image).data_url
        return f"data:image/png;base64,{image.strip()}"  # lmms-eval helpers pass base64 text as "images"
    return encode_image(image).data_url


def _with_images(messages: list[dict[str, Any]], images: list[Any]) -> list[dict[str, Any]]:
    """The images appended to the last user message, as image_url parts."""
    out = [dict(m) for m in messages]
    for message in reversed(out):
        if message.get("role") == "user":
            content = message.get("content")
            parts = [{"type": "text", "text": content}] if isinstance(content, str) else list(content or [])
            parts += [{"type": "image_url", "image_url": {"url": _image_url(i)}} for i in images]
            message["content"] = parts
            break
    return out


def _response(outcome: JudgeOutcome) -> Response:
    if isinstance(outcome, Verdict):
        usage = {"prompt_tokens": outcome.usage.input_tokens, "completion_tokens": outcome.usage.output_tokens}
        return Response(content=outcome.raw.strip(), model_used=outcome.model, usage=usage,
                        parsed_result=None if isinstance(outcome.value, str) else outcome.value)
    raise JudgeRequestError(f"assay judge: {outcome.reason}: {outcome.detail}")


class ServerInterface:
    """A judge server as lmms-eval helpers use it; every instance talks to the run's one judge."""

    def __init__(self, config: ServerConfig | None = None) -> None:
        self.config = config or ServerConfig(model_name="gpt-4")

    def is_available(self) -> bool:
        from assay.judge.runtime import active_judge

        return active_judge() is not None

    def prepare_messages(self, request: Request) -> list[dict[str, Any]]:
        messages = list(request.messages)
        config = request.config or self.config
        if config.system_prompt and not any(m.get("role") == "system" for m in messages):
            messages.insert(0, {"role": "system", "content": config.system_prompt})
        return messages

    def _messages(self, request: Request) -> list[dict[str, Any]]:
        messages = self.prepare_messages(request)
        return _with_images(messages, request.images) if request.images else messages

    def _ask(self, request: Request, parser: p.Parser | None = None) -> JudgeOutcome:
        config = request.config or self.config
        return judge_sync(self._messages(request), parser, model=config.model_name, params=_params(config))

    def evaluate(self, request: Request) -> Response:
        return _response(self._ask(request))

    async def evaluate_async(self, request: Request) -> Response:
        config = request.config or self.config
        messages = await asyncio.to_thread(self._messages, request)
        return _response(await judge(messages, None, model=config.model_name, params=_params(config)))

    async def evaluate_batch(self, requests: list[Request]) -> list[Response]:
        return list(await asyncio.gather(*(self.evaluate_async(r) for r in requests)))

    # -- judged helpers (parsed by assay's strict parsers; a failure is counted, the fallback returned) ----

    def _parsed(self, prompt: str, parser: p.Parser, fallback: Any, **request_fields: Any) -> dict[str, Any]:
        request = Request(messages=[{"role": "user", "content": prompt}], config=self.config, **request_fields)
        outcome = self._ask(request, parser)
        if isinstance(outcome, JudgeFailure) and outcome.raw is None:
            raise JudgeRequestError(f"assay judge: {outcome.reason}: {outcome.detail}")
        return {"result": outcome.value if outcome.ok else fallback, "raw_response": outcome.raw or "",
                "model": outcome.model, "prompt": prompt, "success": outcome.ok}

    def evaluate_binary(self, question: str, answer: str, prediction: str, output_format: str = "0/1",
                        custom_prompt: str | None = None, **kwargs: Any) -> dict[str, Any]:
        prompt = JudgePromptBuilder.build_binary_prompt(question=question, answer=answer, prediction=prediction,
                                                        output_format=output_format, custom_prompt=custom_prompt,
                                                        **kwargs)
        fallback: int | bool = 0 if output_format in ("0/1", "1/0") else False
        return self._parsed(prompt, binary_parser(output_format), fallback, question=question, answer=answer,
                            prediction=prediction)

    def evaluate_comparative(self, question: str, response1: str, response2: str, context: str | None = None,
                             score_range: tuple[int, int] = (1, 10), custom_prompt: str | None = None,
                             images: list[Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        prompt = JudgePromptBuilder.build_comparative_prompt(question=question, response1=response1,
                                                             response2=response2, context=context,
                                                             score_range=score_range, custom_prompt=custom_prompt,
                                                             **kwargs)
        result = self._parsed(prompt, comparative_parser(score_range), (-1.0, -1.0), images=images)
        result["scores"] = result.pop("result")
        return result

    def evaluate_with_rubric(self, question: str, prediction: str, rubric: dict[str, Any],
                             **kwargs: Any) -> dict[str, Any]:
        items = "\n".join(f"- {k}: {v}" for k, v in rubric.items())
        prompt = (f"Rate the response below against each rubric item.\n\nQuestion: {question}\n\n"
                  f"Response: {prediction}\n\nRubric:\n{items}\n\nReply with a JSON object: one score per item.")
        result = self._parsed(prompt, p.json_object(list(rubric)), {})
        result["scores"] = result.pop("result")
        return result


class AsyncServerInterface(ServerInterface):
    """lmms-eval's async flavour: the same judge (``evaluate`` stays synchronous for helper code)."""
