"""What a run writes and reads back: the sample record (:mod:`.sample`), the shapes of the results
document and sample records (:mod:`.schema`), and the checked readers (:mod:`.read`).

Names are imported on first use (PEP 562): a run that only writes sample records does not pay for the
schema's TypedDicts (and typing_extensions) at start-up."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "MetricEntry", "ResultsDocument", "SampleRecord", "TaskResult", "check_results", "check_sample",
    "describe_messages", "loggable_doc", "read_results", "sample_record",
]

_EXPORTS = {
    "check_results": "assay.records.read", "check_sample": "assay.records.read", "read_results": "assay.records.read",
    "describe_messages": "assay.records.sample", "loggable_doc": "assay.records.sample",
    "sample_record": "assay.records.sample",
    "MetricEntry": "assay.records.schema", "ResultsDocument": "assay.records.schema",
    "SampleRecord": "assay.records.schema", "TaskResult": "assay.records.schema",
}

if TYPE_CHECKING:
    from assay.records.read import check_results, check_sample, read_results
    from assay.records.sample import describe_messages, loggable_doc, sample_record
    from assay.records.schema import MetricEntry, ResultsDocument, SampleRecord, TaskResult


def __getattr__(name: str) -> Any:
    # Not assay.env.lazy.lazy_getattr: records sits below env in the layers.
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
