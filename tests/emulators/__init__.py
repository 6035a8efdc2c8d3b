"""Loopback servers that speak each vendor's wire protocol (see ``base.py``), and how assay reaches each.

``VENDORS[provider]`` says which emulator serves a provider, the ``--model_args`` that point the provider at
it (its ``base_url`` in the sense of the vendor's own SDK), and the variable holding its key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.emulators.anthropic import AnthropicEmulator
from tests.emulators.base import Emulator
from tests.emulators.gemini import GeminiEmulator
from tests.emulators.openai import AzureEmulator, OpenAIEmulator
from tests.emulators.reka import RekaEmulator


@dataclass(frozen=True)
class Vendor:
    provider: str
    emulator: Callable[..., Emulator]
    variable: str  # the key's environment variable
    model: str
    args: Callable[[Emulator], dict[str, Any]]  # --model_args that reach the emulator

    def model_args(self, emu: Emulator, **extra: Any) -> dict[str, Any]:
        return {"model": self.model, **self.args(emu), **extra}


VENDORS: dict[str, Vendor] = {v.provider: v for v in (
    Vendor("openai", OpenAIEmulator, "OPENAI_API_KEY", "gpt-4o-mini", lambda e: {"base_url": f"{e.base_url}/v1"}),
    Vendor("openai_compatible", OpenAIEmulator, "OPENAI_API_KEY", "Qwen/Qwen2-VL-7B",
           lambda e: {"base_url": f"{e.base_url}/v1"}),
    Vendor("xai", OpenAIEmulator, "XAI_API_KEY", "grok-4", lambda e: {"base_url": f"{e.base_url}/v1"}),
    Vendor("azure_openai", AzureEmulator, "AZURE_API_KEY", "gpt4o-deploy", lambda e: {"endpoint": e.base_url}),
    Vendor("anthropic", AnthropicEmulator, "ANTHROPIC_API_KEY", "claude-sonnet-4-5",
           lambda e: {"base_url": e.base_url}),
    Vendor("gemini", GeminiEmulator, "GOOGLE_API_KEY", "gemini-2.5-flash", lambda e: {"base_url": e.base_url}),
    Vendor("reka", RekaEmulator, "REKA_API_KEY", "reka-flash", lambda e: {"base_url": f"{e.base_url}/v1"}),
)}

__all__ = ["VENDORS", "AnthropicEmulator", "AzureEmulator", "Emulator", "GeminiEmulator", "OpenAIEmulator",
           "RekaEmulator", "Vendor"]
