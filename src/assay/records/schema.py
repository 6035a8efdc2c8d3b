"""The shapes of the files a run leaves: the results document (``{run_id}_results.json``) and the sample
record (one line of ``{run_id}_samples_{task}.jsonl``).

Every writer builds these and every reader (report, push, W&B, the Hub card) reads them through these
types. Every key is optional (``total=False``): documents written by older assay versions or by
lmms-eval lack some, and readers must say so rather than crash. Keys not listed here are kept as they
are (lmms-eval's flat ``"acc,none"`` entries, a plugin's extras): the JSON on disk is the contract, the
types describe it and never rewrite it. :mod:`assay.records.read` checks a file against them.
"""

from __future__ import annotations

from typing import Any, Literal

# pydantic checks these (assay.records.read) and needs typing_extensions' TypedDict before Python 3.12.
from typing_extensions import TypedDict

#: A float, or what the writers put for a float JSON cannot carry (:func:`assay.sinks.files.redact_values`).
Number = float | Literal["NaN", "Infinity", "-Infinity"]

# -- the results document -------------------------------------------------------------------------


class TokenCounts(TypedDict, total=False):
    input_tokens: int
    output_tokens: int
    #: of input_tokens, those the vendor counted for audio (present when there were any)
    audio_input_tokens: int


class UsageTotals(TokenCounts, total=False):
    """Tokens paid for; ``from_cache``: tokens of answers served from the cache (not paid again)."""

    from_cache: TokenCounts


class MetricEntry(TypedDict, total=False):
    """One aggregated metric. ``value`` is a number, or None when no sample scored; a string for the
    rare aggregation that returns one (lmms-eval submission tasks). ``error``: why aggregation failed."""

    value: Number | str | None
    n: int
    higher_is_better: bool
    stderr: Number | None
    ci95: list[Number | None]
    error: str
    #: values task code returned that are not numbers (NaN, ±inf, complex, huge): excluded, counted by kind
    n_not_numbers: int
    not_numbers: dict[str, int]


class TaskResult(TypedDict, total=False):
    """One task's entry under ``results``. lmms-eval's flat keys (``"acc,none"``…) sit beside these."""

    alias: str
    metrics: dict[str, MetricEntry]
    n_samples: int
    n_completed: int
    n_scored: int
    n_errors: int
    errors: dict[str, int]
    n_cached: int
    usage: TokenCounts
    usage_from_cache: TokenCounts
    n_judged: int
    n_judge_failed: int
    judge_failed: dict[str, int]
    judge_failure_rate: Number


class RunConfig(TypedDict, total=False):
    """What the run was asked to do (values redacted). lmms-eval's own ``config`` has other keys."""

    model: str
    model_args: Any
    tasks: list[str]
    limit: Number | None
    offset: int | None
    seed: int | None
    gen_kwargs: Any
    batch_size: Any
    log_samples: bool
    predict_only: bool
    bootstrap_iters: int
    max_error_rate: Number
    judge_model: str | None
    judge_args: Any
    max_judge_failure_rate: Number
    shuffle_docs: bool


class ModelInfo(TypedDict, total=False):
    """``name``: the model as the provider calls it; ``provider``: the ``--model`` given."""

    name: str
    provider: str
    identity: dict[str, Any]


class Timing(TypedDict, total=False):
    started_at: str  # ISO 8601, UTC
    finished_at: str
    wall_s: Number
    time_to_first_request_s: Number | None


class PriceInfo(TypedDict, total=False):
    model: str | None
    input_per_mtok: Number
    output_per_mtok: Number
    source: str


class CostMeterReport(TypedDict, total=False):
    usd: Number | None
    input_tokens: int
    output_tokens: int
    price: PriceInfo | None


class CostReport(TypedDict, total=False):
    """``total_usd`` is None when some meter has no price. One entry per role (``model``, ``judge``)."""

    total_usd: Number | None
    max_cost: Number | None
    cap_reached: bool
    model: CostMeterReport
    judge: CostMeterReport
    estimate: dict[str, Any]  # what the prompts were estimated to cost before they were sent


class ModelStats(TypedDict, total=False):
    requests: int
    retries: int
    failures: int
    cache_hits: int


class JudgeModel(TypedDict, total=False):
    profile: str
    model: str
    identity: dict[str, Any]


class JudgeSection(TypedDict, total=False):
    """The judges a run used (``judges`` by name, ``models`` called), totals, and which tasks it judged."""

    judges: dict[str, Any]
    models: list[JudgeModel]
    judgements: int
    verdicts: int
    failures: dict[str, int]
    requests: int
    tasks: list[str]
    outside_samples: list[Any]  # judge calls task code made outside any sample (an aggregation's)
    max_failure_rate: Number
    over_threshold: dict[str, float]


class RunFiles(TypedDict, total=False):
    """The run's own files, by name in its folder: ``results``, ``samples`` per task, the ``media`` folder."""

    results: str
    samples: dict[str, str]
    media: str


class ResultsDocument(TypedDict, total=False):
    run_id: str
    status: str  # complete | failed | aborted | interrupted | running
    status_reason: str | None
    config: RunConfig
    model: ModelInfo
    results: dict[str, TaskResult]
    groups: dict[str, Any]
    n_samples: dict[str, int]
    usage: UsageTotals
    cost: CostReport | None
    model_stats: ModelStats
    timing: Timing
    throughput: dict[str, float | None]
    versions: dict[str, Any]  # library versions (strings) and, in lmms-eval's view, each task's version
    configs: dict[str, Any]
    judge: JudgeSection
    sink_failures: dict[str, Any]
    batch: dict[str, Any] | None  # --batch: the vendor batch jobs the run submitted and how they ended
    files: RunFiles
    model_name: str  # lmms-eval's documents name the model here (they have no `model` section)


# -- the sample record ----------------------------------------------------------------------------


class SampleErrorRecord(TypedDict, total=False):
    """Why a sample has no answer: ``type`` is the failure kind (``server``, ``timeout``, ``task_code``…)."""

    type: str
    message: str
    status: int | None
    attempts: int
    request_id: str  # the vendor's id for the failed request (x-request-id, request-id…), when it sent one


class MediaRef(TypedDict, total=False):
    """A thumbnail saved for a sample (``--log_media``), by path relative to the results folder. ``kind``:
    ``image``, ``video_frame`` (with ``frame``), ``audio``."""

    kind: str
    path: str
    frame: int


class AudioRef(TypedDict, total=False):
    """An audio part the sample sent, described (never its bytes): the clip itself, when saved, is a
    :class:`MediaRef` of kind ``audio``."""

    format: str
    duration_s: Number
    sample_rate: int
    sha256: str
    source: str


class SampleRecord(TypedDict, total=False):
    task: str
    doc_id: int | str
    doc: dict[str, Any]
    target: Any
    arguments: Any  # assay: {"messages", "gen_kwargs"}; lmms-eval: a list of argument tuples
    resps: list[Any]
    filtered_resps: Any
    metrics: dict[str, Any]  # what the task's process_results returned: numbers, or dicts for MME-style tasks
    error: SampleErrorRecord | None
    usage: TokenCounts | None
    attempts: int
    cached: bool
    latency_s: Number
    media: list[MediaRef]
    audio: list[AudioRef]
    judge: Any  # assay's judge: {"status", "judgements": [...], "reason"?}; older runs: a list of judgements
