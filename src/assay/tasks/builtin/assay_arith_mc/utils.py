"""Prompt for assay_arith_mc (lmms-eval style: question, lettered options, then the instruction)."""

from __future__ import annotations

from typing import Any

LETTERS = "ABCDEFGH"


def arith_doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    options = "\n".join(f"{LETTERS[i]}. {option}" for i, option in enumerate(doc["options"]))
    return f"{kwargs.get('pre_prompt', '')}{doc['question']}\n{options}{kwargs.get('post_prompt', '')}"


def arith_doc_to_choice(doc: dict[str, Any]) -> list[str]:
    return [str(option) for option in doc["options"]]
