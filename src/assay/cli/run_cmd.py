"""`assay run`: lmms-eval's flag names, preflight first, progress while it runs, a table at the end."""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay.cli.lmms_flags import DEFAULTS as LMMS_DEFAULTS
from assay.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from assay.env.credentials import Redactor
    from assay.env.settings import Settings
    from assay.options import RunOptions
    from assay.run import RunControl

#: flag -> default, applied after --config so that explicit flags win over the config file.
DEFAULTS: dict[str, Any] = {
    "model": None, "model_args": "", "tasks": None, "limit": None, "offset": 0, "batch_size": None,
    "output_path": "./logs", "log_samples": False, "predict_only": False, "gen_kwargs": "", "seed": "0,1234,1234,1234",
    "include_path": None, "wandb_args": None, "hf_hub_log_args": None, "use_cache": None, "bootstrap_iters": 0,
    "max_error_rate": 0.05, "max_cost": None, "task_timeout": 600, "dry_run": False, "batch": False,
    "judge_model": None, "judge_args": "", "max_judge_failure_rate": 0.05,
    "wandb_log_samples": False, "report": False, "log_media": False, "ray": None,
}
DEFAULTS.update(LMMS_DEFAULTS)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    a = parser.add_argument
    a("--config", metavar="YAML", help="a YAML file of these same flags, or a list of runs (explicit flags win)")
    a("--model", help="provider: openai, openai_compatible, local, … (see `assay models`); lmms-eval's names too")
    a("--model_args", help="comma-separated key=value, e.g. model=gpt-4o-mini,num_concurrent=16")
    a("--tasks", help="comma-separated task names, groups, tags or globs (see `assay tasks`)")
    a("--limit", type=float, help="docs per task: a count, or a fraction below 1")
    a("--offset", type=int, help="skip this many docs of each task first")
    a("-b", "--batch_size", help="accepted for lmms-eval compatibility (concurrency is num_concurrent)")
    a("--output_path", help="folder for results and samples (default ./logs); a path ending in .json is the "
                            "results file, as in lmms-eval")
    a("--log_samples", action="store_true", default=None, help="write every sample to JSONL")
    a("-x", "--predict_only", action="store_true", default=None,
      help="generate without scoring (implies --log_samples: every answer is kept)")
    a("--gen_kwargs", help="generation overrides, e.g. temperature=0,max_new_tokens=64")
    a("--seed", help="random seed; lmms-eval's random,numpy,torch,fewshot form is read for its first and last "
                     "values (default 0,1234,1234,1234)")
    a("--include_path", action="append", help="extra folder of task YAML (repeatable)")
    a("--wandb_args", help="Weights & Biases options, e.g. project=lmms-eval,mode=offline")
    a("--hf_hub_log_args", help="Hugging Face Hub options, e.g. hub_results_org=me,push_results_to_hub=True")
    a("--wandb_log_samples", action="store_true", default=None,
      help="also log each task's samples as a W&B table (implies --log_samples)")
    a("--report", action="store_true", default=None,
      help="write a self-contained HTML report beside the results ({run_id}_report.html)")
    a("--log_media", action="store_true", default=None,
      help="save a thumbnail of each distinct image/video frame under the run, for the report (implies --log_samples)")
    a("-c", "--use_cache", nargs="?", const=True, default=None, metavar="PATH",
      help="reuse cached responses (LMMS_EVAL_USE_CACHE); with PATH, the cache lives there (lmms-eval's form: a "
           "folder, or a .sqlite file)")
    a("--bootstrap_iters", type=int, help="bootstrap resamples for a 95%% CI per metric (0: off)")
    a("--max_error_rate", type=float,
      help="share of samples that may fail before the run counts as failed (exit 1; default 0.05)")
    a("--max_cost", type=float, metavar="USD",
      help="stop sending requests once the run (model and judge) would cost more than this; results are kept")
    a("--task_timeout", type=float, metavar="SECONDS",
      help="seconds one call of task code may take before that doc (or metric) is an error (default 600; 0: none)")
    a("--dry_run", action="store_true", default=None,
      help="build every prompt and print what the run would send and cost (tokens, media, USD range); send nothing")
    a("--batch", action="store_true", default=None,
      help="send the model's requests through the vendor's batch API (about half the price; results within hours)")
    a("--judge_model", help="the judge's provider: openai, azure_openai, openai_compatible, … (default: API_TYPE)")
    a("--judge_args", help="judge options, e.g. model=gpt-4o-mini,base_url=…,num_concurrent=32,temperature=0")
    a("--max_judge_failure_rate", help="share of judged samples per task that may fail (default 0.05); "
                                       "above it the run exits 4, results written")
    a("--ray", nargs="?", const="", metavar="ADDRESS",
      help="shard the run over a Ray cluster: HOST:PORT, or auto; alone, RAY_ADDRESS or auto (the `ray` extra); "
           "a --config list of runs then runs at once, sharing the cluster")
    from assay.cli import lmms_flags

    lmms_flags.add_arguments(parser)


