"""echo_match: 1.0 when the answer is the target number."""

from __future__ import annotations

from typing import Any


def echo_match(prediction: str, target: Any, doc: dict[str, Any]) -> float:
    return 1.0 if prediction.strip() == str(target).strip() else 0.0
