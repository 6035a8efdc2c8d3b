"""What a run writes and reads back: the sample record (:mod:`.sample`), the shapes of the results
document and sample records (:mod:`.schema`), and the checked readers (:mod:`.read`)."""

from __future__ import annotations

from assay.records.read import check_results, check_sample, read_results
from assay.records.sample import describe_messages, loggable_doc, sample_record
from assay.records.schema import MetricEntry, ResultsDocument, SampleRecord, TaskResult

__all__ = [
    "MetricEntry", "ResultsDocument", "SampleRecord", "TaskResult", "check_results", "check_sample",
    "describe_messages", "loggable_doc", "read_results", "sample_record",
]
