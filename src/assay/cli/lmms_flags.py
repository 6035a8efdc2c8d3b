"""lmms-eval's other ``lmms-eval`` command-line flags, so its command lines and ``--config`` files work.

Implemented: ``--num_fewshot``, ``--system_instruction``, ``--reasoning_tags``, ``--repeats``
(``-n``/``--num_samples``), ``--log_samples_suffix``, ``--show_config``, the 4th ``--seed`` value (few-shot
sampling), ``--process_with_media`` (assay always gives ``process_results`` the whole doc) and
``--tasks list`` (with ``list_groups``, ``list_tags``, ``list_subtasks``). Accepted with a one-line notice
where they mean nothing for API models or for assay: ``--device``, ``--write_out``,
``--apply_chat_template``… (:data:`NOTICES`).
"""

from __future__ import annotations

import argparse
import json
import logging
from typing import Any

from assay.env.masking import shown_value
from assay.errors import UsageError

log = logging.getLogger("assay.cli")

#: flag -> default (for --config files too)
DEFAULTS: dict[str, Any] = {
    "num_fewshot": None, "system_instruction": None, "reasoning_tags": None, "repeats": None,
    "log_samples_suffix": "model_outputs", "show_config": False, "process_with_media": None,
    "device": None, "write_out": None, "apply_chat_template": None, "fewshot_as_multiturn": None,
    "trust_remote_code": None, "timezone": None, "cache_requests": None, "max_batch_size": None,
    "check_integrity": None, "launcher_args": None, "force_simple": None,
    "tui": None, "agentic_trace_mode": None, "baseline": None, "max_tokens": None, "swanlab_args": None,
    "swanlab_log_samples": None,
}

#: flag -> why it changes nothing here (said once when given)
NOTICES: dict[str, str] = {
    "device": "API models run where they are served",
    "write_out": "deprecated in lmms-eval too; every prompt is in the samples file with --log_samples",
    "apply_chat_template": "chat APIs apply the model's own chat template",
    "fewshot_as_multiturn": "few-shot examples are sent in one user turn, as lmms-eval sends them to API models",
    "trust_remote_code": "datasets are loaded without remote code (datasets 4 removed loading scripts)",
    "timezone": "assay's file names use UTC run ids",
    "cache_requests": "prompts are built as docs are sent; --use_cache keeps the answers",
    "max_batch_size": "concurrency is --model_args num_concurrent=N",
    "check_integrity": "lmms-eval's own test suite is not part of assay",
    "launcher_args": "judges are API models here (--judge_model/--judge_args)",
    "force_simple": "assay has one model interface",
    "tui": "assay has no interactive mode",
    "agentic_trace_mode": "agentic tasks are refused",
    "baseline": "paired comparisons are not built in",
    "max_tokens": "use --max_cost to cap what a run spends",
    "swanlab_args": "SwanLab is not a supported sink",
    "swanlab_log_samples": "SwanLab is not a supported sink",
}

LIST_WORDS = ("list", "list_groups", "list_tags", "list_subtasks")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    a = parser.add_argument
    a("--num_fewshot", type=int, help="few-shot examples per prompt (overrides every task's num_fewshot)")
    a("--system_instruction", help="text put before each prompt (with the task's description)")
    a("--reasoning_tags", help='[open, close] tag pairs stripped from answers before scoring, as JSON '
                               '(default: [["<think>", "</think>"], ["<analysis>", "</analysis>"]]; "none": off)')
    a("-n", "--repeats", "--num_samples", dest="repeats", type=int,
      help="generations per doc (overrides every task's repeats)")
    a("--log_samples_suffix", help="accepted for lmms-eval compatibility (samples files are named per task)")
    a("--show_config", action="store_true", default=None, help="print every task's resolved config at the end")
    a("--process_with_media", action="store_true", default=None,
      help="accepted: process_results always gets the whole doc, media included")
    for flag in NOTICES:
        kind = {"write_out", "apply_chat_template", "fewshot_as_multiturn", "trust_remote_code", "check_integrity",
                "force_simple", "tui", "swanlab_log_samples"}
        if flag in kind:
            names = ["--write_out", "-w"] if flag == "write_out" else [f"--{flag}"]
            a(*names, action="store_true", default=None, help=f"accepted; no effect: {NOTICES[flag]}")
        else:
            a(f"--{flag}", help=f"accepted; no effect: {NOTICES[flag]}")


def say_notices(values: dict[str, Any]) -> None:
    for flag, why in NOTICES.items():
        if values.get(flag) not in (None, False, ""):
            log.warning("--%s has no effect in assay: %s", flag, why)


def reasoning_tags(value: Any) -> Any:
    """``--reasoning_tags``: None (lmms-eval's default pairs), ``"none"``, or a JSON list of pairs."""
    if value is None:
        return "default"
    if isinstance(value, list) or value in ("none", False):
        return value
    try:
        parsed = json.loads(str(value))
    except json.JSONDecodeError:
        raise UsageError(f"--reasoning_tags {shown_value(value)} is not JSON",
                         hint='e.g. --reasoning_tags \'[["<think>", "</think>"]]\' or --reasoning_tags none') from None
    return parsed


def seeds(value: Any) -> tuple[int, int | None, int | None, int]:
    """``--seed``: lmms-eval's ``random,numpy,torch,fewshot`` form, or one integer for all four."""
    parts = [p.strip() for p in str(value).split(",")]
    try:
        numbers = [None if p.lower() == "none" else int(p) for p in parts]
    except ValueError:
        raise UsageError(f"--seed {shown_value(value)} is not an integer",
                         hint="e.g. --seed 1234 or --seed 0,1234,1234,1234") \
            from None
    if len(numbers) not in (1, 4):
        raise UsageError(f"--seed {shown_value(value)}: give one value or four", hint="e.g. --seed 0,1234,1234,1234")
    if len(numbers) == 1:
        numbers = numbers * 4
    run = numbers[0] if numbers[0] is not None else 0
    fewshot = numbers[3] if numbers[3] is not None else 1234
    return run, numbers[1], numbers[2], fewshot
