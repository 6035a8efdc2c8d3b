"""An estimate as a document: per task and in total, tokens and media, and the cost as a range.

The range's low end prices every input token and a typical answer (the doc's target); its high end every
input token and the output bound. Prices come from the run's price table (``assay.model.cost``), so the
source is the one the real run's cost uses; a batch run is priced at the batch rate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assay.model.estimate.requests import ASSUMED_OUTPUT_BOUND, RunTally, Tally
from assay.types import Usage

if TYPE_CHECKING:
    from assay.model.cost import Price


def _usd(price: Price | None, tally: Tally) -> tuple[float | None, float | None]:
    if price is None:
        return None, None
    low = price.cost(Usage(tally.input_tokens, tally.output_typical))
    high = price.cost(Usage(tally.input_tokens, tally.output_bound))
    return round(low, 6), round(high, 6)


def _entry(price: Price | None, tally: Tally) -> dict[str, Any]:
    low, high = _usd(price, tally)
    return {**tally.as_dict(), "usd_min": low, "usd_max": high}


def estimate_report(run: RunTally, price: Price | None, *, batch: bool = False) -> dict[str, Any]:
    total = run.total()
    notes = []
    if total.unbounded:
        notes.append(f"{total.unbounded} requests set no max_tokens: {ASSUMED_OUTPUT_BOUND:,} output tokens "
                     "assumed for each")
    if total.judge_requests:
        notes.append("judge requests are counted, not priced: their prompts are built from the answers")
    if price is None:
        notes.append("no price known for this model: add input_price=…,output_price=… to --model_args")
    return {
        "tokens": run.counter.text.name,
        "vendor_rules": run.counter.rules.vendor,
        "price": price.as_dict() if price is not None else None,
        "batch": batch,
        "tasks": {name: _entry(price, tally) for name, tally in run.tasks.items()},
        "total": _entry(price, total),
        "notes": notes,
    }
