"""How fast the HTML report opens for a large run: 10,000 samples must be usable in under 2 s.

Builds a synthetic finished run with the real files sink, records and thumbnail store (3 tasks, images
on one of them, a few errors and judge texts), writes its report with `assay.report.write_report`, and
opens it in headless Chromium (Debian's package, driven by Playwright) from disk, offline. "Ready" is
the page's own clock (ms since navigation start) when the first page of samples is on screen. The
baseline is the same report with paging off (every sample rendered at once), in the same session.

    python bench/report.py                   # 10,000 samples
    python bench/report.py -n 2000 --runs 2  # a 2-run comparison of 2,000 samples
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
TARGET_S = 2.0
TASKS = ("bench_vqa", "bench_mc", "bench_judged")


def make_run(folder: Path, n: int, *, images: int = 200, seed: int = 0, model: str = "bench-model") -> Path:
    """A finished run of ``n`` samples in ``folder`` (files sink format); returns its results path."""
    from PIL import Image

    from assay.media.image import encode_image
    from assay.records import sample_record
    from assay.sinks.files import FileSink
    from assay.sinks.media import MediaStore, media_dir_name
    from assay.types import GenerationParams, ImagePart, Message, Request, Response, SampleError, TextPart, Usage

    rng = random.Random(seed)
    pictures: list[ImagePart] = []
    for i in range(images):
        img = Image.new("RGB", (640, 480), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
        buffer = io.BytesIO()
        img.save(buffer, format="PNG")
        pictures.append(encode_image(buffer.getvalue()))
        del i
    sink = FileSink(folder, model, log_samples=True, redact=lambda s: s)
    sink.start({"model": "bench", "model_name": model, "tasks": list(TASKS)}, list(TASKS))
    store = MediaStore(sink.folder / media_dir_name(sink.run_id))
    correct: dict[str, list[float]] = {t: [] for t in TASKS}
    for k in range(n):
        task = TASKS[k % len(TASKS)]
        question = f"Question {k}: " + " ".join(rng.choice(("what", "is", "the", "colour", "shape", "of", "this"))
                                                 for _ in range(40))
        parts: tuple[Any, ...] = (TextPart(question),)
        if task == "bench_vqa":
            parts = (pictures[k % images], TextPart(question))
        request = Request(messages=(Message("user", parts),), params=GenerationParams(max_tokens=32), task=task,
                          doc_id=k)
        error = SampleError("server", "HTTP 500 from the server", 500, 3) if rng.random() < 0.02 else None
        answer = rng.choice(("red", "blue", "a square", "two circles"))
        target = rng.choice(("red", "blue", "a square", "two circles"))
        response = None if error else Response(text=answer, usage=Usage(120, 4))
        score = None if error else {"exact_match": float(answer == target)}
        if score is not None:
            correct[task].append(score["exact_match"])
        record = sample_record(task=task, doc_id=k, doc={"question": question}, target=target, request=request,
                               response=response, error=error, scores=score, latency_s=0.3,
                               media=store.refs(request) if task == "bench_vqa" else None)
        if task == "bench_judged" and response is not None:
            record["judge"] = [{"ok": True, "raw": f"The answer {answer!r} matches {target!r}: "
                                                  f"{'yes' if answer == target else 'no'}. " + "Rationale. " * 20}]
        sink.sample(task, record)
    results = {
        "status": "complete",
        "config": {"model": "bench", "tasks": list(TASKS)},
        "model": {"name": model, "provider": "bench"},
        "results": {t: {"alias": t, "metrics": {"exact_match": {"value": sum(v) / max(1, len(v)), "n": len(v),
                                                                "stderr": 0.01, "higher_is_better": True}},
                        "n_samples": n // len(TASKS), "n_scored": len(v), "n_errors": n // len(TASKS) - len(v),
                        "errors": {"server": n // len(TASKS) - len(v)}} for t, v in correct.items()},
        "usage": {"input_tokens": 120 * n, "output_tokens": 4 * n},
        "timing": {"started_at": "2025-01-01T00:00:00+00:00", "wall_s": 100.0},
    }
    sink.finish(results)
    return sink.results_path


def open_times(html: Path, repeats: int, *, paged: bool) -> list[float]:
    from playwright.sync_api import sync_playwright

    path = html
    if not paged:  # the baseline: the same page with every sample rendered at once
        path = html.with_name(html.stem + "_unpaged.html")
        path.write_text(html.read_text(encoding="utf-8").replace("var PAGE = 50;", "var PAGE = 1e9;", 1),
                        encoding="utf-8")
    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for _ in range(repeats):
            page = browser.new_page()
            page.goto(path.as_uri(), timeout=120_000)
            page.wait_for_selector("body[data-ready='1']", timeout=120_000)
            out.append(page.evaluate("performance.now()") / 1000)
            page.close()
        browser.close()
    return out


def interaction_ms(html: Path) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        page.goto(html.as_uri())
        page.wait_for_selector("body[data-ready='1']")
        timings = {}
        for label, script in (
            ("filter task + outcome", "document.getElementById('f-task').value='0';"
                                      "document.getElementById('f-task').dispatchEvent(new Event('change'));"
                                      "document.getElementById('f-state').value='wrong';"
                                      "document.getElementById('f-state').dispatchEvent(new Event('change'));"),
            ("next page", "document.querySelector('#pager-top .next').click();"),
        ):
            timings[label] = page.evaluate(f"() => {{ const t = performance.now(); {script} "
                                           "return performance.now() - t; }")
        browser.close()
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=10_000, help="samples per run")
    parser.add_argument("--runs", type=int, default=1, help="runs compared in one report")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from assay.env.redaction import Redactor
    from assay.report import write_report
    from assay.sinks.rundir import load_run

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        paths = [make_run(Path(tmp) / f"out{i}", args.n, seed=i) for i in range(args.runs)]
        made = time.perf_counter() - t0
        t0 = time.perf_counter()
        html = write_report([load_run(p) for p in paths], Path(tmp) / "report.html", redactor=Redactor())
        built = time.perf_counter() - t0
        paged = open_times(html, args.repeats, paged=True)
        unpaged = open_times(html, 1, paged=False)
        clicks = interaction_ms(html)
        size_mb = html.stat().st_size / 1e6
    print(f"report of {args.runs} run(s) x {args.n:,} samples ({len(TASKS)} tasks, 200 thumbnails), "
          f"Chromium {CHROMIUM}, target < {TARGET_S:.0f} s to open")
    print()
    print("| measure | value |")
    print("|---|---|")
    print(f"| synthetic run(s) written (files sink + thumbnails) | {made:.2f} s |")
    print(f"| `write_report` (read files, build, write) | {built:.2f} s |")
    print(f"| report file size (images referenced, not embedded) | {size_mb:.1f} MB |")
    print(f"| open → first page ready, paged (median of {len(paged)}) | {statistics.median(paged):.2f} s |")
    print(f"| baseline: open → ready, every sample rendered at once | {unpaged[0]:.2f} s |")
    for label, ms in clicks.items():
        print(f"| {label} | {ms:.0f} ms |")
    verdict = "PASS" if statistics.median(paged) < TARGET_S else "FAIL"
    print(f"\n{verdict}: paged report ready in {statistics.median(paged):.2f} s (target < {TARGET_S:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