def _merged(args: argparse.Namespace, config: dict[str, Any]) -> dict[str, Any]:
    """One run's values: the command line's flags over the config file's, over the defaults."""
    values: dict[str, Any] = dict(config)
    for key, default in DEFAULTS.items():
        given = getattr(args, key, None)
        if given is not None:
            values[key] = given
        values.setdefault(key, default)
    return values


def _join(value: Any) -> str:
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


def run(args: argparse.Namespace, settings: Settings, redactor: Redactor) -> int:
    from assay.cli.run_config import load_runs

    runs = load_runs(args.config, set(DEFAULTS)) if args.config else [{}]
    if len(runs) == 1:
        return _run_one(_merged(args, runs[0]), settings, redactor)
    merged = [_merged(args, r) for r in runs]
    if any(v["ray"] is not None for v in merged):  # on a cluster, the runs share it at once
        return _run_sweep(merged, settings, redactor)
    from assay.cli.run_many import run_all

    return run_all(merged, lambda v: _run_one(v, settings, redactor), redactor)


def _run_one(v: dict[str, Any], settings: Settings, redactor: Redactor) -> int:
    from assay.api import runner_for
    from assay.cli import lmms_flags
    from assay.cli.progress import make_progress
    from assay.cli.push_cmd import print_outputs
    from assay.cli.render import print_results
    from assay.cli.signals import stop_on_signals
    from assay.errors import RunFailedError
    from assay.run import EvaluationResult, RunControl
    from assay.run.eventloop import run as run_on_loop

    if str(v["tasks"] or "").strip() in lmms_flags.LIST_WORDS:  # lmms-eval's `--tasks list`
        return _list_tasks(v, settings, redactor)
    options, settings, results_file = run_options(v, settings)
    if options.dry_run:
        from assay.cli.estimate_render import print_estimate

        print_estimate(run_on_loop(runner_for(options)(settings, options, redactor)).results, sys.stdout,
                       redactor.redact)
        return 0
    progress = make_progress(sys.stderr)
    control = RunControl()
    # From here to the end, SIGINT/SIGTERM/SIGHUP stop the run gracefully (exit 128 + signal) and no
    # further signal can get in the way of the results write.
    with stop_on_signals(control), _collector_for_the_run(control):
        try:
            result = run_on_loop(runner_for(options)(settings, options, redactor, progress=progress, control=control))
        except RunFailedError as exc:  # the table still shows what the run did; the error says why it failed
            if isinstance(exc.result, EvaluationResult):
                _copy_results(exc.result, results_file)
                print_results(exc.result, sys.stdout, redactor.redact)
                print_outputs(exc.result.outputs, redactor)
            raise
        _copy_results(result, results_file)
        print_results(result, sys.stdout, redactor.redact)
        if v["show_config"]:
            _show_config(result.results, redactor)
        return print_outputs(result.outputs, redactor)


