"""lmms-eval's ``cli_args``: what task aggregations declaring an ``args`` parameter receive.

lmms-eval calls such an aggregation ``fn(values, args=cli_args)``, its parsed command line. Task helpers
read ``args.output_path`` (``generate_submission_file`` puts files under ``<output_path>/submissions``),
``args.model``, ``args.model_args``, ``args.limit``, ``args.log_samples``… so this namespace carries every
attribute of lmms-eval's parser, filled from the run's options (secrets in model_args are redacted).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assay.options import RunOptions


def cli_args(options: RunOptions, redact: Any = None) -> argparse.Namespace:
    """The run's options under lmms-eval's command-line attribute names."""

    def joined(values: dict[str, Any]) -> str:
        text = ",".join(f"{k}={v}" for k, v in values.items())
        return redact(text) if redact is not None else text

    seed = [options.seed, 1234, 1234, options.fewshot_seed]
    return argparse.Namespace(
        config="", model=options.model, tasks=",".join(options.tasks), model_args=joined(options.model_args),
        launcher_args=None, num_fewshot=options.num_fewshot, batch_size=options.batch_size or 1,
        max_batch_size=None, device=None,
        output_path=None if options.output_path is None else str(options.output_path),
        limit=options.limit, offset=options.offset, use_cache=None, cache_requests=None, check_integrity=False,
        write_out=False, log_samples=options.log_samples, wandb_log_samples=False, swanlab_log_samples=False,
        log_samples_suffix=options.log_samples_suffix, system_instruction=options.system_instruction,
        apply_chat_template=False, fewshot_as_multiturn=False, show_config=False,
        include_path=",".join(str(p) for p in options.include_paths) or None,
        gen_kwargs=joined(options.gen_kwargs), reasoning_tags=options.reasoning_tags, verbosity="INFO",
        wandb_args="", swanlab_args="", timezone="Asia/Singapore", hf_hub_log_args="",
        predict_only=options.predict_only, seed=seed, trust_remote_code=False, process_with_media=False,
        agentic_trace_mode="basic", force_simple=False, tui=False, repeats=options.repeats or 1, baseline=None,
        max_tokens=None,
    )
