"""lmms-eval's registered metrics and aggregations, with its semantics, written for assay.

A task's ``metric_list`` names these. They are what lmms-eval computes for the same names, quirks
included, because a YAML written for lmms-eval must score the same here: ``exact_match`` is Hugging Face
evaluate's strict comparison (``ignore_case``, ``ignore_punctuation``, ``ignore_numbers`` and
``regexes_to_ignore`` as options), ``anls`` takes ``thresh_hold``, ``median`` is the upper middle
element, ``bypass`` aggregates to 999. assay's own lenient scorers keep their own names
(``normalized_exact_match``, ``mc_accuracy``, ``relaxed_accuracy``; :mod:`assay.metrics.scorers`).

Pure Python: no numpy. ``exact_match`` reproduces numpy's comparison of the arrays lmms-eval builds (a
list mixing text and numbers becomes text; text never equals a number).
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from assay.env.registry import Registry
from assay.errors import TaskError

Fn = Callable[..., Any]


# -- aggregations ----------------------------------------------------------------------------------


def mean(arr: Sequence[Any]) -> Any:
    return sum(arr) / len(arr)


def median(arr: Sequence[Any]) -> Any:
    return arr[len(arr) // 2]  # lmms-eval's: the element at n // 2 of the unsorted list


def bypass_agg(arr: Sequence[Any]) -> int:
    return 999


def weighted_mean(items: Sequence[tuple[float, float]]) -> float:
    a, b = zip(*items, strict=True)
    return float(sum(a) / sum(b))


def perplexity(items: Sequence[float]) -> float:
    return math.exp(-mean(items))


def weighted_perplexity(items: Sequence[tuple[float, float]]) -> float:
    return math.exp(-weighted_mean(items))


def bits_per_byte(items: Sequence[tuple[float, float]]) -> float:
    return -weighted_mean(items) / math.log(2)


def _needs(module: str, package: str, what: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise TaskError(f"{what} needs the Python package {package}", hint=f"pip install {package}") from None


def f1_score(items: Sequence[tuple[Any, Any]]) -> float:
    metrics = _needs("sklearn.metrics", "scikit-learn", "the f1 aggregation")
    golds, preds = zip(*items, strict=True)
    return float(max([metrics.f1_score(golds, preds)]))


def matthews_corrcoef(items: Sequence[tuple[Any, Any]]) -> float:
    metrics = _needs("sklearn.metrics", "scikit-learn", "the matthews_corrcoef aggregation")
    golds, preds = zip(*items, strict=True)
    return float(metrics.matthews_corrcoef(golds, preds))


def _sacreformat(refs: Sequence[Any], preds: Sequence[Any]) -> tuple[list[Any], list[str]]:
    ref_rows = [r if isinstance(r, (list, tuple)) else [r] for r in refs]
    streams = [list(s) for s in zip(*ref_rows, strict=True)]
    flat = [p[0] if isinstance(p, (list, tuple)) else p for p in preds]
    return streams, flat


def _sacrebleu(items: Sequence[tuple[Any, Any]], scorer: str) -> float:
    sacrebleu = _needs("sacrebleu", "sacrebleu", f"the {scorer.removeprefix('corpus_')} aggregation")
    refs, preds = zip(*items, strict=True)
    streams, flat = _sacreformat(refs, preds)
    return float(getattr(sacrebleu, scorer)(flat, streams).score)


def bleu(items: Sequence[tuple[Any, Any]]) -> float:
    return _sacrebleu(items, "corpus_bleu")


def chrf(items: Sequence[tuple[Any, Any]]) -> float:
    return _sacrebleu(items, "corpus_chrf")


def ter(items: Sequence[tuple[Any, Any]]) -> float:
    return _sacrebleu(items, "corpus_ter")


AGGREGATIONS: Registry[Fn] = Registry("aggregation")
AGGREGATIONS.update({
    "bypass": bypass_agg,
    "mean": mean,
    "median": median,
    "perplexity": perplexity,
    "weighted_perplexity": weighted_perplexity,
    "bits_per_byte": bits_per_byte,
    "f1": f1_score,
    "matthews_corrcoef": matthews_corrcoef,
    "bleu": bleu,
    "chrf": chrf,
    "ter": ter,
})


# -- standard errors (lmms-eval's stderr_for_metric for the non-bootstrapped case) ------------------


def sample_stddev(arr: Sequence[float]) -> float:
    mu = mean(arr)
    return math.sqrt(sum((x - mu) ** 2 for x in arr) / (len(arr) - 1))


def pop_stddev(arr: Sequence[float]) -> float:
    mu = mean(arr)
    return math.sqrt(sum((x - mu) ** 2 for x in arr) / len(arr))


def mean_stderr(arr: Sequence[float]) -> float:
    return sample_stddev(arr) / math.sqrt(len(arr))


# -- per-sample metrics ------------------------------------------------------------------------------


def _as_array(values: Sequence[Any]) -> list[Any]:
    """What ``np.asarray(values)`` holds for a flat list: text and numbers mixed become text."""
    items = list(values)
    if any(isinstance(v, str) for v in items) and not all(isinstance(v, str) for v in items):
        return [str(v) for v in items]
    return items


def _text_op(values: list[Any], op: Callable[[str], str], what: str) -> list[str]:
    if not all(isinstance(v, str) for v in values):
        raise TaskError(f"exact_match: {what} needs text answers, got {values!r}", hint="make doc_to_target text")
    return [op(v) for v in values]


def exact_match_hf_evaluate(
    predictions: Sequence[Any],
    references: Sequence[Any],
    regexes_to_ignore: Sequence[str] | None = None,
    ignore_case: bool = False,
    ignore_punctuation: bool = False,
    ignore_numbers: bool = False,
) -> dict[str, float]:
    """Share of predictions equal to their reference (broadcast when one side has a single value)."""
    plain = not (regexes_to_ignore or ignore_case or ignore_punctuation or ignore_numbers)
    if plain and isinstance(predictions, list) and isinstance(references, list) \
            and len(predictions) == len(references) == 1:
        # One answer, one target, no option: what the general path below computes, without its lists.
        pred, ref = predictions[0], references[0]
        return {"exact_match": float(isinstance(pred, str) == isinstance(ref, str) and pred == ref)}
    preds, refs = _as_array(predictions), _as_array(references)
    for pattern in regexes_to_ignore or ():
        preds = [re.sub(pattern, "", x) for x in preds]
        refs = [re.sub(pattern, "", x) for x in refs]
    if ignore_case:
        preds, refs = _text_op(preds, str.lower, "ignore_case"), _text_op(refs, str.lower, "ignore_case")
    for flag, chars in ((ignore_punctuation, string.punctuation), (ignore_numbers, string.digits)):
        if flag:
            table = str.maketrans("", "", chars)

            def drop(s: str, t: dict[int, Any] = table) -> str:
                return s.translate(t)

            preds = _text_op(preds, drop, "ignore_punctuation/numbers")
            refs = _text_op(refs, drop, "ignore_punctuation/numbers")
    if len(preds) != len(refs) and 1 not in (len(preds), len(refs)):
        raise TaskError(f"exact_match: {len(preds)} predictions for {len(refs)} references")
    n = max(len(preds), len(refs))
    pairs = [(preds[0 if len(preds) == 1 else i], refs[0 if len(refs) == 1 else i]) for i in range(n)]
    hits = [isinstance(p, str) == isinstance(r, str) and p == r for p, r in pairs]
    return {"exact_match": sum(hits) / len(hits) if hits else math.nan}


def exact_match_fn(**kwargs: Any) -> dict[str, float]:
    return exact_match_hf_evaluate(**kwargs)


def levenshtein_distance(s1: str, s2: str) -> int:
    if len(s1) > len(s2):
        s1, s2 = s2, s1
    distances = list(range(len(s1) + 1))
    for i2, c2 in enumerate(s2):
        row = [i2 + 1]
        for i1, c1 in enumerate(s1):
            row.append(distances[i1] if c1 == c2 else 1 + min(distances[i1], distances[i1 + 1], row[-1]))
        distances = row
    return distances[-1]


def anls(references: Sequence[str], predictions: Sequence[Any], thresh_hold: float = 0.5) -> dict[str, float]:
    """lmms-eval's ANLS: ``1 - min(NL)`` over the references, 0 below ``thresh_hold``. The distance is of
    the normalised strings; the length is of the raw ones, as lmms-eval computes it."""
    pred = predictions[0] if isinstance(predictions[0], str) else predictions[0][0]
    values = []
    for answer in references:
        gt = " ".join(answer.strip().lower().split())
        det = " ".join(pred.strip().lower().split())
        length = max(len(answer.upper()), len(pred.upper()))
        values.append(0.0 if length == 0 else float(levenshtein_distance(gt, det)) / float(length))
    result = 1 - min(values)
    return {"anls": 0 if result < thresh_hold else result}


def passthrough(items: Any) -> Any:
    """Metrics computed over all docs at aggregation time: the per-doc value is the item itself."""
    return items


def bypass(items: Any) -> None:
    return None


@dataclass(frozen=True)
class MetricInfo:
    fn: Fn
    aggregation: str
    higher_is_better: bool
    output_types: tuple[str, ...]


_GEN = ("generate_until", "generate_until_multi_round")
_MC = ("multiple_choice",)
METRICS: Registry[MetricInfo] = Registry("metric")
METRICS.update({
    "exact_match": MetricInfo(exact_match_hf_evaluate, "mean", True, ("generate_until",)),  # (exact_match_fn's)
    "anls": MetricInfo(anls, "mean", True, ("generate_until",)),
    "acc": MetricInfo(passthrough, "mean", True, ("loglikelihood", "multiple_choice")),
    "acc_norm": MetricInfo(passthrough, "mean", True, ("loglikelihood", "multiple_choice")),
    "acc_mutual_info": MetricInfo(passthrough, "mean", True, _MC),
    "brier_score": MetricInfo(passthrough, "mean", False, _MC),
    "perplexity": MetricInfo(passthrough, "perplexity", False, ("loglikelihood",)),
    "mcc": MetricInfo(passthrough, "matthews_corrcoef", True, _MC),
    "f1": MetricInfo(passthrough, "f1", True, _MC),
    "bleu": MetricInfo(passthrough, "bleu", True, _GEN),
    "chrf": MetricInfo(passthrough, "chrf", True, _GEN),
    "ter": MetricInfo(passthrough, "ter", True, _GEN),
    "bypass": MetricInfo(bypass, "bypass", True, (*_GEN, "multiple_choice", "loglikelihood")),
})

DEFAULT_METRICS: dict[str, tuple[str, ...]] = {
    "loglikelihood": ("perplexity", "acc"),
    "multiple_choice": ("acc", "acc_norm"),
    "generate_until": ("exact_match",),
}


def stderr_function(aggregation: Fn) -> Fn | None:
    """lmms-eval reports a standard error for ``mean`` aggregations only (bootstrapped ones are not
    reproduced here: their value depends on its process pool), otherwise ``N/A``."""
    return mean_stderr if aggregation is mean else None


def score_items(values: Sequence[Any], score_key: str, cluster_key: str | None) -> tuple[list[float], list[Any]]:
    """The 0/1 scores lmms-eval's CLT errors use: numbers as they are, ``item[score_key]`` of dict items
    (with ``item[cluster_key]`` as the cluster); other items are left out."""
    scores: list[float] = []
    clusters: list[Any] = []
    for item in values:
        if isinstance(item, (int, float)):
            scores.append(float(item))
            clusters.append(None)
        elif isinstance(item, dict) and score_key in item:
            scores.append(float(item[score_key]))
            clusters.append(item.get(cluster_key) if cluster_key else None)
    return scores, clusters


def clt_stderr(scores: Sequence[float]) -> float | None:
    """``std(ddof=1) / sqrt(n)``; None (lmms-eval's ``N/A``) below two scores."""
    n = len(scores)
    return sample_stddev(scores) / math.sqrt(n) if n > 1 else None


def clustered_stderr(scores: Sequence[float], clusters: Sequence[Any]) -> float | None:
    """The clustered standard error (arXiv:2411.00640, eq. 4) when scores fall in more than one cluster."""
    known = [c for c in clusters if c is not None]
    n = len(scores)
    if not known or len(set(known)) < 2 or n < 2:
        return None
    mean_score = sum(scores) / n
    se2 = sum((s - mean_score) ** 2 for s in scores) / (n - 1) / n
    groups: dict[Any, list[float]] = {}
    for score, cluster in zip(scores, clusters, strict=True):
        groups.setdefault(cluster, []).append(score - mean_score)
    cross = sum(sum(d) ** 2 - sum(x * x for x in d) for d in groups.values()) / (n * n)
    return math.sqrt(se2 + cross)
