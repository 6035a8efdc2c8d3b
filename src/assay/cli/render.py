"""The results table printed at the end of `assay run`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from assay.run import EvaluationResult


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "—" if value is None else str(value)


#: The table's columns; the first two are text (left-aligned), the rest figures (right-aligned).
COLUMNS = ("task", "metric", "value", "± stderr", "n scored", "errors")


def table_rows(doc: dict[str, Any]) -> list[tuple[tuple[str, ...], bool]]:
    """The table's rows, each with whether it is a group's (shown in bold on a terminal)."""
    rows: list[tuple[tuple[str, ...], bool]] = []
    for task, entry in doc["results"].items():
        errors = ", ".join([f"{k}={v}" for k, v in entry["errors"].items()]
                           + [f"judge {k}={v}" for k, v in (entry.get("judge_failed") or {}).items()]) or "0"
        for metric, m in entry["metrics"].items():
            rows.append(((entry.get("alias") or task, metric, _fmt(m.get("value")), _fmt(m.get("stderr")),
                          str(entry["n_scored"]), errors), False))
    for group, entry in doc.get("groups", {}).items():
        for metric, m in entry["metrics"].items():
            rows.append(((f"{group} (group)", metric, _fmt(m.get("value")), "", str(m.get("n")), ""), True))
    return rows


def summary_lines(result: EvaluationResult) -> list[str]:
    """The lines under the table: samples, tokens and cost; the batch and the judge; where the files are."""
    doc = result.results
    usage, stats = doc["usage"], doc["model_stats"]
    cached = f" · {stats['cache_hits']} answers from the cache" if stats.get("cache_hits") else ""
    lines = [f"{sum(doc['n_samples'].values())} samples in {doc['timing']['wall_s']:.1f}s · "
             f"{usage['input_tokens']} input / {usage['output_tokens']} output tokens paid · "
             f"{stats['retries']} retries{cached}{_cost(doc.get('cost'))}"]
    batch = doc.get("batch")
    if batch:
        ids = ", ".join(f"{b['vendor']} {b['id']} {b['state']} {b['succeeded']}/{b['total']}"
                        for b in batch["batches"])
        lines.append(f"batch: {batch['answers']} answers at the batch rate · {ids}")
    judge = doc.get("judge")
    if judge:
        failed = ", ".join(f"{k} {v}" for k, v in judge["failures"].items()) or _unusable_verdicts(doc)
        models = ", ".join(sorted({m["model"] for m in judge["models"]})) or "no requests"
        lines.append(f"judge ({models}): {judge['judgements']} judgements, {failed} · "
                     f"{judge['usage']['input_tokens']} input / {judge['usage']['output_tokens']} output tokens · "
                     f"{judge['retries']} retries")
    if result.results_path is not None:
        lines.append(f"results: {result.results_path}")
    lines.extend(f"samples ({task}): {path}" for task, path in result.sample_paths.items())
    return lines


def print_results(result: EvaluationResult, stream: TextIO, redact: Callable[[str], str] | None = None) -> None:
    """The results table and a summary line on ``stream``; with ``redact``, every character printed has
    been through the redactor (task names, aliases and paths are printed verbatim otherwise). A terminal
    gets rich's boxed table; a file or pipe gets the same cells as plain aligned text (rich is not imported:
    it costs more than the rest of the finish)."""
    doc = result.results
    title = f"{doc['model']['provider']} · {doc['model']['name']}"
    rows, lines = table_rows(doc), summary_lines(result)
    text = _rich_text(title, rows, lines, stream) if stream.isatty() else plain_text(title, rows, lines)
    stream.write(redact(text) if redact is not None else text)
    stream.flush()


def plain_text(title: str, rows: list[tuple[tuple[str, ...], bool]], lines: list[str]) -> str:
    """The table as aligned columns (two spaces apart, figures right-aligned), never wrapped: a log or a
    pipe keeps every line whole."""
    cells = [COLUMNS, *(row for row, _ in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    out = [title]
    for row in cells:
        out.append("  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip())
    return "\n".join([*out, *lines]) + "\n"


def _rich_text(title: str, rows: list[tuple[tuple[str, ...], bool]], lines: list[str], stream: TextIO) -> str:
    import io

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title)
    for column in COLUMNS:
        table.add_column(column, justify="left" if column in ("task", "metric") else "right")
    for row, group in rows:  # Text, not markup: a `[` in a task name is printed as it is
        cells = [Text(c) for c in row]
        if group:  # the group's name in bold, " (group)" not
            cells[0].stylize("bold", 0, len(row[0]) - len(" (group)"))
        table.add_row(*cells)
    # Rendered into a buffer, redacted, then written: rich may wrap a secret across lines, the redactor
    # must see it whole, so the width is fixed before rendering and lines are redacted as one text.
    buffer = io.StringIO()
    terminal = Console(file=stream)
    console = Console(file=buffer, width=max(100, terminal.width), force_terminal=terminal.is_terminal)
    console.print(table)
    for line in lines:  # paths are never wrapped: cut mid-word they cannot be copied back
        console.print(Text(line), soft_wrap=line.startswith(("results: ", "samples (")))
    return buffer.getvalue()


def _cost(cost: Any) -> str:
    """`` · $0.0123 (model $0.01, judge $0.0023; cap $5)`` when the run's models are priced."""
    if not isinstance(cost, dict) or cost.get("total_usd") is None:
        return ""
    roles = [(r, v["usd"]) for r, v in cost.items() if isinstance(v, dict) and v.get("usd") is not None]
    parts = ", ".join(f"{role} {usd_text(usd)}" for role, usd in roles) if len(roles) > 1 else ""
    cap = f"cap {usd_text(cost['max_cost'])}" if cost.get("max_cost") is not None else ""
    detail = "; ".join(p for p in (parts, cap) if p)
    return f" · {usd_text(cost['total_usd'])}" + (f" ({detail})" if detail else "")


def usd_text(amount: float) -> str:
    """Dollars as people write them: ``$5``, ``$0.0123``, ``$0.00007`` (never ``$7e-05``)."""
    if amount >= 1:
        return f"${amount:,.2f}".replace(".00", "")
    text = f"{amount:.6f}".rstrip("0").rstrip(".")
    return f"${text if text not in ('', '0') else '0'}"


def _unusable_verdicts(doc: dict[str, Any]) -> str:
    """"none failed" only if no task counted a judged sample without a usable verdict (parse_failed…)."""
    counts: dict[str, int] = {}
    for entry in doc.get("results", {}).values():
        for kind, n in (entry.get("judge_failed") or {}).items():
            counts[kind] = counts.get(kind, 0) + int(n)
    if not counts:
        return "none failed"
    return "no request failed; without a usable verdict: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
