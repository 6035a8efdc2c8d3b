from __future__ import annotations

import math
import statistics
import subprocess
import sys
from typing import Any

import pytest

from assay.errors import TaskError
from assay.metrics.scorers import (
    AGGREGATIONS,
    METRICS,
    anls,
    bootstrap_ci,
    exact_match,
    extract_choice,
    get_aggregation,
    get_metric,
    mc_accuracy,
    mean,
    median,
    relaxed_accuracy,
    stderr_of_mean,
    sum_,
    weighted_group_mean,
)

CHOICES = ["London", "Paris", "Rome", "Berlin"]


# --- exact_match --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prediction", "target", "expected"),
    [
        ("Paris", "Paris", 1.0),
        ("  paris.  ", "Paris", 1.0),
        ("PARIS!", "paris", 1.0),
        ("**Paris**", "Paris", 1.0),
        ('"Paris"', "Paris", 1.0),
        ("New   York", "new york", 1.0),
        ("Straße", "STRASSE", 1.0),  # casefold, not lower
        ("Paris, France", "Paris", 0.0),
        ("3", 3, 1.0),
        ("3.0", 3, 1.0),
        ("3", 3.0, 1.0),
        ("1,000", 1000, 1.0),
        ("3.5", 3, 0.0),
        ("yes", ["Yes", "yeah"], 1.0),
        ("yeah.", ["Yes", "yeah"], 1.0),
        ("no", ["Yes", "yeah"], 0.0),
        ("anything", [], 0.0),
        ("", "", 1.0),
    ],
)
def test_exact_match(prediction: str, target: Any, expected: float) -> None:
    assert exact_match(prediction, target, {}) == expected


def test_exact_match_none_target_is_task_error() -> None:
    with pytest.raises(TaskError):
        exact_match("x", None, {})


# --- mc_accuracy / extract_choice ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("prediction", "expected"),
    [
        ("B", "B"),
        ("b", "B"),
        ("(B)", "B"),
        ("[B]", "B"),
        ("B.", "B"),
        ("B)", "B"),
        ("**B**", "B"),
        ("`B`", "B"),
        ("\\boxed{C}", "C"),
        ("The answer is B", "B"),
        ("The answer is B.", "B"),
        ("The answer is (C).", "C"),
        ("Answer: b", "B"),
        ("answer is b.", "B"),
        ("ANSWER: D", "D"),
        ("Answer Is C", "C"),
        ("Final Answer: **C**", "C"),
        ("Answer: Option B", "B"),
        ("The correct option is c", "C"),
        ("I think the answer is D", "D"),
        ("Let me think. A is wrong because...\nAnswer: C", "C"),
        ("The answer is A. Wait, no: the answer is D", "D"),  # the final statement wins
        ("B. Paris", "B"),
        ("(B) Paris", "B"),
        ("b) paris", "B"),
        ("B, because it is the capital.", "B"),
        ("Option C is correct", "C"),
        ("Option A is correct", "A"),
        ("A is correct", "A"),
        ("I believe it's (A) London", "A"),
        ("答案是B", "B"),
        # option text instead of a letter
        ("Paris", "B"),
        ("It is rome.", "C"),
        ("The capital is Berlin", "D"),
        # absent or ambiguous: no guess
        ("A cat sits on the mat", None),
        ("The answer is a dog", None),
        ("A and B", None),
        ("Paris, not London", None),
        ("I don't know", None),
        ("", None),
        ("E", None),  # beyond the four options
        ("e.g. the first", None),
    ],
)
def test_extract_choice(prediction: str, expected: str | None) -> None:
    assert extract_choice(prediction, CHOICES) == expected


def test_extract_choice_longest_option_text_wins() -> None:
    assert extract_choice("a black cat", ["cat", "black cat", "dog"]) == "B"


def test_extract_choice_without_choices_accepts_any_letter() -> None:
    assert extract_choice("The answer is F") == "F"
    assert extract_choice("F", num_choices=4) is None