#: Container allocations (net of frees) between two young-generation collections during a run: Python's 700
#: made a 10k-question run collect ~650 times for ~100 ms (most of what a run allocates is freed by reference
#: counting anyway); at 5,000 it collects ~20 times for ~12 ms, peak RSS the same (47.5 MB).
RUN_GC_THRESHOLD = 5000


@contextlib.contextmanager
def _collector_for_the_run(control: RunControl) -> Iterator[None]:
    """The cyclic collector, tuned for the run, then as it was: young collections are rarer
    (:data:`RUN_GC_THRESHOLD`), and what the run builds before its first request (modules, plan, tasks: tens
    of thousands of objects), which lives until the run ends, is frozen then (``gc.freeze``): the collector's
    full passes no longer walk it again and again (~80 ms of a 10k-question run). Unfrozen when the run is
    over, so that a list of runs (or a caller of :func:`assay.cli.main`) frees it as usual; a process that
    froze objects of its own is left as it is."""
    froze = False
    thresholds = gc.get_threshold()

    def freeze() -> None:
        nonlocal froze
        if gc.get_freeze_count() == 0:
            gc.freeze()
            froze = True

    control.when_started(freeze)
    gc.set_threshold(max(thresholds[0], RUN_GC_THRESHOLD), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        if froze:
            gc.unfreeze()


def _run_sweep(merged: list[dict[str, Any]], settings: Settings, redactor: Redactor) -> int:
    """A ``--config`` list with ``--ray``: every run at once on the cluster, then each one's table and the
    summary, as a list run locally prints them (its outcome computed already)."""
    from assay.cli.push_cmd import print_outputs
    from assay.cli.render import print_results
    from assay.cli.run_many import run_all
    from assay.cli.signals import stop_on_signals
    from assay.cluster import sweep
    from assay.errors import AssayError, RunFailedError
    from assay.run import EvaluationResult, RunControl
    from assay.run.eventloop import run as run_on_loop

    runs = [run_options(v, settings) for v in merged]
    control = RunControl()
    with stop_on_signals(control):
        outcomes = iter(run_on_loop(sweep([(s, o) for o, s, _ in runs], redactor, control=control)))
    files = iter(results_file for _, _, results_file in runs)

    def show(v: dict[str, Any]) -> int:
        outcome, results_file = next(outcomes), next(files)
        result = outcome.result if isinstance(outcome, RunFailedError) else outcome
        if isinstance(result, EvaluationResult):
            _copy_results(result, results_file)
            print_results(result, sys.stdout, redactor.redact)
        if isinstance(outcome, AssayError):
            raise outcome
        return print_outputs(outcome.outputs, redactor)

    return run_all(merged, show, redactor)


def run_options(v: dict[str, Any], settings: Settings) -> tuple[RunOptions, Settings, Path | None]:
    """One run's flags as RunOptions, the settings it runs with, and the ``.json`` results path it asked for."""
    from assay.api import _as_dict
    from assay.cli import lmms_flags
    from assay.cli.run_config import cache_option, output_option
    from assay.judge.config import parse_failure_rate
    from assay.options import RunOptions, as_number

    lmms_flags.say_notices(v)
    seed, numpy_seed, torch_seed, fewshot_seed = lmms_flags.seeds(v["seed"])
    if not v["model"]:
        raise UsageError("--model is required", hint="e.g. --model openai --model_args model=gpt-4o-mini")
    if not v["tasks"]:
        raise UsageError("--tasks is required", hint="see `assay tasks` for the available tasks")
    use_cache, cache_path = cache_option(v["use_cache"])
    if use_cache is not None:
        settings = settings.with_overrides({"use_cache": use_cache}, {"use_cache": "--use_cache"})
    output_folder, results_file = output_option(v["output_path"])
    include = v["include_path"] or []
    options = RunOptions(
        model=str(v["model"]),
        tasks=tuple(t.strip() for t in _join(v["tasks"]).split(",") if t.strip()),
        model_args=_as_dict(_join(v["model_args"]), "--model_args") or {},
        limit=as_number("--limit", v["limit"]),
        offset=as_number("--offset", v["offset"], whole=True),
        output_path=output_folder,
        log_samples=bool(v["log_samples"]),
        predict_only=bool(v["predict_only"]),
        gen_kwargs=_as_dict(_join(v["gen_kwargs"]), "--gen_kwargs") or {},
        seed=seed,
        fewshot_seed=fewshot_seed,
        numpy_seed=numpy_seed,
        torch_seed=torch_seed,
        num_fewshot=as_number("--num_fewshot", v["num_fewshot"], whole=True),
        system_instruction=v["system_instruction"],
        reasoning_tags=lmms_flags.reasoning_tags(v["reasoning_tags"]),
        repeats=as_number("--repeats", v["repeats"], whole=True),
        log_samples_suffix=str(v["log_samples_suffix"]),
        include_paths=tuple(Path(p) for p in ([include] if isinstance(include, str) else include)),
        batch_size=v["batch_size"],
        wandb_args=_as_dict(_join(v["wandb_args"]), "--wandb_args") if v["wandb_args"] else None,
        hub_args=_as_dict(_join(v["hf_hub_log_args"]), "--hf_hub_log_args") if v["hf_hub_log_args"] else None,
        bootstrap_iters=as_number("--bootstrap_iters", v["bootstrap_iters"] or 0, whole=True),
        use_cache=use_cache,
        cache_path=cache_path,
        max_error_rate=as_number("--max_error_rate", v["max_error_rate"]),
        wandb_log_samples=bool(v["wandb_log_samples"]),
        report=bool(v["report"]),
        log_media=bool(v["log_media"]),
        max_cost=as_number("--max_cost", v["max_cost"]),
        task_timeout=as_number("--task_timeout", v["task_timeout"]),
        dry_run=bool(v["dry_run"]),
        batch=bool(v["batch"]),
        judge_model=str(v["judge_model"]) if v["judge_model"] else None,
        judge_args=_as_dict(_join(v["judge_args"]), "--judge_args") or {},
        max_judge_failure_rate=parse_failure_rate(v["max_judge_failure_rate"]),
        ray=None if v["ray"] is None or v["ray"] is False else ("" if v["ray"] is True else str(v["ray"]).strip()),
    )
    return options, settings, results_file


def _list_tasks(v: dict[str, Any], settings: Settings, redactor: Redactor) -> int:
    """``--tasks list``: what `assay tasks` prints (lmms-eval's list_groups/list_tags/list_subtasks too)."""
    from assay.cli.tasks_cmd import _print, _table
    from assay.tasks import TaskRegistry

    include = v["include_path"] or []
    import assay.compat  # noqa: F401  (answers `import lmms_eval` for task helpers)

    registry = TaskRegistry.discover(settings, include_paths=[include] if isinstance(include, str) else include)
    lines = _table(registry, [])
    kind = {"list_groups": "group", "list_tags": "tag", "list_subtasks": "task"}.get(str(v["tasks"]).strip())
    if kind is not None:
        lines = lines[:3] + [line for line in lines[3:-1] if line.split()[1:2] == [kind]] + lines[-1:]
    _print(lines, redactor)
    return 0


def _show_config(results: dict[str, Any], redactor: Redactor) -> None:
    """``--show_config``: every task's resolved config, as lmms-eval prints it after a run."""
    from assay.tasks.yaml.loader import dump_yaml

    for name, config in (results.get("configs") or {}).items():
        sys.stdout.write(redactor.redact(f"\n# task {name}\n" + dump_yaml(config)))


def _copy_results(result: Any, results_file: Path | None) -> None:
    """``--output_path x.json``: the results document is also written to exactly that file (lmms-eval's
    meaning); the run's folder keeps its own copy beside the samples."""
    if results_file is None or result.results_path is None:
        return
    import shutil

    try:
        shutil.copyfile(result.results_path, results_file)
    except OSError as exc:
        raise ConfigError(f"cannot write --output_path {results_file}: {exc.strerror}",
                          hint=f"the results are in {result.results_path}") from None
    print(f"results: {results_file}", file=sys.stdout)
