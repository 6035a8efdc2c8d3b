"""Finished runs for the report tests, written by the real files sink from records built here: runs of
any shape (MME-style dict scores, judge verdicts, NaN, cached answers, prices) without a model server."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from assay.sinks.files import FileSink
from assay.sinks.media import MediaStore, media_dir_name


def thumbnail(store: MediaStore, colour: tuple[int, int, int]) -> list[dict[str, Any]]:
    """A saved thumbnail of a plain picture, as a record's ``media`` entries."""
    from PIL import Image

    from assay.media.image import encode_image
    from assay.types import GenerationParams, Message, Request

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, format="PNG")
    request = Request(messages=(Message("user", (encode_image(buffer.getvalue()),)),), params=GenerationParams())
    return store.refs(request)


def record(task: str, doc_id: Any, answer: str | None, scores: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "task": task, "doc_id": doc_id, "doc": {"question": f"question {doc_id}"}, "target": "yes",
        "arguments": {"messages": [{"role": "user", "content": f"question {doc_id}?"}], "gen_kwargs": {}},
        "resps": [[answer]] if answer is not None else [], "filtered_resps": [answer] if answer is not None else [],
        "metrics": scores or {}, "error": None, "usage": {"input_tokens": 10, "output_tokens": 2},
        "attempts": 1, "cached": False, "latency_s": 0.5,
    }
    out.update(extra)
    return out


def write_run(out: Path, model: str, tasks: dict[str, dict[str, Any]], records: list[dict[str, Any]], *,
              timestamp: str | None = None, log_samples: bool = True,
              media: dict[int, tuple[int, int, int]] | None = None, **document: Any) -> Path:
    """A finished run under ``out`` (``tasks``: each task's results entry); its results path.
    ``media``: doc id -> the colour of a thumbnail saved for that doc."""
    sink = FileSink(out, model, timestamp, log_samples=log_samples, redact=lambda s: s)
    sink.start({"model": "openai_compatible", "model_name": model, "tasks": list(tasks)}, list(tasks))
    store = MediaStore(sink.folder / media_dir_name(sink.run_id))
    for rec in records if log_samples else []:
        if media and rec["doc_id"] in media:
            rec = {**rec, "media": thumbnail(store, media[rec["doc_id"]])}
        sink.sample(rec["task"], rec)
    results: dict[str, Any] = {
        "status": "complete", "status_reason": None,
        "config": {"model": "openai_compatible", "tasks": list(tasks), "limit": None},
        "model": {"name": model, "provider": "openai_compatible"},
        "results": tasks, "groups": {}, "usage": {"input_tokens": 100, "output_tokens": 20},
        "timing": {"started_at": "2026-01-02T03:04:05.678901+00:00", "finished_at": "2026-01-02T03:06:10+00:00",
                   "wall_s": 125.25},
        "versions": {"assay": "0.1.0", "python": "3.11.7"}, "model_stats": {"requests": len(records)},
        **document,
    }
    sink.finish(results)
    return sink.results_path


def metric(value: Any, n: int, **extra: Any) -> dict[str, Any]:
    return {"value": value, "n": n, "higher_is_better": True, **extra}
