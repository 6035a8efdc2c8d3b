"""OpenAI chat completions, and any OpenAI-compatible server (vLLM, SGLang, llama.cpp).

The translation is shared (:mod:`assay.providers.openai_compat`); this module says where OpenAI lives
and how it takes the key. ``openai_compatible`` adds ``loglikelihood`` through the legacy completions
endpoint, which vLLM and SGLang serve (OpenAI itself no longer does for current models).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from assay.errors import CredentialError
from assay.providers._endpoint import authorization, parse_base_url, without_endpoint_path
from assay.providers._http import tagged
from assay.providers.completions import loglikelihood_body, parse_loglikelihood, prompt_of
from assay.providers.openai_compat import ChatCompletionsProvider, Endpoint
from assay.types import Loglikelihood, LoglikelihoodRequest

if TYPE_CHECKING:
    from assay.env.settings import Settings
    from assay.providers.openai_batch import OpenAIBatchWire

OPENAI_BASE_URL = "https://api.openai.com/v1"
KEY_HINT = "set OPENAI_API_KEY (in .env or the environment) to a valid key from platform.openai.com/api-keys"


class OpenAIProvider(ChatCompletionsProvider):
    name: ClassVar[str] = "openai"
    #: OpenAI's Batch API (files + batches at the API root); OpenAI-compatible servers have none.
    supports_batch: ClassVar[bool] = True

    def batch_wire(self) -> OpenAIBatchWire:
        from assay.providers.openai_batch import OpenAIBatchWire  # only for --batch: off the start-up path

        return OpenAIBatchWire(self, self._base.url, line_url="/v1/chat/completions")

    def endpoint(self, settings: Settings, args: dict[str, Any]) -> Endpoint:
        given_url, given_key = args.pop("base_url", None), args.pop("api_key", None)
        url_setting = "--model_args base_url" if given_url else "OPENAI_BASE_URL"
        # Parsed, not pasted: a query string stays at the end of every request URL, user:password@ is
        # Basic authentication (never part of a message), and only http(s) gets this far.
        self._base = without_endpoint_path(
            parse_base_url(str(given_url or settings.openai_base_url or OPENAI_BASE_URL), setting=url_setting))
        api_key = given_key or settings.secret("openai_api_key")
        if not api_key and self._base.base == OPENAI_BASE_URL:
            raise CredentialError("OPENAI_API_KEY is not set", hint=KEY_HINT)
        auth = authorization(self._base, None if api_key is None else str(api_key), url_setting=url_setting,
                             key_setting="--model_args api_key" if given_key else "OPENAI_API_KEY",
                             key_given=bool(given_key))
        return Endpoint(
            base_url=self._base.base,
            chat_url=self._base.url("chat/completions"),
            # local OpenAI-compatible servers usually accept any key
            headers={"Authorization": auth or "Bearer EMPTY"},
            key_hint=KEY_HINT,
            connect_hint="check base_url / OPENAI_BASE_URL and that the server is running",
            identity={"base_url": self._base.public_url},
        )


class OpenAICompatibleProvider(OpenAIProvider):
    """An OpenAI-compatible server; also scores continuations (lmms-eval ``multiple_choice`` tasks)."""

    supports_batch: ClassVar[bool] = False

    model_example: ClassVar[str] = "model=Qwen/Qwen2-VL-7B,base_url=http://localhost:8000/v1"
    supports_loglikelihood: ClassVar[bool] = True

    async def loglikelihood(self, request: LoglikelihoodRequest) -> Loglikelihood:
        """log P(continuation | context) from ``/completions`` with ``echo``: one attempt."""
        context = prompt_of(request, provider=self.name)
        url = self._base.url("completions")
        status, headers, text = await self._http.post(url, loglikelihood_body(self._model, context, request))
        if status >= 400:
            raise self.error(status, headers, text)
        with tagged(headers):
            return parse_loglikelihood(text, len(context), provider=self.name, where=self._endpoint.base_url)
