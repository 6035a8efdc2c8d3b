"""Azure OpenAI: chat completions at a deployment of your resource, with the ``api-key`` header.

The request goes to ``{AZURE_ENDPOINT}/openai/deployments/{deployment}/chat/completions?api-version=…``
(what the ``AzureOpenAI`` client of the openai SDK builds from ``azure_endpoint``, ``azure_deployment``
and ``api_version``). Azure's content filter answers 400 ``content_filter`` (prompt) or 200 with
``finish_reason: content_filter`` (answer): both are refusals, handled by the shared translation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from assay.errors import ConfigError, CredentialError
from assay.providers._endpoint import parse_base_url, required_key
from assay.providers.openai_batch import OpenAIBatchWire
from assay.providers.openai_compat import ChatCompletionsProvider, Endpoint

if TYPE_CHECKING:
    from assay.env.settings import Settings

DEFAULT_API_VERSION = "2024-10-21"
KEY_HINT = ("set AZURE_API_KEY (or AZURE_OPENAI_API_KEY) to a key of your Azure OpenAI resource "
            "(Azure portal > the resource > Keys and Endpoint)")


class AzureOpenAIProvider(ChatCompletionsProvider):
    name: ClassVar[str] = "azure_openai"
    model_example: ClassVar[str] = "deployment=my-gpt-4o"
    #: Azure OpenAI's global batch deployments speak OpenAI's Batch API under /openai/.
    supports_batch: ClassVar[bool] = True

    def batch_wire(self) -> OpenAIBatchWire:
        base, version = self._endpoint.base_url, quote(str(self._endpoint.identity["api_version"]))
        return OpenAIBatchWire(self, lambda path: f"{base}/openai/{path}?api-version={version}",
                               line_url="/chat/completions")

    _default_deployment: str | None = None

    def __init__(self, settings: Settings, model_args: dict[str, Any]) -> None:
        self._default_deployment = settings.azure_deployment  # DEPLOYMENT_NAME, lmms-eval's variable
        super().__init__(settings, model_args)

    def _pop_model(self, args: dict[str, Any]) -> str:
        deployment = args.pop("deployment", None) or args.pop("azure_deployment", None)
        model = args.pop("model", None) or args.pop("model_version", None)
        name = deployment or model or self._default_deployment
        if not name:
            raise ConfigError("--model_args needs deployment=… for the azure_openai provider",
                              hint=f"e.g. --model_args {self.model_example} (the deployment name in Azure AI Foundry)")
        return str(name)

    def endpoint(self, settings: Settings, args: dict[str, Any]) -> Endpoint:
        endpoint = args.pop("endpoint", None) or args.pop("azure_endpoint", None) or settings.azure_endpoint
        if not endpoint:
            raise CredentialError("AZURE_ENDPOINT is not set",
                                  hint="set AZURE_ENDPOINT=https://RESOURCE.openai.azure.com (or endpoint=… in "
                                       "--model_args)")
        given_key = args.pop("api_key", None)
        api_key = required_key(given_key, settings, "azure_api_key", "AZURE_API_KEY", hint=KEY_HINT)
        version = str(args.pop("api_version", None) or settings.azure_api_version or DEFAULT_API_VERSION)
        base = parse_base_url(str(endpoint), setting="AZURE_ENDPOINT").base
        deployment = quote(self._model, safe="")
        return Endpoint(
            base_url=base,
            chat_url=f"{base}/openai/deployments/{deployment}/chat/completions?api-version={quote(version)}",
            headers={"api-key": str(api_key)},
            key_hint=KEY_HINT,
            connect_hint="check AZURE_ENDPOINT (https://RESOURCE.openai.azure.com) and your network",
            identity={"api_version": version},
        )
