"""assay_spoken_digits: the clip beside the task, the question, and scores that read digits written either way.

An answer may spell the digits ("four nine two"), write them ("4 9 2", "492", "4, 9, 2") or wrap them in a
sentence; the digits are read in order. ``exact_match`` wants all three right, ``digit_accuracy`` counts
each position.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORDS = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
         "seven": "7", "eight": "8", "nine": "9"}
_TOKEN = re.compile(r"[a-z]+|\d")


def digits_doc_to_audio(doc: dict[str, Any]) -> list[str]:
    return [str(HERE / doc["audio"])]


def digits_doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    return f"{kwargs.get('pre_prompt', '')}{kwargs.get('post_prompt', '')}"


def read_digits(answer: str) -> list[str]:
    """The digits in ``answer``, in order, whether written as numerals or as English words."""
    tokens = _TOKEN.findall(answer.lower())
    return [t if t.isdigit() else WORDS[t] for t in tokens if t.isdigit() or t in WORDS]


def digits_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    said = read_digits(results[0] if results else "")
    expected = doc["answer"].split()
    right = sum(1 for a, b in zip(said, expected, strict=False) if a == b)
    return {"exact_match": float(said == expected), "digit_accuracy": right / len(expected)}
