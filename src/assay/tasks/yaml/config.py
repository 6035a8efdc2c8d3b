"""The typed task config: a resolved lmms-eval task mapping, checked and normalised once at load.

Input is a mapping with includes merged and ``!function`` values already imported (callables). Every key
is checked against :mod:`assay.tasks.yaml.keys`: honoured, inert (said so), or refused by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assay.errors import TaskError
from assay.tasks.yaml.keys import FEWSHOT_KEYS, FEWSHOT_UNREAD, check_keys, check_output_type

Fn = Callable[..., Any]


@dataclass(frozen=True)
class MetricSpec:
    """One ``metric_list`` entry; ``options`` are the metric's keyword arguments (``ignore_case``…)."""

    name: str
    aggregation: str | Fn | None = None  # None: the metric's registered default
    higher_is_better: bool | None = None  # None: the metric's registered default
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskConfig:
    task: str
    yaml_path: Path
    task_alias: str | None = None
    tags: tuple[str, ...] = ()
    dataset_path: str | None = None
    dataset_name: str | None = None
    dataset_kwargs: Mapping[str, Any] = field(default_factory=dict)
    training_split: str | None = None
    validation_split: str | None = None
    test_split: str | None = None
    fewshot_split: str | None = None
    doc_to_visual: Fn | str | None = None
    doc_to_text: Fn | str | int | None = None
    doc_to_target: Fn | str | int | list[Any] | None = None
    doc_to_choice: Fn | str | list[Any] | dict[str, Any] | None = None
    doc_to_messages: Fn | None = None
    process_docs: Fn | None = None
    process_results: Fn | None = None
    metric_list: tuple[MetricSpec, ...] = ()
    generation_kwargs: Mapping[str, Any] = field(default_factory=dict)
    # Already narrowed to this run's model (its entry, or `default`); None when the task has none,
    # which is also what lmms-eval passes to doc_to_text then.
    lmms_eval_specific_kwargs: dict[str, Any] | None = None
    model_specific_target_kwargs: Any = None
    output_type: str = "generate_until"
    description: str = ""
    target_delimiter: str = " "
    fewshot_delimiter: str = "\n\n"
    num_fewshot: int | None = None
    fewshot_sampler: str | None = None  # fewshot_config.sampler; None: no fewshot_config
    repeats: int = 1
    filter_list: Any = None
    reasoning_tags: Any = None
    auto_strip_thinking: bool = False
    cluster_key: str | None = None
    score_key: str = "score"
    metadata: Any = None  # a mapping, or lmms-eval's list form (`- version: 0.0`)
    model_name: str = ""
    notices: tuple[str, ...] = ()  # said once when the task runs (inert keys, unread fewshot keys)

    @property
    def folder(self) -> Path:
        return self.yaml_path.parent

    @property
    def version(self) -> Any:
        """lmms-eval's task version: ``metadata.version``, or ``"Yaml"`` when metadata is not a mapping."""
        if isinstance(self.metadata, Mapping) and "version" in self.metadata:
            return self.metadata["version"]
        return "Yaml"

    @property
    def target_from_a_field(self) -> bool:
        """Whether the target is read from a doc field (or is a constant index, or absent): no task code."""
        target = self.doc_to_target
        return target is None or isinstance(target, int) or (isinstance(target, str) and target.isidentifier())

    @property
    def eval_split(self) -> str | None:
        """The split evaluated: ``test_split``, else ``validation_split`` (as lmms-eval chooses)."""
        return self.test_split if self.test_split is not None else self.validation_split


def build_config(raw: Mapping[str, Any], *, name: str, yaml_path: Path, model_name: str) -> TaskConfig:
    """Validate a resolved mapping into a :class:`TaskConfig` (``TaskError`` naming the file)."""
    where = f"task {name} ({yaml_path})"
    inert = check_keys(raw, where)
    output_type = check_output_type(raw.get("output_type"), where)
    generation = _mapping(raw, "generation_kwargs", where)
    specific = _model_entry(raw.get("model_specific_generation_kwargs"), model_name, where)
    generation.update(specific or {})
    notices = [f"{where}: `{k}` has no effect ({_inert_reason(k)})" for k in inert]
    fewshot = _mapping(raw, "fewshot_config", where)
    unread = sorted(k for k in fewshot if k in FEWSHOT_UNREAD)
    if unread:
        notices.append(f"{where}: fewshot_config {', '.join(unread)} not used (lmms-eval does not read them either)")
    unknown = [k for k in fewshot if k not in FEWSHOT_KEYS and k not in FEWSHOT_UNREAD]
    if unknown:
        raise TaskError(f"{where}: unknown fewshot_config key(s) {', '.join(map(repr, unknown))}",
                        hint="fewshot_config takes `sampler: default | first_n`")
    sampler = str(fewshot.get("sampler", "default")) if raw.get("fewshot_config") else None
    return TaskConfig(
        task=name,
        yaml_path=yaml_path,
        task_alias=_opt_str(raw, "task_alias", where),
        tags=task_tags(raw),
        dataset_path=_opt_str(raw, "dataset_path", where),
        dataset_name=_opt_str(raw, "dataset_name", where),
        dataset_kwargs=_mapping(raw, "dataset_kwargs", where),
        training_split=_opt_str(raw, "training_split", where),
        validation_split=_opt_str(raw, "validation_split", where),
        test_split=_opt_str(raw, "test_split", where),
        fewshot_split=_opt_str(raw, "fewshot_split", where),
        doc_to_visual=_fn_or(raw, "doc_to_visual", where, str),
        doc_to_text=_fn_or(raw, "doc_to_text", where, str, int),
        doc_to_target=_fn_or(raw, "doc_to_target", where, str, int, list),
        doc_to_choice=_fn_or(raw, "doc_to_choice", where, str, list, dict),
        doc_to_messages=_fn_or(raw, "doc_to_messages", where),
        process_docs=_fn_or(raw, "process_docs", where),
        process_results=_fn_or(raw, "process_results", where),
        metric_list=_metric_list(raw.get("metric_list"), where),
        generation_kwargs=generation,
        lmms_eval_specific_kwargs=select_model_kwargs(raw.get("lmms_eval_specific_kwargs"), model_name, where),
        model_specific_target_kwargs=_model_entry(raw.get("model_specific_target_kwargs"), model_name, where,
                                                  default=None),
        output_type=output_type,
        description=_str(raw, "description", "", where),
        target_delimiter=_str(raw, "target_delimiter", " ", where),
        fewshot_delimiter=_str(raw, "fewshot_delimiter", "\n\n", where),
        num_fewshot=_opt_int(raw, "num_fewshot", where),
        fewshot_sampler=sampler,
        repeats=_opt_int(raw, "repeats", where) or 1,
        filter_list=raw.get("filter_list"),
        reasoning_tags=raw.get("reasoning_tags"),
        auto_strip_thinking=bool(raw.get("auto_strip_thinking", False)),
        cluster_key=_opt_str(raw, "cluster_key", where),
        score_key=_str(raw, "score_key", "score", where),
        metadata=raw.get("metadata"),
        model_name=model_name,
        notices=tuple(notices),
    )


