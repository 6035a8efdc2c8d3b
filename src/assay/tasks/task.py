"""A loaded task: docs in, messages and generation parameters out, responses scored.

Built by :meth:`assay.tasks.TaskRegistry.load` with every ``!function`` already imported. Task
functions are called with lmms-eval's conventions, so lmms-eval ``utils.py`` files work unchanged.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from assay.errors import AssayError, TaskError
from assay.settings import Settings
from assay.tasks.config import MetricSpec, TaskConfig
from assay.tasks.data import ensure_sequence, load_dataset_docs, select_docs
from assay.tasks.functions import accepts_second_arg, call_with_kwargs
from assay.tasks.messages import convert_chat, user_message, visual_parts
from assay.tasks.templates import render, render_choices
from assay.types import GenerationParams, Message

log = logging.getLogger(__name__)
#: A doc_to_target string that could be a field name (not a template, not a sentence).
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DEFAULT_METRIC = MetricSpec("exact_match")  # lmms-eval's default for generate_until
_MAX_TOKEN_KEYS = ("max_new_tokens", "max_tokens", "max_gen_toks")


class Task:
    def __init__(self, config: TaskConfig, *, settings: Settings, num_frames: int = 8) -> None:
        self.config = config
        self.name: str = config.task
        self.alias: str = config.task_alias or config.task
        self.num_frames = num_frames
        self._settings = settings
        self._dataset: Any = None
        self._columns: frozenset[str] | None = None  # the dataset's field names, for the target check
        self._literal_target_said = False
        if config.doc_to_messages is None and config.doc_to_text is None:
            raise TaskError(f"task {self.name} ({config.yaml_path}) has neither doc_to_text nor doc_to_messages")
        specs = config.metric_list or (() if config.process_results else (_DEFAULT_METRIC,))
        self._metrics: dict[str, MetricSpec] = {m.name: m for m in specs}
        self.metric_names: list[str] = list(self._metrics)
        self._scorers = self._check_metrics()

    def __repr__(self) -> str:
        return f"Task({self.name!r}, {self.config.yaml_path})"

    def _check_metrics(self) -> dict[str, Callable[[str, Any, dict[str, Any]], float]]:
        """Unknown metric or aggregation names fail here, at load, not after the model has run."""
        from assay.metrics import get_aggregation, get_metric

        scorers: dict[str, Callable[[str, Any, dict[str, Any]], float]] = {}
        try:
            for spec in self._metrics.values():
                if isinstance(spec.aggregation, str):
                    get_aggregation(spec.aggregation)
                if self.config.process_results is None:
                    scorers[spec.name] = _with_options(get_metric(spec.name, self._settings), spec.options)
        except TaskError as exc:
            raise TaskError(f"task {self.name} ({self.config.yaml_path}): {exc.message}", hint=exc.hint) from None
        return scorers

    # -- docs --------------------------------------------------------------------------------------

    def dataset(self) -> Any:
        """All docs after ``process_docs`` (a ``DocList`` or ``datasets.Dataset``), loaded once."""
        if self._dataset is None:
            data = load_dataset_docs(self.config, self._settings)
            if self.config.process_docs is not None:
                data = ensure_sequence(self._call("process_docs", self.config.process_docs, data), self.name)
            self._dataset = data
        return self._dataset

    def docs(
        self, limit: int | float | None = None, offset: int = 0, shuffle_seed: int | None = None
    ) -> list[dict[str, Any]]:
        """The docs to evaluate: shuffled with ``shuffle_seed`` (if given), then ``offset``, then ``limit``
        (a count, or a fraction in (0, 1] of all docs)."""
        return [doc for _, doc in self.doc_items(limit, offset, shuffle_seed)]

    def doc_items(
        self, limit: int | float | None = None, offset: int = 0, shuffle_seed: int | None = None
    ) -> Sequence[tuple[int, dict[str, Any]]]:
        """As :meth:`docs`, each doc with its index in the dataset (its ``doc_id`` in samples); local files
        are read doc by doc as the sequence is consumed."""
        return select_docs(self.dataset(), limit=limit, offset=offset, shuffle_seed=shuffle_seed)

    # -- prompts -----------------------------------------------------------------------------------

    @property
    def may_have_media(self) -> bool:
        """Whether building a doc's messages may decode and encode images or video (slow: the runner
        then builds them in a worker thread, off the event loop)."""
        return self.config.doc_to_visual is not None or self.config.doc_to_messages is not None

    def messages(self, doc: dict[str, Any]) -> tuple[Message, ...]:
        """The request for one doc: ``doc_to_messages``, or visuals then ``doc_to_text`` as one user turn."""
        kwargs = self.config.lmms_eval_specific_kwargs
        if self.config.doc_to_messages is not None:
            chat = self._call("doc_to_messages", call_with_kwargs, self.config.doc_to_messages, doc, kwargs)
            return tuple(self._call("doc_to_messages", convert_chat, chat, num_frames=self.num_frames))
        parts = self._call("doc_to_visual", visual_parts, self.visuals(doc), num_frames=self.num_frames)
        return (user_message(parts, self.prompt_text(doc)),)

    def prompt_text(self, doc: dict[str, Any]) -> str:
        value = self.config.doc_to_text
        if callable(value):
            value = self._call("doc_to_text", call_with_kwargs, value, doc, self.config.lmms_eval_specific_kwargs)
        elif isinstance(value, str):
            value = self._call("doc_to_text", render, value, doc)
        return "" if value is None else str(value)

    def visuals(self, doc: dict[str, Any]) -> list[Any]:
        value = self.config.doc_to_visual
        if value is None:
            return []
        out = self._call("doc_to_visual", value, doc) if callable(value) else doc.get(value)
        if out is None:
            return []
        return list(out) if isinstance(out, (list, tuple)) else [out]

    def target(self, doc: dict[str, Any]) -> Any:
        """The reference answer; an integer target indexes ``doc_to_choice`` when the task has one."""
        value = self.config.doc_to_target
        if callable(value):
            extra = self.config.model_specific_target_kwargs
            if extra is not None and accepts_second_arg(value):
                value = self._call("doc_to_target", value, doc, extra)
            else:
                value = self._call("doc_to_target", value, doc)
        elif isinstance(value, str):
            self._check_target_field(value, doc)
            value = self._call("doc_to_target", render, value, doc)
        elif isinstance(value, list):
            value = [render(v, doc) if isinstance(v, str) else v for v in value]
        if isinstance(value, int) and not isinstance(value, bool) and self.config.doc_to_choice is not None:
            choices = self.choices(doc)
            if not 0 <= value < len(choices):
                raise TaskError(f"task {self.name}: target index {value} out of range for {len(choices)} choices")
            return choices[value]
        return value

    def _check_target_field(self, name: str, doc: dict[str, Any]) -> None:
        """``doc_to_target`` names a field this doc lacks. If other docs have it, scoring this doc against the
        field's *name* would be silently wrong: an error for this doc. If no doc has it, the name is literal
        text by design (or a typo): said once per task. Tasks scored by ``process_results`` read the doc
        themselves, so their target is only shown."""
        if name in doc or not _FIELD_NAME.fullmatch(name) or self.config.process_results is not None:
            return
        if self._columns is None:
            self._columns = frozenset(getattr(self.dataset(), "column_names", None) or ())
        if name in self._columns:
            raise TaskError(f"task {self.name}: this doc has no field {name!r}, which doc_to_target names",
                            hint="every doc needs the target field; fix the data or doc_to_target")
        if not self._literal_target_said:
            self._literal_target_said = True
            log.warning("task %s: doc_to_target %r is not a field of its docs; every doc is scored against "
                        "that literal text", self.name, name)

    def choices(self, doc: dict[str, Any]) -> list[Any]:
        value = self.config.doc_to_choice
        if value is None:
            return []
        if callable(value):
            value = self._call("doc_to_choice", value, doc)
        return list(self._call("doc_to_choice", render_choices, value, doc))

    def generation_params(self, gen_kwargs_override: Mapping[str, Any] | None = None) -> GenerationParams:
        """The task's ``generation_kwargs`` with the override on top, in provider-neutral form."""
        kwargs = {**self.config.generation_kwargs, **(gen_kwargs_override or {})}
        max_tokens = next((kwargs.pop(k) for k in _MAX_TOKEN_KEYS if k in kwargs), None)
        for k in _MAX_TOKEN_KEYS:
            kwargs.pop(k, None)
        temperature = kwargs.pop("temperature", None)
        top_p = kwargs.pop("top_p", None)
        seed = kwargs.pop("seed", None)
        until = kwargs.pop("until", None)
        do_sample = kwargs.pop("do_sample", None)
        if do_sample is False and temperature is None:
            temperature = 0.0  # greedy, which is what do_sample: false means to a HF model
        stop = (until,) if isinstance(until, str) else tuple(str(s) for s in until or ())
        try:
            return GenerationParams(
                max_tokens=None if max_tokens is None else int(max_tokens),
                temperature=None if temperature is None else float(temperature),
                top_p=None if top_p is None else float(top_p),
                stop=stop,
                seed=None if seed is None else int(seed),
                extra=tuple(sorted((str(k), _freeze(v)) for k, v in kwargs.items())),
            )
        except (TypeError, ValueError) as exc:
            raise TaskError(f"task {self.name}: bad generation_kwargs: {exc}", hint="fix generation_kwargs") from None

    # -- scoring -----------------------------------------------------------------------------------

    def score(self, doc: dict[str, Any], response_text: str) -> dict[str, Any]:
        """Metric -> value for one response: ``process_results(doc, [text])``, else the metric_list.

        Values are usually floats; lmms-eval ``process_results`` may return per-doc dicts that its
        ``!function`` aggregation consumes, and those are passed through untouched.
        """
        if self.config.process_results is not None:
            result = self._call("process_results", self.config.process_results, doc, [response_text])
            if not isinstance(result, dict):
                raise TaskError(f"task {self.name}: process_results returned {type(result).__name__}, not a dict")
            return dict(result)
        target = self.target(doc)
        return {name: float(fn(response_text, target, doc)) for name, fn in self._scorers.items()}

    def higher_is_better(self, metric: str) -> bool:
        spec = self._metrics.get(metric)
        return True if spec is None else spec.higher_is_better

    def aggregate(self, metric: str, values: list[Any]) -> float:
        """``values`` (one per doc) combined with the metric's aggregation (a name or a ``!function``)."""
        from assay.metrics import get_aggregation

        spec = self._metrics.get(metric)
        aggregation = "mean" if spec is None else spec.aggregation
        if isinstance(aggregation, str):
            return float(get_aggregation(aggregation)(values))
        return float(self._call(f"aggregation of {metric}", aggregation, values))

    # -- helpers -----------------------------------------------------------------------------------

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run task code; its failures become a TaskError naming the task and the hook."""
        try:
            return fn(*args, **kwargs)
        except AssayError as exc:
            if isinstance(exc, TaskError) and not exc.message.startswith(f"task {self.name}"):
                raise TaskError(f"task {self.name}: {what}: {exc.message}", hint=exc.hint) from exc
            raise
        except Exception as exc:
            raise TaskError(
                f"task {self.name}: {what} failed: {type(exc).__name__}: {exc}",
                hint=f"the error is in the task's own code (see {self.config.folder})",
            ) from exc


def _with_options(
    fn: Callable[..., float], options: Mapping[str, Any]
) -> Callable[[str, Any, dict[str, Any]], float]:
    """Pass metric_list options (e.g. ``threshold`` for anls) that the metric accepts as keywords."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return fn
    accepted = {k: v for k, v in options.items() if k in params and params[k].kind is inspect.Parameter.KEYWORD_ONLY}
    if not accepted:
        return fn
    return lambda prediction, target, doc: fn(prediction, target, doc, **accepted)


def _freeze(value: Any) -> Any:
    """Lists become tuples (JSON-identical) so GenerationParams stays hashable in the common case."""
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value
