"""Few-shot context: ``description``, ``num_fewshot`` labelled examples, then the doc's own text.

lmms-eval's rules (``ConfigurableTask.fewshot_context`` and ``ContextSampler``), reproduced:

* examples come from ``fewshot_split``, else the training, validation or test split, after ``process_docs``;
* the ``default`` sampler draws with one ``random.Random(seed)`` per task (seed 1234 unless the 4th
  ``--seed`` value says otherwise), doc after doc in evaluation order, one extra example when
  ``fewshot_split`` is the test split, and drops the doc being evaluated; ``first_n`` takes the first n;
* an example is ``doc_to_text + target_delimiter + doc_to_target``, examples joined and followed by
  ``fewshot_delimiter``; ``description`` (a template) and ``--system_instruction`` come first.

Draws are made once, in order, for the selected docs (:meth:`FewShot.draw`), so the concurrent runner
builds the same prompts as lmms-eval's sequential loop.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from assay.errors import TaskError

SAMPLERS = ("default", "first_n")


class FewShot:
    """The few-shot examples of one task."""

    def __init__(
        self,
        docs: Sequence[dict[str, Any]],
        *,
        sampler: str,
        num_fewshot: int,
        same_split: bool,
        comparable: bool,
        seed: int = 1234,
    ) -> None:
        if sampler not in SAMPLERS:
            raise TaskError(f"unknown few-shot sampler {sampler!r}",
                            hint=f"fewshot_config.sampler: {' or '.join(SAMPLERS)}")
        self.docs = docs
        self.sampler = sampler
        self.num_fewshot = num_fewshot
        self.same_split = same_split
        self.comparable = comparable  # False when eval docs carry media columns: lmms-eval's `x != doc` never matches
        self._seed = seed
        self._rng = random.Random(seed)
        self._drawn: dict[int, list[int]] = {}

    def draw(self, items: Iterable[tuple[int, dict[str, Any]]]) -> None:
        """Draw every selected doc's examples, in evaluation order (before any prompt is built)."""
        for doc_id, doc in items:
            self._drawn[doc_id] = self._indices(doc)

    def _indices(self, doc: dict[str, Any], rng: random.Random | None = None) -> list[int]:
        rng = rng or self._rng
        n = self.num_fewshot + 1 if self.same_split else self.num_fewshot
        if self.sampler == "first_n":
            if n > len(self.docs):
                raise TaskError(f"few-shot: {n} examples requested, the split has {len(self.docs)}")
            picked = list(range(n))
        else:
            if n > len(self.docs):
                raise TaskError(f"few-shot: {n} examples requested, the split has {len(self.docs)}",
                                hint="lower num_fewshot or use a larger fewshot_split")
            # random.sample picks by index, so sampling range(len) draws exactly what sampling the docs does
            picked = rng.sample(range(len(self.docs)), n)
        kept = [i for i in picked if not (self.comparable and dict(self.docs[i]) == doc)]
        return kept[: self.num_fewshot]

    def examples(self, doc_id: int, doc: dict[str, Any]) -> list[dict[str, Any]]:
        indices = self._drawn.get(doc_id)
        if indices is None:  # a doc not drawn up front (a direct API call): its own draw, the run's untouched
            indices = self._indices(doc, random.Random(f"{self._seed}:{doc_id}"))
        return [dict(self.docs[i]) for i in indices]


def labelled_examples(
    examples: Sequence[dict[str, Any]],
    *,
    text: Callable[[dict[str, Any]], Any],
    target: Callable[[dict[str, Any]], Any],
    choices: Callable[[dict[str, Any]], list[Any]] | None,
    target_delimiter: str,
    fewshot_delimiter: str,
) -> str:
    """The examples block: ``text + target_delimiter + target`` per example, each followed by the delimiter."""
    rendered = []
    for ex in examples:
        question = text(ex)
        if choices is not None and not isinstance(question, str):
            question = choices(ex)[question]
        answer = target(ex)
        if isinstance(answer, list):
            answer = str(answer[0])
        elif choices is not None and not isinstance(answer, str):
            answer = str(choices(ex)[answer])
        if not isinstance(question, str) or not isinstance(answer, str):
            raise TaskError(
                f"few-shot example gives {type(question).__name__} text and {type(answer).__name__} target",
                hint="few-shot examples need text doc_to_text and doc_to_target (or doc_to_choice indexes)",
            )
        rendered.append(question + target_delimiter + answer)
    return fewshot_delimiter.join(rendered) + fewshot_delimiter


def system_prompt(system_instruction: str | None, description: str, fewshot_delimiter: str) -> str:
    if system_instruction is not None and description:
        return f"{system_instruction}{fewshot_delimiter}{description}"
    if system_instruction is not None:
        return system_instruction
    return description
