"""Scoring a doc the way lmms-eval's ``ConfigurableTask.process_results`` does, and aggregating it.

The metric names of ``metric_list`` resolve to lmms-eval's registered metrics (:mod:`assay.tasks.scoring.lmms_metrics`)
first, then to assay's own (``normalized_exact_match``, ``mc_accuracy``, ``relaxed_accuracy``). With a
``process_results`` function the names only select what is aggregated and how.

Aggregation follows lmms-eval's calling convention: a ``!function`` aggregation whose signature has an
``args`` parameter is called ``fn(values, args=cli_args)``, where ``cli_args`` carries lmms-eval's
command-line attribute names (``output_path`` for submission files, ``model``, ``limit``…).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assay.errors import TaskError
from assay.tasks.scoring import lmms_metrics
from assay.tasks.yaml.config import MetricSpec

if TYPE_CHECKING:
    from assay.env.settings import Settings

Fn = Callable[..., Any]


def _assay_metric(name: str) -> Fn | None:
    from assay.metrics.scorers import METRICS

    own = {"normalized_exact_match": METRICS["exact_match"], "mc_accuracy": METRICS["mc_accuracy"],
           "relaxed_accuracy": METRICS["relaxed_accuracy"]}
    return own.get(name)


ASSAY_METRICS = ("normalized_exact_match", "mc_accuracy", "relaxed_accuracy")


def _plugin_metric(name: str, settings: Settings | None, *, builtin: bool) -> Fn | None:
    if builtin and (settings is None or not settings.plugin_overrides):
        return None
    from assay.env.plugins import load_metric
    from assay.metrics.scorers import METRICS

    return load_metric(name, settings, builtin=METRICS)


@dataclass(frozen=True)
class Metric:
    """One metric of a task: how a doc is scored (``fn``), how values combine, which way is better."""

    name: str
    fn: Fn | None  # None: process_results computes it
    kind: str  # "lmms": fn(references=…, predictions=…); "assay": fn(prediction, target, doc); "" with process_results
    options: Mapping[str, Any]
    aggregation: Fn
    aggregation_name: str
    higher_is_better: bool


def resolve_metrics(specs: Sequence[MetricSpec], *, output_type: str, has_process_results: bool,
                    where: str, settings: Settings | None = None) -> list[Metric]:
    """The task's metrics; unknown names and aggregations fail here, at load, naming the task.

    An ``assay.metrics.scorers`` plugin provides a name nothing else does (or replaces one, where
    ASSAY_PLUGIN_OVERRIDES allows); it is called like assay's own metrics, ``fn(prediction, target, doc)``.
    """
    if not specs:
        specs = [MetricSpec(name) for name in lmms_metrics.DEFAULT_METRICS[output_type]]
        has_process_results = False if output_type == "generate_until" else has_process_results
    out = []
    for spec in specs:
        info = lmms_metrics.METRICS.get(spec.name)
        fn: Fn | None = None
        kind = ""
        if not has_process_results:
            plugin = _plugin_metric(spec.name, settings, builtin=info is not None or spec.name in ASSAY_METRICS)
            if plugin is not None:
                fn, kind = plugin, "assay"
            elif info is not None:
                fn, kind = info.fn, "lmms"
            elif (own := _assay_metric(spec.name)) is not None:
                fn, kind = own, "assay"
            else:
                raise lmms_metrics.METRICS.unknown(spec.name, where=f"{where}: ", also=ASSAY_METRICS,
                                                   why=" (and no process_results to compute it)",
                                                   hint_tail="; or compute it in process_results")
            if output_type == "multiple_choice" and kind == "assay":
                raise TaskError(f"{where}: metric {spec.name} scores generated text, not multiple_choice")
        agg_fn, agg_name = _aggregation(spec, info, where)
        hib = spec.higher_is_better if spec.higher_is_better is not None else (info.higher_is_better if info else True)
        out.append(Metric(spec.name, fn, kind, dict(spec.options), agg_fn, agg_name, hib))
    if output_type == "multiple_choice" and any(m.name == "acc_mutual_info" for m in out):
        raise TaskError(f"{where}: metric acc_mutual_info is not supported",
                        hint="it needs unconditional log-likelihoods of every choice; use acc or acc_norm")
    return out


def _aggregation(spec: MetricSpec, info: lmms_metrics.MetricInfo | None, where: str) -> tuple[Fn, str]:
    aggregation = spec.aggregation
    if callable(aggregation):
        return aggregation, getattr(aggregation, "__name__", "function")
    if aggregation is None:
        aggregation = info.aggregation if info is not None else "mean"
    found = lmms_metrics.AGGREGATIONS.lookup(aggregation, where=f"{where}: metric {spec.name}: ",
                                             hint_tail="; or a !function")
    return found, aggregation


def aggregate(metric: Metric, values: list[Any], args: Any = None) -> Any:
    """``metric``'s aggregation of ``values``, with ``args=`` when the function takes it (lmms-eval's rule)."""
    if _takes_args(metric.aggregation):
        return metric.aggregation(values, args=args)
    return metric.aggregation(values)


def _takes_args(fn: Fn) -> bool:
    try:
        return "args" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def stderr(metric: Metric, values: list[Any]) -> float | None:
    """lmms-eval's ``…_stderr``: the standard error of the mean for ``mean`` aggregations of 2+ values."""
    fn = lmms_metrics.stderr_function(metric.aggregation)
    if fn is None or len(values) < 2 or not all(isinstance(v, (int, float)) for v in values):
        return None
    return float(fn(values))


