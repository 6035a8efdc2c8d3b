"""A loaded task: docs in; what to send for each doc; the answers scored as lmms-eval scores them.

Built by :meth:`assay.tasks.TaskRegistry.load` with every ``!function`` already imported. Task functions
are called with lmms-eval's conventions, so lmms-eval ``utils.py`` files work unchanged. The execute
stage asks :meth:`Task.work` what to send for a doc (``repeats`` generations, or one log-likelihood
per choice for ``multiple_choice``) and hands what came back to :meth:`Task.score`, which runs the
``filter_list`` pipelines, strips reasoning tags and scores each pipeline's output.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from assay.env.settings import Settings
from assay.errors import AssayError, TaskError
from assay.tasks.data.fewshot import FewShot, labelled_examples, system_prompt
from assay.tasks.data.load import ensure_sequence, load_dataset_docs, select_docs
from assay.tasks.messages import convert_chat, user_message, visual_parts
from assay.tasks.scoring import results as scoring
from assay.tasks.scoring.filters import FilterPipeline, StripThinkingFilter, build_pipelines, strip_reasoning_tags
from assay.tasks.scoring.target_field import TargetFieldCheck
from assay.tasks.work import DEFAULT_REASONING_TAGS, UNSET, DocWork, RunSettings, SampleScore, result_key
from assay.tasks.yaml.config import TaskConfig
from assay.tasks.yaml.functions import accepts_second_arg, call_with_kwargs
from assay.tasks.yaml.templates import literal_or_render, render, render_choices, render_template
from assay.types import GenerationParams, LoglikelihoodRequest, Message, Request, TextPart

__all__ = ["DEFAULT_REASONING_TAGS", "DocWork", "RunSettings", "SampleScore", "Task", "result_key"]

class Task:
    def __init__(self, config: TaskConfig, *, settings: Settings, run: RunSettings | None = None,
                 num_frames: int | None = None) -> None:
        self.config = config
        self.name: str = config.task
        self.alias: str = config.task_alias or config.task
        self.run = run or RunSettings()
        self.num_frames = num_frames if num_frames is not None else self.run.num_frames
        self._settings = settings
        self._dataset: Any = None
        self._fewshot: FewShot | None = None
        self._first_doc: dict[str, Any] | None = None
        self._targets_are_lists: bool | None = None
        self._check_target_field = TargetFieldCheck(self.name, lambda: getattr(self.dataset(), "column_names", None),
                                                    enabled=config.process_results is None)
        where = f"task {self.name} ({config.yaml_path})"
        if config.doc_to_messages is None and config.doc_to_text is None:
            raise TaskError(f"{where} has neither doc_to_text nor doc_to_messages")
        self.output_type = config.output_type
        self.repeats = self.run.repeats or config.repeats
        self.num_fewshot = self.run.num_fewshot if self.run.num_fewshot is not None else (config.num_fewshot or 0)
        self.metrics = scoring.resolve_metrics(config.metric_list, output_type=self.output_type,
                                               has_process_results=config.process_results is not None, where=where,
                                               settings=settings)
        self._metric = {m.name: m for m in self.metrics}
        self.pipelines: list[FilterPipeline] = build_pipelines(config.filter_list, where)
        self._tags = self._reasoning_tags()
        if config.auto_strip_thinking and self._tags is None:
            for pipeline in self.pipelines:
                pipeline.filters.insert(0, StripThinkingFilter())
        self.metric_keys: list[str] = [result_key(m.name, p.name) for p in self.pipelines for m in self.metrics]
        self._key = {result_key(m.name, p.name): (m, p.name) for p in self.pipelines for m in self.metrics}

    def __repr__(self) -> str:
        return f"Task({self.name!r}, {self.config.yaml_path})"

    @property
    def metric_names(self) -> list[str]:
        return self.metric_keys

    def _reasoning_tags(self) -> list[list[str]] | None:
        value = self.config.reasoning_tags if self.config.reasoning_tags is not None else self.run.reasoning_tags
        if value == "default":
            return [list(p) for p in DEFAULT_REASONING_TAGS]
        if value is None or value is False or value == "none":
            return None
        if isinstance(value, str):
            import json

            value = json.loads(value)
        if not isinstance(value, list) or not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in value):
            raise TaskError(f"task {self.name}: reasoning_tags must be a list of [open, close] pairs")
        return [list(p) for p in value]

    # -- docs --------------------------------------------------------------------------------------

    def dataset(self) -> Any:
        """All docs of the evaluated split after ``process_docs``, loaded once."""
        if self._dataset is None:
            self._dataset = self._load_split(self.config.eval_split)
        return self._dataset

    def _load_split(self, split: str | None) -> Any:
        c = self.config
        if c.dataset_kwargs.get("video"):  # lmms-eval's media archives (tarfile, the Hub): only for those
            from assay.tasks.data.media_archives import ensure_media

            self._call("fetching media", ensure_media, self.name, c.dataset_path, c.dataset_kwargs, self._settings)
        data = load_dataset_docs(self.config, self._settings, split=split)
        if self.config.process_docs is not None:
            data = ensure_sequence(self._call("process_docs", self.config.process_docs, data), self.name)
        return data

    def docs(self, limit: int | float | None = None, offset: int = 0,
             shuffle_seed: int | None = None) -> list[dict[str, Any]]:
        return [doc for _, doc in self.doc_items(limit, offset, shuffle_seed)]

    def doc_items(self, limit: int | float | None = None, offset: int = 0,
                  shuffle_seed: int | None = None) -> Sequence[tuple[int, dict[str, Any]]]:
        """The docs to evaluate with their index in the dataset (local files: read doc by doc as the sequence
        is consumed); few-shot examples are drawn for them here, in this order, as lmms-eval draws them."""
        items = select_docs(self.dataset(), limit=limit, offset=offset, shuffle_seed=shuffle_seed)
        if self.num_fewshot > 0 and self.config.doc_to_messages is None:
            self._fewshot_sampler().draw(items)
        return items

    def first_doc(self) -> dict[str, Any]:
        """The dataset's first doc: lmms-eval decides ``multiple_target``/``multiple_input`` from it."""
        if self._first_doc is None:
            try:  # not len(): counting every doc of a local file would read past what --limit needs
                self._first_doc = dict(self.dataset()[0])
            except IndexError:
                self._first_doc = {}
        return self._first_doc

    def _fewshot_sampler(self) -> FewShot:
        if self._fewshot is None:
            c = self.config
            split = c.fewshot_split or c.training_split or c.validation_split or c.test_split
            docs = self.dataset() if split == c.eval_split else self._load_split(split)
            self._fewshot = FewShot(docs, sampler=c.fewshot_sampler or "default", num_fewshot=self.num_fewshot,
                                    same_split=c.fewshot_split == c.test_split, comparable=not _has_media(docs),
                                    seed=self.run.fewshot_seed)
        return self._fewshot

    # -- doc fields (lmms-eval's ConfigurableTask.doc_to_*) -----------------------------------------

    def prompt_text(self, doc: dict[str, Any]) -> Any:
        """``doc_to_text``: text, or an int (a choice index) for ``multiple_input`` tasks."""
        value = self.config.doc_to_text
        if isinstance(value, int):
            return value
        if callable(value):
            return self._call("doc_to_text", call_with_kwargs, value, doc, self.config.lmms_eval_specific_kwargs)
        if isinstance(value, str):
            text = self._call("doc_to_text", render, value, doc)
            if isinstance(text, str) and text.isdigit() and self.config.doc_to_choice is not None:
                return int(text)
            return text
        return ""

    def visuals(self, doc: dict[str, Any]) -> list[Any]:
        value = self.config.doc_to_visual
        if value is None:
            return []
        if callable(value):
            kwargs = self.config.lmms_eval_specific_kwargs
            two = kwargs is not None and _n_params(value) == 2
            out = self._call("doc_to_visual", value, doc, kwargs) if two else self._call("doc_to_visual", value, doc)
        else:
            out = [doc.get(value)]
        if out is None:
            return []
        return list(out) if isinstance(out, (list, tuple)) else [out]

    def target(self, doc: dict[str, Any]) -> Any:
        value = self.config.doc_to_target
        if callable(value):
            extra = self.config.model_specific_target_kwargs
            if extra is not None and accepts_second_arg(value):
                return self._call("doc_to_target", value, doc, extra)
            return self._call("doc_to_target", value, doc)
        if isinstance(value, str):
            if value in doc:  # most tasks: a field of the doc (literal_or_render's first answer too)
                return doc[value]
            self._check_target_field(value, doc)  # a missing field is an error, not its name as the answer
            return self._call("doc_to_target", literal_or_render, value, doc, self.config.doc_to_choice is not None)
        return value

    def choices(self, doc: dict[str, Any]) -> list[Any]:
        value = self.config.doc_to_choice
        if value is None:
            return []
        if callable(value):
            value = self._call("doc_to_choice", value, doc)
        return list(self._call("doc_to_choice", render_choices, value, doc))

    # -- what to send ------------------------------------------------------------------------------

    @property
    def may_have_media(self) -> bool:
        """Whether building a doc's messages may decode images or video (then built off the event loop)."""
        return self.config.doc_to_visual is not None or self.config.doc_to_messages is not None

    @property
    def multiple_input(self) -> bool:
        return self.config.doc_to_choice is not None and isinstance(self.prompt_text(self.first_doc()), int)

    def context(self, doc: dict[str, Any], doc_id: int | None = None) -> Any:
        """lmms-eval's ``fewshot_context``: system instruction, description, examples, then the doc's text."""
        c = self.config
        description = self._call("description", render_template, c.description, doc) if c.description else ""
        text = system_prompt(self.run.system_instruction, str(description), c.fewshot_delimiter) \
            if description or self.run.system_instruction is not None else ""
        if self.num_fewshot > 0:
            examples = self._fewshot_sampler().examples(-1 if doc_id is None else doc_id, doc)
            choices = self.choices if c.doc_to_choice is not None else None
            text += self._call("few-shot examples", labelled_examples, examples, text=self.prompt_text,
                               target=self.target, choices=choices, target_delimiter=c.target_delimiter,
                               fewshot_delimiter=c.fewshot_delimiter)
        example = self.prompt_text(doc)
        if isinstance(example, str):
            return text + example
        if isinstance(example, list):
            return [text + str(e) for e in example]
        if isinstance(example, int):
            return text + (str(self.choices(doc)[example]) if c.doc_to_choice is not None else str(example))
        return text + ("" if example is None else str(example))

    def messages(self, doc: dict[str, Any], doc_id: int | None = None) -> tuple[Message, ...]:
        """The prompt for one doc: ``doc_to_messages``, or the visuals then the context as one user turn."""
        kwargs = self.config.lmms_eval_specific_kwargs
        if self.config.doc_to_messages is not None:
            chat = self._call("doc_to_messages", call_with_kwargs, self.config.doc_to_messages, doc, kwargs)
            turns = tuple(self._call("doc_to_messages", convert_chat, chat, num_frames=self.num_frames,
                                     audio_max_seconds=self._settings.audio_max_seconds))
            instruction = self.run.system_instruction
            if instruction is not None and not any(m.role == "system" for m in turns):  # chat-form tasks too
                turns = (Message("system", (TextPart(instruction),)), *turns)
            return turns
        context = self.context(doc, doc_id)
        if isinstance(context, list):
            raise TaskError(f"task {self.name}: doc_to_text gave a list; only multiple_choice tasks may")
        return (self._user_turn(doc, context),)

    def _user_turn(self, doc: dict[str, Any], text: str) -> Message:
        if self.config.doc_to_visual is None:  # a text-only task: nothing to convert
            return user_message((), text)
        parts = self._call("doc_to_visual", visual_parts, self.visuals(doc), num_frames=self.num_frames,
                           audio_max_seconds=self._settings.audio_max_seconds)
        return user_message(parts, text)

    def work(self, doc_id: int, doc: dict[str, Any], params: GenerationParams) -> DocWork:
        """Everything to send for ``doc`` (may decode media: call it off the event loop)."""
        target = self.target(doc)
        if self.output_type == "multiple_choice":
            return DocWork(target, loglikelihood=self._choice_requests(doc_id, doc))
        messages = self.messages(doc, doc_id)
        if self.repeats == 1:
            return DocWork(target, generate=(Request(messages, params, self.name, doc_id),))
        return DocWork(target, generate=tuple(
            Request(messages=messages, params=params, task=self.name, doc_id=doc_id, repeat=i)
            for i in range(self.repeats)
        ))

    def _choice_requests(self, doc_id: int, doc: dict[str, Any]) -> tuple[LoglikelihoodRequest, ...]:
        choices = self.choices(doc)
        delim = self.config.target_delimiter
        if self.multiple_input:  # the choices are the contexts, the target the continuation (lmms-eval's rule)
            cont = f"{delim}{self.target(doc)}"
            return tuple(LoglikelihoodRequest((self._user_turn(doc, str(c)),), cont, self.name, doc_id)
                         for c in choices)
        context = self.context(doc, doc_id)
        if not isinstance(context, str):
            raise TaskError(f"task {self.name}: a multiple_choice doc_to_text must give text")
        message = self._user_turn(doc, context)
        return tuple(LoglikelihoodRequest((message,), f"{delim}{c}", self.name, doc_id) for c in choices)

    def generation_params(self, gen_kwargs_override: Mapping[str, Any] | None = None) -> GenerationParams:
        """The task's ``generation_kwargs`` with the override on top, as API parameters."""
        from assay.tasks.yaml.generation import generation_params

        return generation_params(self.name, self.config.generation_kwargs, gen_kwargs_override)

    # -- scoring -----------------------------------------------------------------------------------

    def score(self, doc: dict[str, Any], responses: str | Iterable[Any], target: Any = UNSET) -> SampleScore:
        """Scores of one doc. ``responses``: the generated texts (``repeats`` of them), or for
        ``multiple_choice`` one ``(loss, is_greedy)`` per choice (loss = minus the log-likelihood).
        ``target``: the doc's target when its prompt already computed it (else computed here)."""
        responses = [responses] if isinstance(responses, str) else list(responses)
        per_request = [responses] if self.output_type != "multiple_choice" else [[r] * self.repeats for r in responses]
        out = SampleScore()
        for pipeline in self.pipelines:
            filtered = [self._call(f"filter {pipeline.name}", pipeline.apply, r, doc) for r in per_request]
            if self._tags is not None:
                filtered = [self._strip_tags(f) for f in filtered]
            out.filtered[pipeline.name] = filtered
            for metric, value in self._process(doc, filtered, target).items():
                out.scores[result_key(metric, pipeline.name)] = value
        return out

    def _strip_tags(self, value: Any) -> Any:
        if self._tags is None:
            return value
        if isinstance(value, str):
            return strip_reasoning_tags(value, self._tags)
        if isinstance(value, list):
            return [strip_reasoning_tags(v, self._tags) if isinstance(v, str) else v for v in value]
        return value

    def _process(self, doc: dict[str, Any], results: list[Any], target: Any = UNSET) -> dict[str, Any]:
        if self.output_type != "multiple_choice":
            items = results[0] if results and isinstance(results[0], list) else results
            results = ["" if r is None else r.strip() for r in items]
        if self.config.process_results is not None:
            value = self._call("process_results", self.config.process_results, doc, results)
            if not isinstance(value, dict):
                raise TaskError(f"task {self.name}: process_results returned {type(value).__name__}, not a dict")
            return value
        multiple_target = self._multiple_target()
        if self.output_type == "multiple_choice":
            gold = self.prompt_text(doc) if self.multiple_input else \
                (self.target(doc) if target is UNSET else target)
            scores: dict[str, Any] = self._call("scoring", scoring.score_choices, self.metrics, results, gold,
                                                self.choices(doc), multiple_target=multiple_target)
            return scores
        choices = self.choices(doc) if self.config.doc_to_choice is not None else None
        scores = self._call("scoring", scoring.score_generation, self.metrics, results,
                            self.target(doc) if target is UNSET else target, doc,
                            choices=choices, multiple_target=multiple_target)
        return scores

    def _multiple_target(self) -> bool:
        """Whether the targets are lists, which lmms-eval decides from the first doc's: computed once."""
        if self._targets_are_lists is None:
            self._targets_are_lists = isinstance(self.target(self.first_doc()), list)
        return self._targets_are_lists

    def higher_is_better(self, key: str) -> bool:
        found = self._key.get(key)
        return True if found is None else found[0].higher_is_better

    def aggregate(self, key: str, values: list[Any], args: Any = None) -> Any:
        """``values`` (one per doc) combined with the metric's aggregation; ``args`` as lmms-eval passes it."""
        metric = self._key[key][0] if key in self._key else self._metric.get(key)
        if metric is None:
            raise TaskError(f"task {self.name}: no metric {key!r}")
        return self._call(f"aggregation of {key}", scoring.aggregate, metric, values, args)

    def stderr(self, key: str, values: list[Any]) -> float | None:
        metric = self._key[key][0] if key in self._key else self._metric.get(key)
        return None if metric is None else scoring.stderr(metric, values)

    def split_key(self, key: str) -> tuple[str, str]:
        """``(metric, filter)`` of a result key."""
        metric, filter_name = self._key[key]
        return metric.name, filter_name

    # -- helpers -----------------------------------------------------------------------------------

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run task code; its failures (``sys.exit()`` too) become a TaskError naming the task and the hook."""
        try:
            return fn(*args, **kwargs)
        except AssayError as exc:
            if isinstance(exc, TaskError) and not exc.message.startswith(f"task {self.name}"):
                raise TaskError(f"task {self.name}: {what}: {exc.message}", hint=exc.hint) from exc
            raise
        except (Exception, SystemExit) as exc:
            detail = f"called sys.exit({exc.code!r})" if isinstance(exc, SystemExit) else \
                f"failed: {type(exc).__name__}: {exc}"
            raise TaskError(f"task {self.name}: {what} {detail}",
                            hint=f"the error is in the task's own code (see {self.config.folder})") from exc


def _n_params(fn: Callable[..., Any]) -> int:
    try:
        return len(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return 1


def _has_media(docs: Any) -> bool:
    """Whether a ``datasets.Dataset`` has image/audio columns (lmms-eval drops them from eval docs)."""
    features = getattr(docs, "features", None)
    if not features:
        return False
    for feature in features.values():
        kind = type(feature).__name__
        inner = type(getattr(feature, "feature", None)).__name__
        if kind in ("Image", "Audio") or (kind == "Sequence" and inner == "Image"):
            return True
    return False