@pytest.mark.parametrize(
    ("prediction", "target", "doc", "expected"),
    [
        ("B", "B", {"choices": CHOICES}, 1.0),
        ("(b)", "B", {"choices": CHOICES}, 1.0),
        ("The answer is B", 1, {"choices": CHOICES}, 1.0),  # 0-based index
        ("The answer is B", 0, {"choices": CHOICES}, 0.0),
        ("Paris", "B", {"options": CHOICES}, 1.0),
        ("B", "Paris", {"choices": CHOICES}, 1.0),  # target given as option text
        ("B", "(B)", {}, 1.0),
        ("C", ["B", "C"], {}, 1.0),
        ("Paris", "B", {"options": "['London', 'Paris']"}, 1.0),  # MMMU-style list repr
        ("Paris", "B", {"options": {"A": "London", "B": "Paris"}}, 1.0),
        ("no idea", "B", {"choices": CHOICES}, 0.0),
    ],
)
def test_mc_accuracy(prediction: str, target: Any, doc: dict[str, Any], expected: float) -> None:
    assert mc_accuracy(prediction, target, doc) == expected


@pytest.mark.parametrize("target", [7, -1, True, "Madrid", None, 2.5])
def test_mc_accuracy_bad_target_is_task_error(target: Any) -> None:
    with pytest.raises(TaskError):
        mc_accuracy("B", target, {"choices": CHOICES})


# --- ANLS ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prediction", "target", "expected"),
    [
        ("hello", "hello", 1.0),
        ("  HELLO ", "hello", 1.0),
        ("hallo", "hello", 1 - 1 / 5),  # one substitution over length 5
        ("helo", "hello", 1 - 1 / 5),  # one deletion, max length 5
        ("kitten", "sitting", 1 - 3 / 7),  # classic distance 3, max length 7
        ("abcd", "abef", 0.0),  # NL = 2/4 = 0.5 is not < 0.5: scores 0 (DocVQA)
        ("abcde", "abfgh", 0.0),  # NL = 3/5 > 0.5
        ("abcdef", "abcxyz", 0.0),  # NL = 3/6 = 0.5
        ("abcdefg", "abcdxyz", 1 - 3 / 7),  # NL = 3/7 < 0.5
        ("", "", 1.0),
        ("", "abc", 0.0),
        ("hallo", ["xyz", "hello", "hallo welt"], 1.0 - 1 / 5),  # best over targets
        ("1990", [1990], 1.0),
        ("answer", [], 0.0),
    ],
)
def test_anls(prediction: str, target: Any, expected: float) -> None:
    assert anls(prediction, target, {}) == pytest.approx(expected)


def test_anls_threshold_is_configurable() -> None:
    assert anls("abcd", "abef", {}, threshold=0.6) == pytest.approx(0.5)


# --- relaxed accuracy ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prediction", "target", "expected"),
    [
        ("100", "100", 1.0),
        ("105", "100", 1.0),  # exactly 5%: inclusive
        ("95", "100", 1.0),
        ("105.01", "100", 0.0),
        ("94.99", "100", 0.0),
        ("1.05", "1", 1.0),  # 5% despite float rounding
        ("1.0501", "1", 0.0),
        ("-104", "-100", 1.0),
        ("0", "0", 1.0),
        ("0.0", "0", 1.0),
        ("0.001", "0", 0.0),
        ("45%", "45", 1.0),
        ("45%", "0.45", 1.0),
        ("45", "45%", 1.0),
        ("46%", "45%", 1.0),
        ("1,234", "1234", 1.0),
        ("1,234,567.5", "1234567", 1.0),
        ("$1,200.", "1200", 1.0),
        ("12.", "12", 1.0),
        ("Yes", "yes", 1.0),
        ("Asia", "Europe", 0.0),
        ("nan", "nan", 1.0),  # not a number: plain text match
        ("inf", "100", 0.0),
        ("1,2", "12", 0.0),  # not a thousands separator
        ("7", ["Seven", "7.2"], 1.0),
        ("about 100", "100", 0.0),  # only short answers are read as numbers
    ],
)
def test_relaxed_accuracy(prediction: str, target: Any, expected: float) -> None:
    assert relaxed_accuracy(prediction, target, {}) == expected


def test_relaxed_accuracy_numeric_target() -> None:
    assert relaxed_accuracy("20.9", 20, {}) == 1.0
    assert relaxed_accuracy("21.1", 20, {}) == 0.0


# --- registries ---------------------------------------------------------------------------------


def test_registries_hold_the_documented_names() -> None:
    assert set(METRICS) >= {"exact_match", "mc_accuracy", "anls", "relaxed_accuracy"}
    assert set(AGGREGATIONS) >= {"mean", "median", "sum"}
    assert get_metric("anls") is anls
    assert get_aggregation("mean") is mean


