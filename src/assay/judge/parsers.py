"""Parsers: a judge's text → a value, or :class:`ParseError` saying why not. Strict on purpose.

lmms-eval's parsers fall back when the text does not fit — the first number clamped into range, "tie"
for an unreadable pairwise verdict, ``{}`` for broken JSON — so a judge answering nonsense produces a
plausible score. These refuse instead: an out-of-range score, two different verdicts in one answer, or
no verdict at all is a parse failure, which the judge may retry once and then counts.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Parser = Callable[[str], Any]


class ParseError(ValueError):
    """The judge's answer does not contain a verdict of the expected shape."""


# -- refusals -------------------------------------------------------------------------------------

_REFUSAL = re.compile(
    r"^\W*(i'?m sorry|i am sorry|sorry,|i apologi[sz]e|i cannot|i can'?t|i can not|i am unable|i'?m unable|"
    r"i won'?t|i will not|as an ai\b|unfortunately,? i (cannot|can'?t|am unable))"
    r"|\b(cannot|can'?t|unable to) (assist|help|comply|evaluate|provide an? (evaluation|rating|score))",
    re.IGNORECASE,
)


def looks_like_refusal(text: str) -> bool:
    """Whether an answer that did not parse reads as the judge declining (asked only after a parse fails)."""
    return bool(_REFUSAL.search(text.strip()[:400]))


# -- yes / no -------------------------------------------------------------------------------------

_WORD = re.compile(r"\b(yes|no|true|false)\b")
_LABELLED = re.compile(r"\b(?:answer|verdict|judge?ment|correct(?:ness)?|pred|match)\W{0,4}(yes|no|true|false)\b")


def yes_no(text: str) -> bool:
    """``yes``/``no`` (also ``true``/``false``): the leading word, else a labelled one (``Verdict: yes``),
    else the only one the answer uses. Both, or neither: ParseError."""
    plain = re.sub(r"[*_`\"'#]", "", text).strip().lower()
    first = _WORD.match(plain)
    if first:
        clause = {w in ("yes", "true") for w in _WORD.findall(re.split(r"[.,:;!?\n]", plain)[0])}
        if len(clause) > 1:  # "yes and no: partly right"
            raise ParseError("the answer says both yes and no")
        return first.group(1) in ("yes", "true")
    labelled = {m.group(1) in ("yes", "true") for m in _LABELLED.finditer(plain)}
    if len(labelled) == 1:
        return labelled.pop()
    found = {m.group(1) in ("yes", "true") for m in _WORD.finditer(plain)}
    if len(found) == 1:
        return found.pop()
    if not found:
        raise ParseError("no yes/no verdict in the answer")
    raise ParseError("the answer says both yes and no")


# -- numeric scores -------------------------------------------------------------------------------

_NUMBER = r"(-?\d+(?:\.\d+)?)"
_SCORE_PATTERNS = (
    re.compile(r"\[\[\s*" + _NUMBER + r"\s*\]\]"),
    re.compile(r"\b(?:score|rating|grade|correctness)\b[^\w-]{0,3}(?:is|of|=|:)?[^\w-]{0,3}" + _NUMBER,
               re.IGNORECASE),
    re.compile(_NUMBER + r"\s*(?:/|out of)\s*\d+(?:\.\d+)?", re.IGNORECASE),
    re.compile(r"^\W{0,3}" + _NUMBER + r"(?:\W{0,3}$|[\s.,;:)])"),
)


_LEADING = (re.compile(r"^" + _NUMBER + r"(?:\s|$)"),)