# -- generate_until --------------------------------------------------------------------------------


def score_generation(metrics: Sequence[Metric], results: list[str], gold: Any, doc: dict[str, Any], *,
                     choices: list[Any] | None, multiple_target: bool) -> dict[str, Any]:
    """The metric values of one doc's (filtered, stripped) generations against its target."""
    if choices is not None:
        gold = choices[gold]
    elif multiple_target:
        gold = list(gold)
    out: dict[str, Any] = {}
    for metric in metrics:
        if metric.kind == "assay":
            assert metric.fn is not None
            out[metric.name] = float(metric.fn(results[0] if results else "", gold, doc))
        elif multiple_target and metric.name != "anls":
            golds = gold if isinstance(gold, list) else [gold]
            scores = [_lmms_call(metric, [g], results) for g in golds]
            out[metric.name] = 1.0 if any(scores) else 0.0
        else:
            out[metric.name] = _lmms_call(metric, gold if isinstance(gold, list) else [gold], results)
    return out


def _lmms_call(metric: Metric, references: list[Any], predictions: list[str]) -> Any:
    assert metric.fn is not None
    try:
        value = metric.fn(references=references, predictions=predictions, **metric.options)
    except TypeError:  # passthrough metrics (bleu, …) take the pair positionally, as in lmms-eval
        value = metric.fn([references, predictions])
    return value[metric.name] if isinstance(value, dict) else value


# -- multiple_choice -------------------------------------------------------------------------------


def score_choices(metrics: Sequence[Metric], results: Sequence[tuple[float, bool]], gold: Any,
                  choices: list[Any], *, multiple_target: bool) -> dict[str, Any]:
    """``acc``/``acc_norm``/``exact_match``/``f1``/``mcc`` of one doc from its per-choice results.

    Each result is ``(loss, is_greedy)`` with loss = minus the log-likelihood, lmms-eval's convention
    (it picks ``argmin``); ``acc_norm`` divides by each choice's length in characters.
    """
    if len(results) != len(choices):
        raise TaskError(f"{len(results)} log-likelihoods for {len(choices)} choices")
    losses = [float(r[0]) for r in results]
    greedy = [bool(r[1]) for r in results]
    pred = _argmin(losses)
    pred_norm = _argmin([loss / float(len(str(c))) for loss, c in zip(losses, choices, strict=True)])
    gold = _gold_index(gold, choices)
    names = {m.name for m in metrics}
    if multiple_target and isinstance(gold, list):
        acc, acc_norm = float(pred in gold), float(pred_norm in gold)
        exact = int(any(greedy[i] if i != -100 else 0 for i in gold))
    else:
        acc, acc_norm = float(pred == gold), float(pred_norm == gold)
        exact = int(greedy[gold]) if isinstance(gold, int) and gold != -100 else 0
    values: dict[str, Any] = {"acc": acc, "f1": (gold, pred), "mcc": (gold, pred), "acc_norm": acc_norm,
                              "exact_match": exact}
    return {k: v for k, v in values.items() if k in names}


def _argmin(values: Sequence[float]) -> int:
    return min(range(len(values)), key=lambda i: (values[i], i))


def _gold_index(gold: Any, choices: list[Any]) -> Any:
    if isinstance(gold, list):
        return [g if isinstance(g, int) and g < len(choices) else -100 for g in gold]
    if isinstance(gold, bool):
        return -100
    if isinstance(gold, int):
        return gold if gold < len(choices) else -100
    if isinstance(gold, str):
        return choices.index(gold) if gold in choices else -100
    return -100
