"""Which task YAML keys assay honours, which have no effect (in lmms-eval either), which it refuses.

Every key lmms-eval's ``TaskConfig`` knows is in exactly one table here; a key in none of them is
refused by name, as lmms-eval itself refuses it (``TaskConfig(**config)`` raises on an unknown key). So
no key is ever silently ignored: a task either loads with the key doing what it does in lmms-eval, or
fails to load naming the key and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assay.env.registry import suggestions
from assay.errors import TaskError

HONOURED = frozenset(
    {
        "task", "task_alias", "tag", "group", "group_alias", "dataset_path", "dataset_name", "dataset_kwargs",
        "training_split", "validation_split", "test_split", "fewshot_split", "process_docs", "doc_to_visual",
        "doc_to_text", "doc_to_target", "doc_to_choice", "doc_to_messages", "process_results", "description",
        "target_delimiter", "fewshot_delimiter", "fewshot_config", "num_fewshot", "metric_list", "output_type",
        "generation_kwargs", "repeats", "filter_list", "metadata", "lmms_eval_specific_kwargs",
        "model_specific_generation_kwargs", "model_specific_target_kwargs", "reasoning_tags",
        "auto_strip_thinking", "cluster_key", "score_key", "process_results_use_image",
    }
)  # fmt: skip

#: Keys lmms-eval accepts but whose value changes nothing in an evaluation: accepted, and said why.
INERT: Mapping[str, str] = {
    "full_docs": "lmms-eval never passes full_docs to process_results",
    "should_decontaminate": "decontamination reports are not part of an evaluation run",
    "doc_to_decontamination_query": "decontamination reports are not part of an evaluation run",
}

REFUSED: Mapping[str, str] = {
    "use_prompt": "promptsource templates are not supported; write doc_to_text instead",
    "class": "Python-class tasks are not supported; only YAML tasks (doc_to_text/doc_to_visual/…) run",
}

OUTPUT_TYPES = ("generate_until", "multiple_choice")
REFUSED_OUTPUT_TYPES: Mapping[str, str] = {
    "generate_visual_cot": "it asks the model to generate images (visual chain of thought), which chat APIs do not",
    "generate_until_multi_round": "multi-round generation drives the model turn by turn through task code",
    "generate_until_agentic": "agentic tasks run tool loops inside lmms-eval's model classes",
    "loglikelihood": "plain loglikelihood tasks (perplexity) are not supported; multiple_choice is",
}

#: fewshot_config keys lmms-eval reads, and those it accepts but never reads (lm-eval-harness keys).
FEWSHOT_KEYS = frozenset({"sampler"})
FEWSHOT_UNREAD = frozenset({"samples", "doc_to_text", "doc_to_target", "doc_to_choice", "fewshot_delimiter",
                            "target_delimiter", "split", "process_docs"})


def check_keys(raw: Mapping[str, Any], where: str) -> list[str]:
    """Refuse unknown and refused keys (``TaskError`` naming them); the inert keys present, for a notice."""
    for key in raw:
        if key in REFUSED:
            raise TaskError(f"{where}: `{key}` is not supported: {REFUSED[key]}", hint=f"remove `{key}`")
    unknown = [k for k in raw if k not in HONOURED and k not in INERT and k not in REFUSED and k != "include"]
    if unknown:
        known = sorted({*HONOURED, *INERT})
        close = {k: suggestions(str(k), known, n=1) for k in unknown}
        did = "; ".join(f"{k!r}: did you mean {c[0]!r}?" for k, c in close.items() if c)
        raise TaskError(
            f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(repr(k) for k in unknown)} "
            "(lmms-eval refuses it too)",
            hint=(did + "; " if did else "") + "remove it or fix its spelling",
        )
    return [k for k in raw if k in INERT]


def check_output_type(value: Any, where: str) -> str:
    output_type = "generate_until" if value is None else str(value)
    if output_type in REFUSED_OUTPUT_TYPES:
        raise TaskError(f"{where}: output_type {output_type} is not supported: {REFUSED_OUTPUT_TYPES[output_type]}",
                        hint=f"assay runs output types: {', '.join(OUTPUT_TYPES)}")
    if output_type not in OUTPUT_TYPES:
        raise TaskError(f"{where}: unknown output_type {output_type!r}",
                        hint=f"assay runs output types: {', '.join(OUTPUT_TYPES)}")
    return output_type