def score(low: float, high: float, *, integer: bool = False, leading: bool = False) -> Parser:
    """A number in ``[low, high]``: ``[[4]]``, ``Score: 4``, ``4/5``, or an answer that starts with it
    (only that last form when ``leading``: MM-Vet's helper reads the answer's first word).

    Out of range (never clamped), non-integer when ``integer``, or no number where one is expected:
    ParseError."""
    patterns = _LEADING if leading else _SCORE_PATTERNS

    def parse(text: str) -> float:
        stripped = text.strip()
        for pattern in patterns:
            values = {float(m.group(1)) for m in pattern.finditer(stripped)}
            if len(values) > 1:
                raise ParseError(f"the answer gives several scores: {sorted(values)}")
            if values:
                value = values.pop()
                break
        else:
            raise ParseError(f"no score between {low:g} and {high:g} in the answer")
        if not low <= value <= high:
            raise ParseError(f"score {value:g} is outside {low:g}–{high:g}")
        if integer and value != int(value):
            raise ParseError(f"score {value:g} is not a whole number")
        return value

    return parse


def score_list(low: float, high: float, count: int | None = None) -> Parser:
    """Several scores in ``[low, high]`` — a JSON/Python list (``[8, 9]``) or comma-separated numbers — as
    VIEScore's judge gives them (one per criterion). The wrong count, or any out of range: ParseError."""

    def parse(text: str) -> list[float]:
        values = [float(v) for v in re.findall(_NUMBER, text)]
        if not values:
            raise ParseError(f"no scores between {low:g} and {high:g} in the answer")
        if count is not None and len(values) != count:
            raise ParseError(f"expected {count} scores, got {len(values)}")
        outside = [v for v in values if not low <= v <= high]
        if outside:
            raise ParseError(f"score {outside[0]:g} is outside {low:g}–{high:g}")
        return values

    return parse


# -- pairwise -------------------------------------------------------------------------------------

Winner = Literal["A", "B", "tie"]


@dataclass(frozen=True)
class Pairwise:
    """A pairwise verdict: which answer won and how clearly (0 tie, 1 slightly, 2 significantly)."""

    winner: Winner
    strength: int

    @property
    def label(self) -> str:
        if self.winner == "tie":
            return "A=B"
        loser = "B" if self.winner == "A" else "A"
        return f"{self.winner}{'>' * self.strength}{loser}"

    def score_for(self, side: Literal["A", "B"]) -> int:
        """-2…2 from ``side``'s point of view (lmms-eval WildVision's raw score for the model's side)."""
        if self.winner == "tie":
            return 0
        return self.strength if self.winner == side else -self.strength

    def as_dict(self) -> dict[str, Any]:
        return {"winner": self.winner, "strength": self.strength, "label": self.label}


_PAIR_LABEL = (r"(A\s*>>\s*B|A\s*>\s*B|A\s*=\s*B|B\s*=\s*A|B\s*>\s*A|B\s*>>\s*A"
               r"|A\s*<<\s*B|A\s*<\s*B|B\s*<\s*A|B\s*<<\s*A)")
_BRACKETED = re.compile(r"\[\[\s*" + _PAIR_LABEL + r"\s*\]\]", re.IGNORECASE)
_BARE = re.compile(r"(?<![\w>=<])" + _PAIR_LABEL + r"(?![\w>=<])", re.IGNORECASE)
_SINGLE = re.compile(r"^\W*(?:\[\[)?\s*(A|B|tie)\s*(?:\]\])?\W*$", re.IGNORECASE)


def _pair(label: str) -> Pairwise:
    label = re.sub(r"\s+", "", label).upper()
    if "=" in label:
        return Pairwise("tie", 0)
    if "<" in label:  # A<B is B>A
        left, right = label[0], label[-1]
        label = f"{right}{label[1:-1].replace('<', '>')}{left}"
    return Pairwise("A" if label[0] == "A" else "B", 2 if ">>" in label else 1)


def pairwise(text: str) -> Pairwise:
    """``[[A>>B]]`` … ``[[B>>A]]`` (WildVision / Arena-Hard labels), the same without brackets, or an answer
    that is just ``A``, ``B`` or ``tie``. Two different verdicts, or none: ParseError."""
    return _pairwise(text, bracketed_only=False)


def pairwise_bracketed(text: str) -> Pairwise:
    """Only ``[[…]]`` labels count (what WildVision's own helper reads; anything else it calls a tie)."""
    return _pairwise(text, bracketed_only=True)


