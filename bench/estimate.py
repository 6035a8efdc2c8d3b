"""--dry_run's input-token estimate against what each vendor emulation bills for the same run.

Baseline: the emulator's bill, counted from the wire body the provider sent (tests/emulators/tokens.py:
cl100k_base on the text as each vendor frames it, images decoded from the bytes sent and charged by the
vendor's rule). Rows: the estimate with cl100k_base (the `tokens` extra), and with the ~4 characters per
token fallback (no tiktoken), for a text task and an image task on each vendor.

    python bench/estimate.py [--limit 50]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

KEY = "bench-estimate-key-0000001"


def _run(vendor: Any, emu: Any, task: str, limit: int, home: Path, **extra: Any) -> dict[str, Any]:
    import assay
    from assay.env.settings import load_settings

    settings = load_settings(environ={"LMMS_EVAL_HOME": str(home), vendor.variable: KEY}, discover_dotenv=False)
    return assay.evaluate(vendor.provider, task, model_args=vendor.model_args(emu), limit=limit,
                          output_path=home / "out", settings=settings, **extra).results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=50)
    limit = parser.parse_args().limit

    from tests.emulators import VENDORS

    import assay.model.estimate.tokens as tokens

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("openai", "anthropic", "gemini"):
            vendor = VENDORS[name]
            for task in ("assay_arith_mc", "assay_colors"):
                with vendor.emulator(key=KEY, count_tokens=True) as emu:
                    billed = _run(vendor, emu, task, limit, Path(tmp))["usage"]["input_tokens"]
                    exact = _run(vendor, emu, task, limit, Path(tmp), dry_run=True)["estimate"]["total"]
                    tokens.text_counter.cache_clear()
                    real_counter = tokens.text_counter
                    tokens.text_counter = lambda: tokens.CHARACTER_RATIO  # type: ignore[assignment]
                    try:
                        rough = _run(vendor, emu, task, limit, Path(tmp), dry_run=True)["estimate"]["total"]
                    finally:
                        tokens.text_counter = real_counter
                rows.append((name, task, billed, exact["input_tokens"], rough["input_tokens"]))
    print(f"{limit} docs per task; baseline: the emulator's bill (input tokens)\n")
    print("| vendor | task | billed (baseline) | estimate, cl100k_base | error | estimate, 4 chars/token | error |")
    print("|---|---|---|---|---|---|---|")
    for name, task, billed, exact, rough in rows:
        print(f"| {name} | {task} | {billed:,} | {exact:,} | {(exact - billed) / billed:+.1%} | {rough:,} | "
              f"{(rough - billed) / billed:+.1%} |")


if __name__ == "__main__":
    main()
