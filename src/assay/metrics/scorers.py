"""Per-sample metric functions and their registry (aggregation lives in :mod:`assay.metrics.aggregation`).

Every metric has the signature ``fn(prediction: str, target: Any, doc: dict) -> float`` and is
pure Python. ``target`` may be a single answer or a list of acceptable answers (the best match
counts). A target a metric cannot interpret is a task configuration problem and raises
:class:`assay.errors.TaskError`; a prediction it cannot interpret simply scores 0.
"""

from __future__ import annotations

import ast
import math
import re
import string
import unicodedata
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from assay.env.registry import Registry
from assay.errors import TaskError
from assay.metrics.aggregation import (
    AGGREGATIONS,
    Aggregation,
    bootstrap_ci,
    get_aggregation,
    mean,
    median,
    stderr_of_mean,
    sum_,
    weighted_group_mean,
)

if TYPE_CHECKING:
    from assay.env.settings import Settings

Metric = Callable[[str, Any, dict[str, Any]], float]

__all__ = [
    "AGGREGATIONS",
    "METRICS",
    "Aggregation",
    "Metric",
    "anls",
    "bootstrap_ci",
    "exact_match",
    "extract_choice",
    "get_aggregation",
    "get_metric",
    "mc_accuracy",
    "mean",
    "median",
    "relaxed_accuracy",
    "stderr_of_mean",
    "sum_",
    "weighted_group_mean",
]

_LETTERS = string.ascii_uppercase
_TRAILING_PUNCT = ".,!?;:。，！？；：…"
_WRAPPERS = "*_`\"'“”‘’"  # markdown emphasis and quotes around a whole answer
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?")
_THOUSANDS_RE = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")


def _targets(target: Any) -> list[Any]:
    if isinstance(target, (list, tuple)):
        return list(target)
    return [target]


def _target_text(target: Any) -> str:
    if target is None:
        raise TaskError("a metric got target None", hint="check the task's doc_to_target")
    if isinstance(target, float) and target.is_integer():
        return str(int(target))
    return str(target)


def _normalize(text: str) -> str:
    """NFKC, casefold, collapse whitespace, drop wrapping markdown/quotes and trailing punctuation."""
    out = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    previous = None
    while out != previous:
        previous = out
        out = out.strip().strip(_WRAPPERS).rstrip(_TRAILING_PUNCT)
    return out


def _as_number(text: str) -> float | None:
    """``text`` as a plain decimal number (thousands commas allowed), else None. No nan/inf."""
    t = text.strip()
    if _THOUSANDS_RE.fullmatch(t):
        t = t.replace(",", "")
    if not _NUMBER_RE.fullmatch(t.casefold()):
        return None
    return float(t)


def exact_match(prediction: str, target: Any, doc: dict[str, Any]) -> float:
    """1.0 if the normalised prediction equals a normalised target (any of a list), else 0.0.

    Normalisation: NFKC, casefold, whitespace collapsed, wrapping ``**``/quotes and trailing
    punctuation stripped. When both sides are plain numbers they are compared numerically, so
    ``"3.0"`` matches ``3`` and ``"1,000"`` matches ``1000``.
    """
    pred = _normalize(prediction)
    pred_num = _as_number(pred)
    for t in _targets(target):
        gold = _normalize(_target_text(t))
        if pred == gold:
            return 1.0
        gold_num = _as_number(gold)
        if pred_num is not None and gold_num is not None and math.isclose(pred_num, gold_num):
            return 1.0
    return 0.0


# --- multiple choice ----------------------------------------------------------------------------

_BOXED_RE = re.compile(r"\\(?:boxed|text|textbf|mathrm)\{([^{}]*)\}")
_ONLY_LETTER_RE = re.compile(r"[(\[]?\s*([A-Za-z])\s*[)\]]?\s*[.:)]?")
# "answer is B", "Answer: b", "correct option is (C)", "final answer: **D**" (markdown removed first).
# Keywords are case-insensitive; a lowercase letter only counts when nothing follows it ("answer: b").
_ANSWER_RE = re.compile(
    r"(?i:answer|correct\s+(?:option|choice)|best\s+(?:option|choice))\s*"
    r"(?i:is|would\s+be|will\s+be|should\s+be|[:=\-])?\s*:?\s*"
    r"(?i:option|choice|letter)?\s*"
    r"(?:[(\[]\s*(?P<bracketed>[A-Za-z])\s*[)\]]|(?P<upper>[A-Z])(?![A-Za-z0-9'])"
    r"|(?P<lower>[a-z])(?=\s*[.):]?\s*(?:$|\n)))"
)
_OPTION_MENTION_RE = re.compile(r"(?i:option|choice)\s*[(\[]?\s*([A-Z])(?![A-Za-z0-9'])")
_LEADING_RE = re.compile(r"\s*[(\[]?([A-Za-z])\s*[)\].:]\s")
_BRACKETED_RE = re.compile(r"[(\[]([A-Za-z])[)\]]")
_STANDALONE_RE = re.compile(r"(?<![A-Za-z0-9'’\-])([A-Z])(?![A-Za-z0-9'’\-])")
_WORD_AFTER_RE = re.compile(r"\s+[a-z]")
# Words after which a capital "A"/"I" is still a letter: "A and B", "A is correct", "I or J".
_LETTER_CONTEXT_RE = re.compile(
    r"\s+(?:and|or|is|are|was|seems|would|should|because|appears|looks|fits|matches|best)\b"
)


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _BOXED_RE.sub(r"\1", text)
    return text.replace("*", "").replace("`", "").replace("__", "")


