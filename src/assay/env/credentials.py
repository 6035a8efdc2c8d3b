"""Credentials: what each one is, where to get it, how to set it — and the redactor every output uses.

The redaction machinery lives in :mod:`assay.env.redaction` and is re-exported here. Which credentials a
run needs is worked out by :mod:`assay.preflight.requirements` (``requirements`` / ``preflight``);
live checks are in :mod:`assay.preflight.probe`.
"""

from __future__ import annotations

from dataclasses import dataclass

from assay.env.masking import MIN_TEXT_SECRET, is_secret_key, mask
from assay.env.redaction import RedactingFilter, Redactor
from assay.env.settings import SPEC_BY_FIELD

__all__ = [
    "CREDENTIALS",
    "MIN_TEXT_SECRET",
    "CredentialInfo",
    "RedactingFilter",
    "Redactor",
    "env_name",
    "how_to_set",
    "is_secret_key",
    "mask",
]


@dataclass(frozen=True)
class CredentialInfo:
    """A credential-like setting: the service it belongs to and where a user gets a value for it."""

    field: str
    service: str
    get_it: str
    example: str = "…"


CREDENTIALS: dict[str, CredentialInfo] = {
    info.field: info
    for info in (
        CredentialInfo("openai_api_key", "OpenAI", "get a key at https://platform.openai.com/api-keys"),
        CredentialInfo(
            "azure_api_key", "Azure OpenAI",
            "find it in the Azure portal: your Azure OpenAI resource > Keys and Endpoint",
        ),
        CredentialInfo(
            "azure_endpoint", "Azure OpenAI",
            "find it in the Azure portal: your Azure OpenAI resource > Keys and Endpoint",
            example="https://RESOURCE.openai.azure.com",
        ),
        CredentialInfo("hf_token", "Hugging Face", "create a token at https://huggingface.co/settings/tokens"),
        CredentialInfo(
            "wandb_api_key", "Weights & Biases",
            "run `wandb login` (assay reads its ~/.netrc entry) or copy it from https://wandb.ai/authorize",
        ),
        CredentialInfo("anthropic_api_key", "Anthropic", "get a key at https://console.anthropic.com/settings/keys"),
        CredentialInfo("google_api_key", "Google Gemini", "get a key at https://aistudio.google.com/apikey"),
        CredentialInfo("xai_api_key", "xAI", "get a key at https://console.x.ai"),
        CredentialInfo("reka_api_key", "Reka", "get a key at https://platform.reka.ai"),
        CredentialInfo("viescore_api_key", "VIEScore judge", "use the key of the server that runs the VIEScore judge"),
    )
}


def env_name(field: str) -> str:
    """The primary environment variable of a settings field (``openai_api_key`` -> ``OPENAI_API_KEY``)."""
    spec = SPEC_BY_FIELD.get(field)
    return spec.env_name if spec else field.upper()


def how_to_set(field: str) -> str:
    """One sentence telling the user how to provide ``field``: which variable, where, and where to get it."""
    info = CREDENTIALS.get(field)
    example = info.example if info else "…"
    text = f"add {env_name(field)}={example} to .env or export it"
    return f"{text}; {info.get_it}" if info else text
