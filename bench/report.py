"""How fast the HTML report opens: 10,000 samples x 3 runs side by side under 2 s, and the index of a
folder of 30 runs under 1 s.

Builds synthetic finished runs with the real files sink, records and thumbnail store (3 tasks, images
on one of them, a few errors and judge texts), writes their report with `assay.report.write_report` (and
a report folder with `assay.report.folder.write_folder`), and opens them in headless Chromium (Debian's
package, driven by Playwright) from disk, offline. "Ready" is the page's own clock (ms since navigation
start) when charts, tables and the first page of samples are on screen. Baselines, in the same session:
the same comparison rendering every sample at once (no paging), and for the index, one file that embeds
all 30 runs side by side (what the index avoids by loading only the runs picked).

    python bench/report.py                          # 3 runs x 10,000 samples; 30 runs x 500 for the index
    python bench/report.py -n 2000 --runs 2 --index-runs 0
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
INDEX_TARGET_S = 1.0
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
            verdict = "yes" if answer == target else "no"
            record["judge"] = [{"ok": True, "value": verdict, "raw": f"The answer {answer!r} matches {target!r}: "
                                                                     f"{verdict}. " + "Rationale. " * 20}]
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


def open_times(html: Path, repeats: int, *, paged: bool = True, fragment: str = "") -> list[dict[str, Any]]:
    """Open ``html`` ``repeats`` times: each time, seconds from navigation to ready and the page's step timings."""
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
            page.goto(path.as_uri() + fragment, timeout=120_000)
            page.wait_for_selector("body[data-ready='1']", timeout=120_000)
            state = page.evaluate("({s: performance.now() / 1000, t: (window.assayReport || {}).timings || {}})")
            out.append({"ready_s": state["s"], "timings": state["t"]})
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
            ("runs disagree", "document.getElementById('f-task').value='-1';"
                              "document.getElementById('f-state').value='';"
                              "document.getElementById('f-disagree').checked=true;"
                              "document.getElementById('f-disagree').dispatchEvent(new Event('change'));"),
        ):
            timings[label] = page.evaluate(f"() => {{ const t = performance.now(); {script} "
                                           "return performance.now() - t; }")
        browser.close()
    return timings


def median(rows: list[dict[str, Any]]) -> float:
    return statistics.median(r["ready_s"] for r in rows)


def comparison(tmp: Path, n: int, runs: int, repeats: int) -> None:
    from assay.env.redaction import Redactor
    from assay.report import write_report
    from assay.sinks.rundir import load_run

    t0 = time.perf_counter()
    paths = [make_run(tmp / f"out{i}", n, seed=i, model=f"bench-model-{i}") for i in range(runs)]
    made = time.perf_counter() - t0
    t0 = time.perf_counter()
    html = write_report([load_run(p) for p in paths], tmp / "report.html", redactor=Redactor())
    built = time.perf_counter() - t0
    paged = open_times(html, repeats)
    unpaged = open_times(html, 1, paged=False)
    clicks = interaction_ms(html)
    steps = paged[-1]["timings"]
    print(f"## {runs} run(s) x {n:,} samples side by side ({len(TASKS)} tasks, 200 distinct thumbnails each), "
          f"target < {TARGET_S:.0f} s to open\n")
    print("| measure | value |")
    print("|---|---|")
    print(f"| synthetic runs written (files sink + thumbnails) | {made:.2f} s |")
    print(f"| `write_report` (read and check files, build, embed thumbnails, write) | {built:.2f} s |")
    print(f"| report file size (thumbnails embedded) | {html.stat().st_size / 1e6:.1f} MB |")
    print(f"| open → ready, paged (median of {len(paged)}) | {median(paged):.2f} s |")
    print(f"| baseline: open → ready, every sample rendered at once | {median(unpaged):.2f} s |")
    for label in ("join", "metric chart", "deltas", "judge", "usage", "samples"):
        print(f"| in page: {label} | {steps.get(label, float('nan')):.0f} ms |")
    for label, ms in clicks.items():
        print(f"| {label} | {ms:.0f} ms |")
    verdict = "PASS" if median(paged) < TARGET_S else "FAIL"
    print(f"\n{verdict}: {runs} x {n:,} samples ready in {median(paged):.2f} s (target < {TARGET_S:.0f} s)\n")


def index(tmp: Path, runs: int, n: int, repeats: int) -> None:
    from assay.env.redaction import Redactor
    from assay.report import write_report
    from assay.report.folder import write_folder
    from assay.sinks.rundir import load_run

    paths = [make_run(tmp / "logs", n, images=10, seed=i, model=f"bench-model-{i:02d}") for i in range(runs)]
    loaded = [load_run(p) for p in paths]
    t0 = time.perf_counter()
    page = write_folder(loaded, tmp / "logs" / "assay_report", redactor=Redactor())
    built = time.perf_counter() - t0
    opened = open_times(page, repeats)
    three = open_times(page.with_name("report.html"), repeats, fragment="#r0,r1,r2")
    everything = write_report(loaded, tmp / "all.html", redactor=Redactor())
    baseline = open_times(everything, 1)
    print(f"## index of a folder of {runs} runs x {n:,} samples, target < {INDEX_TARGET_S:.0f} s to open\n")
    print("| measure | value |")
    print("|---|---|")
    print(f"| `write_folder` (every run read, checked and written) | {built:.2f} s |")
    print(f"| index.html size | {page.stat().st_size / 1e3:.0f} kB |")
    print(f"| open index → ready (median of {len(opened)}) | {median(opened):.2f} s |")
    print(f"| open 3 of them side by side from the index (median of {len(three)}) | {median(three):.2f} s |")
    print(f"| baseline: one file with all {runs} runs side by side "
          f"({everything.stat().st_size / 1e6:.1f} MB) → ready | {median(baseline):.2f} s |")
    verdict = "PASS" if median(opened) < INDEX_TARGET_S else "FAIL"
    print(f"\n{verdict}: index of {runs} runs ready in {median(opened):.2f} s (target < {INDEX_TARGET_S:.0f} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=10_000, help="samples per run")
    parser.add_argument("--runs", type=int, default=3, help="runs compared in one report")
    parser.add_argument("--index-runs", type=int, default=30, help="runs in the folder the index covers (0: skip)")
    parser.add_argument("--index-samples", type=int, default=500, help="samples per run in that folder")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"Chromium {CHROMIUM}; charts: SVG drawn by the page's own script "
          f"(charts.js, {chart_code_bytes() / 1e3:.1f} kB unminified)\n")
    with tempfile.TemporaryDirectory() as tmp:
        comparison(Path(tmp) / "cmp", args.n, args.runs, args.repeats)
        if args.index_runs:
            index(Path(tmp) / "index", args.index_runs, args.index_samples, args.repeats)
    return 0


def chart_code_bytes() -> int:
    from importlib import resources

    return len(resources.files("assay.report").joinpath("assets", "charts.js").read_bytes())


if __name__ == "__main__":
    sys.exit(main())