def _inert_reason(key: str) -> str:
    from assay.tasks.yaml.keys import INERT

    return INERT[key]


def select_model_kwargs(value: Any, model_name: str, where: str = "task") -> dict[str, Any] | None:
    """``lmms_eval_specific_kwargs`` for one model, as lmms-eval narrows it: the model's own entry when
    there is one; else ``default``'s (or ``dataset``'s) keys merged over the mapping itself."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TaskError(
            f"{where}: lmms_eval_specific_kwargs must be a mapping", hint="key it by model name or `default`"
        )
    if model_name in value:
        own = value[model_name]
        return dict(own) if isinstance(own, dict) else own
    for key in ("default", "dataset"):
        if isinstance(value.get(key), dict):
            return {**value, **value[key]}
    return dict(value)


def _model_entry(value: Any, model_name: str, where: str, default: Any = ...) -> Any:
    """``model_specific_*_kwargs`` narrowed to the model: its entry, else ``default`` (lmms-eval's rule)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TaskError(f"{where}: model_specific_*_kwargs must be a mapping keyed by model name")
    if model_name in value:
        return value[model_name]
    return value.get("default", {} if default is ... else default)


def task_tags(raw: Mapping[str, Any]) -> tuple[str, ...]:
    """``tag`` (a name or a list), plus ``group`` in a task file: lmms-eval's legacy spelling of a tag."""
    out: list[str] = []
    for key in ("tag", "group"):
        value = raw.get(key)
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, list):
            out.extend(str(v) for v in value if isinstance(v, (str, int)))
    return tuple(dict.fromkeys(out))


def _opt_str(raw: Mapping[str, Any], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    raise TaskError(f"{where}: `{key}` must be a string, got {type(value).__name__}", hint=f"fix `{key}`")


def _str(raw: Mapping[str, Any], key: str, default: str, where: str) -> str:
    value = _opt_str(raw, key, where)
    return default if value is None else value


def _opt_int(raw: Mapping[str, Any], key: str, where: str) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TaskError(f"{where}: `{key}` must be a whole number >= 0, got {value!r}", hint=f"fix `{key}`")
    return value


def _mapping(raw: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TaskError(f"{where}: `{key}` must be a mapping, got {type(value).__name__}", hint=f"fix `{key}`")
    return dict(value)


def _fn_or(raw: Mapping[str, Any], key: str, where: str, *allowed: type) -> Any:
    value = raw.get(key)
    if value is None or callable(value) or (isinstance(value, allowed) and not isinstance(value, bool)):
        return value
    kinds = ", ".join(["!function", *(t.__name__ for t in allowed)])
    raise TaskError(f"{where}: `{key}` must be one of: {kinds}; got {type(value).__name__}", hint=f"fix `{key}`")


def _metric_list(value: Any, where: str) -> tuple[MetricSpec, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise TaskError(f"{where}: `metric_list` must be a list", hint="e.g. metric_list: [{metric: exact_match}]")
    specs: list[MetricSpec] = []
    for item in value:
        if isinstance(item, str):
            item = {"metric": item}
        if not isinstance(item, dict) or not isinstance(item.get("metric"), str):
            raise TaskError(
                f"{where}: each metric_list entry needs `metric: <name>`", hint="e.g. - metric: exact_match"
            )
        aggregation = item.get("aggregation")
        if aggregation is not None and not (isinstance(aggregation, str) or callable(aggregation)):
            raise TaskError(f"{where}: metric {item['metric']}: `aggregation` must be a name or !function")
        hib = item.get("higher_is_better")
        options = {k: v for k, v in item.items() if k not in ("metric", "aggregation", "higher_is_better")}
        specs.append(MetricSpec(item["metric"], aggregation, None if hib is None else bool(hib), options))
    return tuple(specs)
