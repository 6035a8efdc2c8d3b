"""What a task sends for a doc, what its scoring returns, and what the command line changes about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assay.types import LoglikelihoodRequest, Request

#: lmms-eval's default ``--reasoning_tags``: stripped from every answer before scoring.
DEFAULT_REASONING_TAGS: tuple[tuple[str, str], ...] = (("<think>", "</think>"), ("<analysis>", "</analysis>"))

#: "Not given" for an argument whose given value may be anything, None included (a doc's target).
UNSET: Any = object()


@dataclass(frozen=True)
class RunSettings:
    """What the command line changes about every task (lmms-eval's flags of the same names)."""

    num_fewshot: int | None = None
    fewshot_seed: int = 1234
    system_instruction: str | None = None
    reasoning_tags: Any = "default"  # "default": lmms-eval's; None/"none": off; or a list of [open, close]
    repeats: int | None = None
    num_frames: int = 8


@dataclass(frozen=True)
class DocWork:
    """What to send for one doc: generations (``repeats`` of them) or one log-likelihood per choice."""

    target: Any
    generate: tuple[Request, ...] = ()
    loglikelihood: tuple[LoglikelihoodRequest, ...] = ()


@dataclass
class SampleScore:
    """One doc's scores by result key (``metric`` or ``metric,filter``) and each pipeline's output."""

    scores: dict[str, Any] = field(default_factory=dict)
    filtered: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.scores[key]


def result_key(metric: str, filter_name: str) -> str:
    """assay's own results name a metric plainly under the default pipeline, ``metric,filter`` otherwise."""
    return metric if filter_name == "none" else f"{metric},{filter_name}"