def _choice_texts(doc: dict[str, Any]) -> list[str] | None:
    """The doc's options as a list of strings, from ``choices``/``options`` (list, dict or list repr)."""
    for key in ("choices", "options"):
        raw = doc.get(key)
        if raw is None:
            continue
        if isinstance(raw, str):
            try:
                raw = ast.literal_eval(raw)
            except (ValueError, SyntaxError):
                continue
        if isinstance(raw, dict):
            return [str(raw[k]) for k in sorted(raw, key=str)]
        if isinstance(raw, (list, tuple)):
            return [str(c) for c in raw]
    return None


def _match_choice_text(text: str, choices: Sequence[str]) -> int | None:
    """Index of the one option whose text the prediction is, or uniquely contains (whole words)."""
    pred = _normalize(text)
    normed = [_normalize(c) for c in choices]
    exact = [i for i, c in enumerate(normed) if c and c == pred]
    if len(exact) == 1:
        return exact[0]
    contained = [i for i, c in enumerate(normed) if c and re.search(rf"(?<!\w){re.escape(c)}(?!\w)", pred)]
    # "black cat" beats "cat" when both occur: drop options contained in another matched option.
    contained = [i for i in contained if not any(j != i and normed[i] in normed[j] for j in contained)]
    return contained[0] if len(contained) == 1 else None


def extract_choice(
    prediction: str, choices: Sequence[str] | None = None, *, num_choices: int | None = None
) -> str | None:
    """The option letter (``"A"``…) a free-text answer picks, or None when it is absent or ambiguous.

    In order: a bare letter (``"b"``, ``"(B)"``, ``"B."``, ``"**B**"``, ``"\\boxed{B}"``); the last
    explicit statement (``"The answer is B"``, ``"Answer: b"``); a leading letter (``"B. Paris"``);
    a single distinct bracketed letter (``"… (C) …"``); a single distinct ``"option C"`` mention;
    the option text itself when ``choices`` is given; a single distinct standalone capital letter
    (not ``A``/``I`` used as a word). Letters beyond the number of options are ignored.
    """
    n = num_choices if num_choices is not None else (len(choices) if choices else len(_LETTERS))
    valid = set(_LETTERS[: max(0, min(n, len(_LETTERS)))])
    text = _clean(prediction).strip()

    def ok(letter: str | None) -> str | None:
        up = letter.upper() if letter else None
        return up if up in valid else None

    whole = _ONLY_LETTER_RE.fullmatch(text)
    if whole and ok(whole.group(1)):
        return ok(whole.group(1))

    stated = [ok(m.group("bracketed") or m.group("upper") or m.group("lower")) for m in _ANSWER_RE.finditer(text)]
    stated = [s for s in stated if s]
    if stated:
        return stated[-1]  # the final statement wins over earlier reasoning

    lead = _LEADING_RE.match(text + " ")
    if lead and ok(lead.group(1)):
        return ok(lead.group(1))

    for pattern in (_BRACKETED_RE, _OPTION_MENTION_RE):
        found = {ok(m.group(1)) for m in pattern.finditer(text)} - {None}
        if len(found) == 1:
            return found.pop()

    if choices:
        idx = _match_choice_text(text, choices)
        if idx is not None and idx < len(_LETTERS):
            return _LETTERS[idx]

    standalone: set[str | None] = set()
    for m in _STANDALONE_RE.finditer(text):
        letter = m.group(1)
        if letter in "AI" and _WORD_AFTER_RE.match(text, m.end()) and not _LETTER_CONTEXT_RE.match(text, m.end()):
            continue  # the article "A" ("A cat") or the pronoun "I" ("I think"), not an option
        standalone.add(ok(letter))
    standalone.discard(None)
    if len(standalone) == 1:
        return standalone.pop()
    return None


