"""What `assay run --dry_run` prints: per task and in total, what the run would send and cost."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, TextIO


def _usd(entry: dict[str, Any]) -> str:
    low, high = entry.get("usd_min"), entry.get("usd_max")
    if low is None or high is None:
        return "no price"
    return f"${low:.4f} – ${high:.4f}"


def _row(name: str, e: dict[str, Any]) -> list[str]:
    judge = f"{e['judge_requests']:,}" if e.get("judge_requests") else "—"
    audio = f"{e['audio_s']:.1f}" if e.get("audio_s") else "—"
    return [name, f"{e['requests']:,}", judge, f"{e['input_tokens']:,}", f"{e['images']:,}", f"{e['frames']:,}",
            audio, f"{e['output_typical']:,} – {e['output_bound']:,}", _usd(e)]


def print_estimate(doc: dict[str, Any], stream: TextIO, redact: Callable[[str], str] | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    estimate = doc["estimate"]
    table = Table(title=f"dry run · {doc['model']['provider']} · {doc['model']['name']} · nothing was sent")
    columns = ("task", "requests", "judge", "input tokens", "images", "frames", "audio s", "output tokens", "cost")
    for column in columns:
        table.add_column(column, justify="left" if column == "task" else "right", no_wrap=column != "task")
    for name, entry in estimate["tasks"].items():
        table.add_row(*_row(name, entry))
    table.add_row(*_row("total", estimate["total"]), style="bold")
    buffer = io.StringIO()
    console = Console(file=buffer, width=max(110, Console(file=stream).width), force_terminal=False)
    console.print(table)
    price = estimate.get("price")
    if price is not None:
        console.print(f"price: {price['model']} ${price['input_per_mtok']:g} in / ${price['output_per_mtok']:g} out "
                      f"per 1M tokens ({price['source']})")
    console.print(f"tokens: {estimate['tokens']}; media by {estimate['vendor_rules']}'s rules; output from a "
                  "typical answer (the doc's target) to the max_tokens bound")
    for note in estimate["notes"]:
        console.print(f"note: {note}")
    text = buffer.getvalue()
    stream.write(redact(text) if redact is not None else text)
    stream.flush()