def test_unknown_metric_suggests_close_name() -> None:
    with pytest.raises(TaskError) as info:
        get_metric("exact_macth")
    assert "exact_macth" in info.value.message
    assert "did you mean 'exact_match'" in info.value.hint
    assert "relaxed_accuracy" in info.value.hint  # lists what is available


def test_unknown_aggregation_lists_available() -> None:
    with pytest.raises(TaskError) as info:
        get_aggregation("zzz")
    assert "did you mean" not in info.value.hint
    assert "mean" in info.value.hint and "median" in info.value.hint


def test_import_is_cheap() -> None:
    code = "import sys, assay.metrics.scorers; print(sorted(m for m in ('PIL', 'numpy', 'av') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- aggregation --------------------------------------------------------------------------------


def test_basic_aggregations() -> None:
    assert mean([1.0, 0.0, 1.0, 1.0]) == 0.75
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 2.0, 3.0]) == 2.5
    assert sum_([0.1] * 10) == 1.0  # fsum: exact
    assert math.isnan(mean([])) and math.isnan(median([]))
    assert sum_([]) == 0.0


@pytest.mark.parametrize(
    "values",
    [[0.0, 1.0], [1.0, 0.0, 1.0, 1.0, 0.0], [0.2, 0.9, 0.4, 0.4, 0.7, 0.1], [5.0] * 7],
)
def test_stderr_of_mean_matches_statistics(values: list[float]) -> None:
    expected = statistics.stdev(values) / math.sqrt(len(values))
    assert stderr_of_mean(values) == pytest.approx(expected)


def test_stderr_of_mean_small_samples() -> None:
    assert stderr_of_mean([]) == 0.0
    assert stderr_of_mean([0.7]) == 0.0


def _scores(n: int) -> list[float]:
    return [1.0 if (i * 7) % 10 < 6 else 0.0 for i in range(n)]  # 60% ones, deterministic


def test_bootstrap_is_deterministic_with_seed() -> None:
    values = _scores(50)
    assert bootstrap_ci(values) == bootstrap_ci(values)
    assert bootstrap_ci(values, seed=7) == bootstrap_ci(values, seed=7)
    assert bootstrap_ci(values, seed=7) != bootstrap_ci(values, seed=8)


def test_bootstrap_contains_mean_and_narrows_with_more_data() -> None:
    small, large = _scores(40), _scores(1000)
    lo_s, hi_s = bootstrap_ci(small)
    lo_l, hi_l = bootstrap_ci(large)
    assert lo_s <= mean(small) <= hi_s
    assert lo_l <= mean(large) <= hi_l
    assert hi_l - lo_l < (hi_s - lo_s) / 2
    # roughly mean ± 1.96 stderr for a mean of a large sample
    assert hi_l - lo_l == pytest.approx(2 * 1.96 * stderr_of_mean(large), rel=0.15)


def test_bootstrap_confidence_and_aggregate() -> None:
    values = _scores(200)
    lo90, hi90 = bootstrap_ci(values, confidence=0.90)
    lo99, hi99 = bootstrap_ci(values, confidence=0.99)
    assert lo99 <= lo90 and hi90 <= hi99
    lo, hi = bootstrap_ci([1.0, 2.0, 3.0, 4.0, 100.0], aggregate=median)
    assert 1.0 <= lo <= hi <= 100.0


def test_bootstrap_edge_cases() -> None:
    assert all(math.isnan(x) for x in bootstrap_ci([]))
    assert bootstrap_ci([0.5]) == (0.5, 0.5)
    assert bootstrap_ci([1.0, 1.0, 1.0]) == (1.0, 1.0)
    with pytest.raises(ValueError):
        bootstrap_ci([1.0, 0.0], confidence=1.0)
    with pytest.raises(ValueError):
        bootstrap_ci([1.0, 0.0], iterations=0)


def test_weighted_group_mean() -> None:
    assert weighted_group_mean([(1.0, 1), (0.0, 3)]) == 0.25
    assert weighted_group_mean([(0.5, 10)]) == 0.5
    assert weighted_group_mean([(0.8, 4), (float("nan"), 0)]) == 0.8  # empty subtask ignored
    assert math.isnan(weighted_group_mean([]))
    with pytest.raises(ValueError):
        weighted_group_mean([(1.0, -1)])