def _pairwise(text: str, *, bracketed_only: bool) -> Pairwise:
    for pattern in (_BRACKETED,) if bracketed_only else (_BRACKETED, _BARE):
        verdicts = {_pair(m.group(1)) for m in pattern.finditer(text)}
        if len(verdicts) > 1:
            raise ParseError(f"the answer gives conflicting verdicts: {sorted(v.label for v in verdicts)}")
        if verdicts:
            return verdicts.pop()
    single = None if bracketed_only else _SINGLE.match(text.strip())
    if single:
        word = single.group(1).upper()
        return Pairwise("tie", 0) if word == "TIE" else Pairwise("A" if word == "A" else "B", 1)
    raise ParseError("no pairwise verdict such as [[A>B]] in the answer")


# -- JSON / Python dict ---------------------------------------------------------------------------

_FENCE = re.compile(r"```(?:json|python)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)


def _load_mapping(text: str) -> dict[str, Any]:
    fenced = _FENCE.search(text)
    body = fenced.group(1) if fenced else text
    start = body.find("{")
    if start < 0:
        raise ParseError("no JSON object in the answer")
    ends = [i for i, ch in enumerate(body) if ch == "}" and i > start]
    for end in reversed(ends):  # the longest candidate first, then shorter ones
        candidate = body[start:end + 1]
        for load in (json.loads, ast.literal_eval):  # ActivityNetQA's judges answer Python dict literals
            try:
                value = load(candidate)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
            if isinstance(value, dict):
                return {str(k): v for k, v in value.items()}
    raise ParseError("the answer's {…} is not valid JSON")


def json_object(fields: Mapping[str, Parser | None] | Sequence[str] = ()) -> Parser:
    """A JSON object (or Python dict literal, or either inside a ``` fence). Each key in ``fields`` must be
    present; when it maps to a parser, its value is parsed with it (``{"score": score(0, 5)}``)."""
    wanted: dict[str, Parser | None] = dict(fields) if isinstance(fields, Mapping) else dict.fromkeys(fields)

    def parse(text: str) -> dict[str, Any]:
        data = _load_mapping(text)
        lowered = {k.lower(): k for k in data}
        for key, sub in wanted.items():
            actual = key if key in data else lowered.get(key.lower())
            if actual is None:
                raise ParseError(f"the answer's JSON has no {key!r}")
            if sub is not None:
                try:
                    data[actual] = sub(str(data[actual]))
                except ParseError as exc:
                    raise ParseError(f"{key!r}: {exc}") from None
        return data

    return parse


# -- by name (for YAML) ---------------------------------------------------------------------------


def build_parser(spec: str | Mapping[str, Any]) -> Parser:
    """A parser from a YAML-friendly spec: ``yes_no``, ``pairwise``, ``{parser: score, min: 0, max: 5}``,
    ``{parser: json, fields: {pred: yes_no, score: {parser: score, min: 0, max: 5}}}``."""
    name, options = (spec, {}) if isinstance(spec, str) else (str(spec.get("parser", "")), dict(spec))
    if name == "yes_no":
        return yes_no
    if name == "pairwise":
        return pairwise_bracketed if options.get("brackets") else pairwise
    if name == "score":
        try:
            low, high = float(options["min"]), float(options["max"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("a score parser needs numeric min and max") from None
        return score(low, high, integer=bool(options.get("integer", False)), leading=bool(options.get("leading")))
    if name == "score_list":
        try:
            low, high = float(options["min"]), float(options["max"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("a score_list parser needs numeric min and max") from None
        count = options.get("count")
        return score_list(low, high, int(count) if count is not None else None)
    if name == "json":
        fields = options.get("fields") or {}
        if isinstance(fields, Mapping):
            return json_object({str(k): (build_parser(v) if v else None) for k, v in fields.items()})
        return json_object([str(f) for f in fields])
    raise ValueError(f"unknown parser {name!r} (known: yes_no, score, score_list, pairwise, json)")
