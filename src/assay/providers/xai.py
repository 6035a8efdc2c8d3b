"""xAI Grok: the OpenAI chat-completions protocol at xAI's own address, with XAI_API_KEY.

``base_url`` means what the OpenAI SDK (xAI's documented client) means by it: the API root including
``/v1`` (default ``https://api.x.ai/v1``), so a gateway URL drops in unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from assay.providers._endpoint import parse_base_url, required_key, without_endpoint_path
from assay.providers.openai_compat import ChatCompletionsProvider, Endpoint

if TYPE_CHECKING:
    from assay.env.settings import Settings

XAI_BASE_URL = "https://api.x.ai/v1"
KEY_HINT = "set XAI_API_KEY (in .env or the environment) to a valid key from console.x.ai"


class XAIProvider(ChatCompletionsProvider):
    name: ClassVar[str] = "xai"
    model_example: ClassVar[str] = "model=grok-4"
    accepts_audio: ClassVar[bool] = False  # Grok's chat API takes text and images

    def endpoint(self, settings: Settings, args: dict[str, Any]) -> Endpoint:
        given_url, given_key = args.pop("base_url", None), args.pop("api_key", None)
        base = without_endpoint_path(parse_base_url(str(given_url or XAI_BASE_URL), setting="--model_args base_url"))
        key = required_key(given_key, settings, "xai_api_key", "XAI_API_KEY", hint=KEY_HINT)
        return Endpoint(
            base_url=base.base,
            chat_url=base.url("chat/completions"),
            headers={"Authorization": f"Bearer {key}"},
            identity={"base_url": base.public_url},
            key_hint=KEY_HINT,
            connect_hint="check base_url and your network connection to api.x.ai",
        )
