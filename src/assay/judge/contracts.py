"""Verdict contracts: the answer shape a task's own judge parsing accepts, checked by assay.

lmms-eval helpers that read the judge's text themselves turn an answer they cannot read into a score
(ActivityNetQA: ``["no", 0]``; MM-Vet: ``0.0`` after re-asking at rising temperatures; WildVision: a
"tie"). assay cannot see inside that code, so it checks the judge's answers against the shape the
helper accepts and counts an answer that does not fit as ``parse_failed``. A task folder declares its
contract in metadata (``judge_verdict: {parser: score, min: 0, max: 1}``, see
:func:`assay.judge.parsers.build_parser`); the helpers below are known without one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from assay.errors import TaskError

if TYPE_CHECKING:
    from assay.judge.parsers import Parser

#: lmms-eval ``process_results`` functions -> what their own parsing accepts.
KNOWN_HELPERS: dict[str, Any] = {
    # "{'pred': 'yes', 'score': 4}" read with ast.literal_eval; anything else scores ["no", 0].
    "activitynetqa_process_results": {
        "parser": "json", "fields": {"pred": "yes_no", "score": {"parser": "score", "min": 0, "max": 5}},
    },
    # float(answer.split(" ")[0]) in [0, 1]; anything else is re-asked, then scored 0.0.
    "mmvet_process_results": {"parser": "score", "min": 0, "max": 1, "leading": True},
    # exactly one [[A>>B]]-style label; anything else is an "Unclear" tie.
    "wild_vision_process_results": {"parser": "pairwise", "brackets": True},
}


def verdict_contract(task: str, metadata: Mapping[str, Any], process_results: Any) -> Parser | None:
    """The contract for one task: its metadata's ``judge_verdict``, else a known helper's, else None."""
    spec = metadata.get("judge_verdict") if isinstance(metadata, Mapping) else None
    if spec is None:
        spec = KNOWN_HELPERS.get(getattr(process_results, "__name__", ""))
    if spec is None or spec is False:
        return None
    from assay.judge.parsers import build_parser  # only for a task with a contract: off every other run's start-up

    try:
        return build_parser(spec)
    except ValueError as exc:
        raise TaskError(f"task {task}: metadata judge_verdict: {exc}",
                        hint="e.g. judge_verdict: {parser: score, min: 0, max: 10}") from None
