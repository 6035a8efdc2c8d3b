"""The typed task config: a resolved lmms-eval task mapping, checked and normalised once at load.

Input is a mapping with includes merged and ``!function`` values already imported (callables).
Keys we do not know are kept in :attr:`TaskConfig.extra` and ignored, so lmms-eval YAMLs with keys
for features we lack still load.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assay.errors import TaskError

SUPPORTED_OUTPUT_TYPES = ("generate_until",)
KNOWN_KEYS = frozenset(
    {
        "task", "task_alias", "tag", "group", "group_alias", "dataset_path", "dataset_name",
        "dataset_kwargs", "test_split", "doc_to_visual", "doc_to_text", "doc_to_target",
        "doc_to_choice", "doc_to_messages", "process_docs", "process_results", "metric_list",
        "generation_kwargs", "lmms_eval_specific_kwargs", "model_specific_target_kwargs",
        "output_type", "metadata",
    }
)  # fmt: skip

Fn = Callable[..., Any]


@dataclass(frozen=True)
class MetricSpec:
    """One ``metric_list`` entry; ``options`` holds extra keys (``ignore_case``…) we do not use."""

    name: str
    aggregation: str | Fn = "mean"
    higher_is_better: bool = True
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
    test_split: str | None = None
    doc_to_visual: Fn | str | None = None
    doc_to_text: Fn | str | None = None
    doc_to_target: Fn | str | int | list[Any] | None = None
    doc_to_choice: Fn | str | list[Any] | dict[str, Any] | None = None
    doc_to_messages: Fn | None = None
    process_docs: Fn | None = None
    process_results: Fn | None = None
    metric_list: tuple[MetricSpec, ...] = ()
    generation_kwargs: Mapping[str, Any] = field(default_factory=dict)
    # Already narrowed to this run's model (its entry over `default`); None when the task has none,
    # which is also what lmms-eval passes to doc_to_text then.
    lmms_eval_specific_kwargs: dict[str, Any] | None = None
    model_specific_target_kwargs: Any = None
    output_type: str = "generate_until"
    metadata: Mapping[str, Any] = field(default_factory=dict)
    model_name: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.yaml_path.parent


def build_config(raw: Mapping[str, Any], *, name: str, yaml_path: Path, model_name: str) -> TaskConfig:
    """Validate a resolved mapping into a :class:`TaskConfig` (``TaskError`` naming the file)."""
    where = f"task {name} ({yaml_path})"
    output_type = raw.get("output_type") or "generate_until"
    if output_type not in SUPPORTED_OUTPUT_TYPES:
        raise TaskError(
            f"{where}: output_type {output_type!r} is not supported yet",
            hint=f"assay evaluates through chat APIs; supported output types: {', '.join(SUPPORTED_OUTPUT_TYPES)}",
        )
    return TaskConfig(
        task=name,
        yaml_path=yaml_path,
        task_alias=_opt_str(raw, "task_alias", where),
        tags=task_tags(raw),
        dataset_path=_opt_str(raw, "dataset_path", where),
        dataset_name=_opt_str(raw, "dataset_name", where),
        dataset_kwargs=_mapping(raw, "dataset_kwargs", where),
        test_split=_opt_str(raw, "test_split", where),
        doc_to_visual=_fn_or(raw, "doc_to_visual", where, str),
        doc_to_text=_fn_or(raw, "doc_to_text", where, str),
        doc_to_target=_fn_or(raw, "doc_to_target", where, str, int, list),
        doc_to_choice=_fn_or(raw, "doc_to_choice", where, str, list, dict),
        doc_to_messages=_fn_or(raw, "doc_to_messages", where),
        process_docs=_fn_or(raw, "process_docs", where),
        process_results=_fn_or(raw, "process_results", where),
        metric_list=_metric_list(raw.get("metric_list"), where),
        generation_kwargs=_mapping(raw, "generation_kwargs", where),
        lmms_eval_specific_kwargs=select_model_kwargs(raw.get("lmms_eval_specific_kwargs"), model_name, where),
        model_specific_target_kwargs=_select_target_kwargs(raw.get("model_specific_target_kwargs"), model_name),
        output_type=str(output_type),
        metadata=_mapping(raw, "metadata", where),
        model_name=model_name,
        extra={k: v for k, v in raw.items() if k not in KNOWN_KEYS},
    )


def select_model_kwargs(value: Any, model_name: str, where: str = "task") -> dict[str, Any] | None:
    """``lmms_eval_specific_kwargs`` for one model: ``default``'s keys, overridden by the model's entry."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TaskError(
            f"{where}: lmms_eval_specific_kwargs must be a mapping", hint="key it by model name or `default`"
        )
    default, own = value.get("default"), value.get(model_name)
    if default is None and own is None:
        # A flat mapping (pre_prompt: …) applies to every model; one keyed only by other models, to none.
        return dict(value) if any(not isinstance(v, dict) for v in value.values()) else {}
    chosen: dict[str, Any] = dict(default) if isinstance(default, dict) else {}
    if isinstance(own, dict):
        chosen.update(own)
    return chosen


def _select_target_kwargs(value: Any, model_name: str) -> Any:
    if isinstance(value, dict) and (model_name in value or "default" in value):
        return value.get(model_name, value.get("default"))
    return value


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


def _mapping(raw: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TaskError(f"{where}: `{key}` must be a mapping, got {type(value).__name__}", hint=f"fix `{key}`")
    return dict(value)


def _fn_or(raw: Mapping[str, Any], key: str, where: str, *allowed: type) -> Any:
    value = raw.get(key)
    if value is None or callable(value) or isinstance(value, allowed):
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
        aggregation = item.get("aggregation", "mean")
        if not (isinstance(aggregation, str) or callable(aggregation)):
            raise TaskError(f"{where}: metric {item['metric']}: `aggregation` must be a name or !function")
        hib = item.get("higher_is_better", True)
        options = {k: v for k, v in item.items() if k not in ("metric", "aggregation", "higher_is_better")}
        specs.append(MetricSpec(item["metric"], aggregation, bool(hib), options))
    return tuple(specs)
