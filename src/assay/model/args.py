"""Parse lmms-eval style ``--model_args`` / ``--gen_kwargs`` strings: ``k=v,k2=v2``."""

from __future__ import annotations

from typing import Any

from assay.errors import ConfigError

_EXAMPLES = {
    "--model_args": "model=gpt-4o-mini,num_concurrent=8",
    "--gen_kwargs": "temperature=0,max_new_tokens=64",
    "--judge_args": "model=gpt-4o-mini,num_concurrent=32,temperature=0",
    "--wandb_args": "project=lmms-eval,mode=offline",
    "--hf_hub_log_args": "hub_results_org=me,push_results_to_hub=True",
}


def coerce_scalar(text: str) -> Any:
    """'3' -> 3, '0.5' -> 0.5, 'true' -> True, 'none' -> None, anything else stays a string."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_kv_string(text: str | None, flag: str = "--model_args") -> dict[str, Any]:
    """Parse ``k=v,k2=v2``. A value may contain '=' (URLs); a piece without '=' is an error."""
    out: dict[str, Any] = {}
    if not text or not text.strip():
        return out
    for position, piece in enumerate(text.split(","), start=1):
        if not piece.strip():
            continue
        key, sep, value = piece.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(
                # The piece itself is not echoed: a pasted key would land in the terminal and logs.
                f"{flag}: item {position} is not key=value",
                hint=f"write {flag} as key=value pairs separated by commas, e.g. {_EXAMPLES.get(flag, 'a=1,b=2')}",
            )
        out[key] = coerce_scalar(value.strip())
    return out