def _target_letter(target: Any, choices: Sequence[str] | None) -> str:
    if isinstance(target, bool):
        raise TaskError(f"mc_accuracy cannot use target {target!r}", hint="use a letter or a 0-based index")
    if isinstance(target, int):
        if target < 0 or target >= len(_LETTERS) or (choices is not None and target >= len(choices)):
            raise TaskError(
                f"mc_accuracy target index {target} is out of range",
                hint="integer targets are 0-based indexes into the doc's choices",
            )
        return _LETTERS[target]
    if isinstance(target, str):
        m = _ONLY_LETTER_RE.fullmatch(target.strip())
        if m:
            return m.group(1).upper()
        if choices:
            wanted = _normalize(target)
            for i, c in enumerate(choices):
                if _normalize(c) == wanted:
                    return _LETTERS[i]
    raise TaskError(
        f"mc_accuracy cannot read target {target!r} as an option",
        hint="doc_to_target should give a letter ('B'), a 0-based index, or the text of one of the choices",
    )


def mc_accuracy(prediction: str, target: Any, doc: dict[str, Any]) -> float:
    """1.0 if the option chosen in ``prediction`` (see :func:`extract_choice`) is the target.

    ``target`` is a letter, a 0-based index, or an option's text (any of a list). The doc's
    ``choices``/``options`` (list, letter-keyed dict, or a list's string repr) bound the valid letters
    and let an answer given as option text count.
    """
    choices = _choice_texts(doc)
    chosen = extract_choice(prediction, choices)
    if chosen is None:
        return 0.0
    return 1.0 if any(chosen == _target_letter(t, choices) for t in _targets(target)) else 0.0


# --- ANLS ---------------------------------------------------------------------------------------


def _levenshtein(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def anls(prediction: str, target: Any, doc: dict[str, Any], *, threshold: float = 0.5) -> float:
    """Average Normalized Levenshtein Similarity for one sample, as in DocVQA.

    Strings are stripped, casefolded and whitespace-collapsed; ``NL = lev(p, g) / max(len(p),
    len(g))``; the score is the best ``1 - NL`` over the targets, or 0 when that ``NL >=
    threshold`` (the DocVQA definition: an NL of exactly 0.5 scores 0).
    """
    pred = " ".join(prediction.strip().casefold().split())
    best = 0.0
    for t in _targets(target):
        gold = " ".join(_target_text(t).strip().casefold().split())
        length = max(len(pred), len(gold))
        nl = 0.0 if length == 0 else _levenshtein(pred, gold) / length
        if nl < threshold:
            best = max(best, 1.0 - nl)
    return best


# --- ChartQA relaxed accuracy -------------------------------------------------------------------


def _number_candidates(text: str) -> list[float]:
    """The values a short numeric answer may mean: ``"45%"`` is 0.45 or 45; ``"$1,200."`` is 1200."""
    t = unicodedata.normalize("NFKC", text).strip().strip(_WRAPPERS).rstrip(_TRAILING_PUNCT).strip()
    t = t.lstrip("$€£¥").strip()
    percent = t.endswith("%")
    if percent:
        t = t[:-1].strip()
    value = _as_number(t)
    if value is None:
        return []
    return [value / 100.0, value] if percent else [value]


def relaxed_accuracy(prediction: str, target: Any, doc: dict[str, Any], *, tolerance: float = 0.05) -> float:
    """ChartQA relaxed accuracy: numbers within ``tolerance`` relative error, otherwise exact match.

    Both sides may carry ``%`` (read as either the fraction or the number, so ``"45%"`` matches
    ``45`` and ``0.45``), thousands commas and a leading currency sign. The bound is inclusive
    (105 matches 100). A target of 0 needs a prediction of exactly 0. Non-numbers fall back to
    :func:`exact_match`.
    """
    pred_values = _number_candidates(prediction)
    for t in _targets(target):
        gold_values = _number_candidates(_target_text(t))
        if pred_values and gold_values:
            for g in gold_values:
                for p in pred_values:
                    if abs(p - g) <= tolerance * abs(g) * (1 + 1e-9) + (1e-12 if g == 0 else 0.0):
                        return 1.0
        elif exact_match(prediction, t, doc):
            return 1.0
    return 0.0


METRICS: Registry[Metric] = Registry("metric")
METRICS.update({"exact_match": exact_match, "mc_accuracy": mc_accuracy, "anls": anls,
                "relaxed_accuracy": relaxed_accuracy})


def get_metric(name: str, settings: Settings | None = None) -> Metric:
    """The metric registered as ``name`` (built in, or from an ``assay.metrics.scorers`` plugin); ``TaskError``
    with suggestions if there is none. A plugin replaces a built-in only where ASSAY_PLUGIN_OVERRIDES says."""
    if name not in METRICS or (settings is not None and settings.plugin_overrides):
        from assay.env.plugins import load_metric

        plugin = load_metric(name, settings, builtin=METRICS)
        if plugin is not None:
            return plugin
    return METRICS.lookup(name)
