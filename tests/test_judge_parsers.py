"""Judge parsers: what each accepts, and that nonsense, contradictions and out-of-range values are
refused (ParseError) rather than turned into a plausible score as lmms-eval's fallbacks do."""

from __future__ import annotations

from typing import Any

import pytest

from assay.judge.parsers import (
    Pairwise,
    ParseError,
    build_parser,
    json_object,
    looks_like_refusal,
    pairwise,
    pairwise_bracketed,
    score,
    score_list,
    yes_no,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("yes", True), ("No.", False), ("**Yes** — the prediction matches.", True), ("TRUE", True),
    ("The prediction is correct.\nVerdict: no", False), ("Correct: yes", True),
    ("I think so. yes", True), ("'no'", False),
])
def test_yes_no_reads_a_verdict(text: str, expected: bool) -> None:
    assert yes_no(text) is expected


@pytest.mark.parametrize("text", ["maybe", "", "Yes and no: partly right", "I know the answer: it is a cat"])
def test_yes_no_refuses_what_is_not_one_verdict(text: str) -> None:
    with pytest.raises(ParseError):
        yes_no(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("4", 4.0), ("Score: 3", 3.0), ("[[5]]", 5.0), ("I'd give it 2/5 overall.", 2.0), ("0.8", 0.8),
    ("3. The answer covers most details.", 3.0), ("The correctness score is 4 out of 5", 4.0),
    ("Rating = 1.5", 1.5),
])
def test_score_reads_a_number_in_range(text: str, expected: float) -> None:
    assert score(0, 5)(text) == expected


@pytest.mark.parametrize(("text", "why"), [
    ("7", "outside"), ("Score: -1", "outside"), ("excellent answer", "no score"),
    ("Score: 2 ... actually Score: 4", "several scores"),
])
def test_score_refuses_out_of_range_and_missing(text: str, why: str) -> None:
    with pytest.raises(ParseError, match=why):
        score(0, 5)(text)


def test_score_integer_and_leading_modes() -> None:
    with pytest.raises(ParseError, match="whole number"):
        score(0, 5, integer=True)("4.5")
    assert score(0, 1, leading=True)("0.4 because half the elements match") == 0.4
    with pytest.raises(ParseError):
        score(0, 1, leading=True)("Correctness: 0.4")  # MM-Vet's helper reads only the first word


@pytest.mark.parametrize(("text", "winner", "strength", "model_side"), [
    ("My final verdict is tie: [[A=B]]", "tie", 0, 0),
    ("Assistant B is significantly better: [[B>>A]]", "B", 2, 2),
    ("[[A>B]]", "A", 1, -1),
    ("[[A<<B]]", "B", 2, 2),
    ("verdict: B>A", "B", 1, 1),
    ("A", "A", 1, -1),
    ("tie", "tie", 0, 0),
])
def test_pairwise_labels(text: str, winner: str, strength: int, model_side: int) -> None:
    verdict = pairwise(text)
    assert (verdict.winner, verdict.strength) == (winner, strength)
    assert verdict.score_for("B") == model_side  # the model under test is assistant B


@pytest.mark.parametrize("text", ["Both are fine.", "[[A>B]] ... on reflection [[B>A]]", "[[C>D]]"])
def test_pairwise_refuses_unclear_or_conflicting(text: str) -> None:
    with pytest.raises(ParseError):
        pairwise(text)


def test_bracketed_pairwise_needs_brackets() -> None:
    assert pairwise_bracketed("so [[B>A]]") == Pairwise("B", 1)
    with pytest.raises(ParseError):
        pairwise_bracketed("B>A")
    assert Pairwise("A", 2).label == "A>>B" and Pairwise("tie", 0).as_dict()["label"] == "A=B"


def test_json_object_reads_json_python_dicts_and_fences() -> None:
    parse = json_object({"pred": yes_no, "score": score(0, 5)})
    assert parse('{"pred": "yes", "score": 4}') == {"pred": True, "score": 4.0}
    assert parse("{'pred': 'no', 'score': 1}") == {"pred": False, "score": 1.0}  # ActivityNetQA's judges
    assert parse('Here:\n```json\n{"pred": "yes", "score": 5}\n```') == {"pred": True, "score": 5.0}
    assert json_object(["a"])('prefix {"a": {"b": 1}} suffix') == {"a": {"b": 1}}


@pytest.mark.parametrize(("text", "why"), [
    ("no braces here", "no JSON"), ("{pred: yes, score: }", "not valid"),
    ('{"pred": "yes"}', "no 'score'"), ('{"pred": "perhaps", "score": 3}', "'pred'"),
    ('{"pred": "yes", "score": 9}', "outside"),
])
def test_json_object_refuses(text: str, why: str) -> None:
    with pytest.raises(ParseError, match=why):
        json_object({"pred": yes_no, "score": score(0, 5)})(text)


@pytest.mark.parametrize(("text", "refusal"), [
    ("I'm sorry, but I can't help with that.", True), ("I cannot evaluate this content.", True),
    ("As an AI, I do not rate answers.", True), ("Unfortunately, I am unable to score this.", True),
    ("yes", False), ("The answer is wrong; sorry for the terse review.", False),
])
def test_refusals_are_recognised(text: str, refusal: bool) -> None:
    assert looks_like_refusal(text) is refusal


@pytest.mark.parametrize(("spec", "text", "expected"), [
    ("yes_no", "yes", True),
    ({"parser": "score", "min": 0, "max": 10}, "8", 8.0),
    ({"parser": "pairwise", "brackets": True}, "[[A=B]]", Pairwise("tie", 0)),
    ({"parser": "json", "fields": {"pred": "yes_no", "score": {"parser": "score", "min": 0, "max": 5}}},
     "{'pred': 'yes', 'score': 3}", {"pred": True, "score": 3.0}),
    ({"parser": "json", "fields": ["a"]}, '{"a": 1}', {"a": 1}),
])
def test_parsers_by_name(spec: Any, text: str, expected: Any) -> None:
    assert build_parser(spec)(text) == expected


@pytest.mark.parametrize("spec", ["nope", {"parser": "score"}, {"parser": "score", "min": "a", "max": 1}])
def test_bad_parser_specs(spec: Any) -> None:
    with pytest.raises(ValueError):
        build_parser(spec)


def test_score_lists_as_viescore_gives_them() -> None:
    parse = score_list(0, 10, 2)
    assert parse("[8, 9]") == [8.0, 9.0] and parse("7, 10") == [7.0, 10.0]
    for bad, why in (("[8]", "expected 2"), ("[8, 11]", "outside"), ("none", "no scores")):
        with pytest.raises(ParseError, match=why):
            parse(bad)
    nested = json_object({"score": score_list(0, 10, 2)})
    assert nested('{"score": [5, 6], "reasoning": "ok"}')["score"] == [5.0, 6.0]
    assert build_parser({"parser": "score_list", "min": 0, "max": 10, "count": 2})("[1, 2]") == [1.0, 2.0]
