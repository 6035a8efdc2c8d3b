"""Which tasks call a judge, and which judge: read from task config alone, before anything runs.

Preflight needs this to check the judge's credentials up front; the judge layer (above) uses the same
answers to build its clients, so the two never ask each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Providers that take OpenAI's judge variables (``OPENAI_API_URL``, ``OPENAI_BASE_URL``).
OPENAI_FAMILY = frozenset({"openai", "openai_compatible", "openai_compatible_chat"})


def task_judge_profile(config: Mapping[str, Any]) -> str:
    """Which judge a task's metadata asks for: ``judge: viescore`` names the VIEScore judge; anything
    else (``gpt_eval_model_name``, ``judge_model`` …) the default one."""
    metadata = config.get("metadata")
    if isinstance(metadata, Mapping) and str(metadata.get("judge", "")).strip().lower() == "viescore":
        return "viescore"
    return "default"
