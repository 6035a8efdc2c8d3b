"""The report folder in a real headless browser: the index of a folder of 30 runs (sort, filter, open three
side by side, moved elsewhere first), and audio clips that play from inside a moved page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assay.env.redaction import Redactor
from assay.report import write_report
from assay.sinks.rundir import load_run
from tests.browser_support import Page, browser, chart_bars, paired_runs, shot
from tests.report_support import metric, write_run
from tests.report_support import record as sample
from tests.sinks_support import make_run

__all__ = ["browser"]  # the fixture, used by name


def test_index_of_a_folder_of_runs_sorts_filters_and_opens_three_side_by_side(browser: Any, tmp_path: Path) -> None:
    from assay.report.folder import write_folder

    logs = tmp_path / "logs"
    paired_runs(logs)
    for n in range(27):  # 30 runs in all: models, statuses, one without samples
        write_run(logs, f"other-{n:02d}", {"t": {"metrics": {"acc": metric(n / 30, 5)}}},
                  [sample("t", i, "yes", {"acc": 1.0}) for i in range(5)], timestamp=f"20260101_0000{n:02d}",
                  log_samples=n != 5, status="failed" if n == 7 else "complete",
                  status_reason="no sample succeeded" if n == 7 else None)
    from assay.sinks.rundir import list_runs

    runs = [load_run(p) for p in list_runs(logs)]
    assert len(runs) == 30
    index = write_folder(runs, logs / "assay_report", redactor=Redactor())
    moved = tmp_path / "moved" / "report"
    moved.parent.mkdir()
    index.parent.rename(moved)  # the folder is one unit: it works wherever it is
    page = Page(browser, moved / "index.html")
    table = "#index-table tbody tr"
    assert page.page.locator(table).count() == 30
    assert page.page.inner_text(f"{table}:first-child td:nth-child(3)").startswith("model-2")  # newest first
    page.page.click("#index-table th[data-key='model']")
    assert page.page.inner_text(f"{table}:first-child td:nth-child(3)").startswith("model-0")
    assert "no samples logged" in page.page.inner_text("#index-table")
    page.select("#i-status", "failed")
    assert page.page.locator(table).count() == 1
    assert "no sample succeeded" in page.page.inner_text(table)
    page.select("#i-status", "")
    page.page.fill("#i-text", "model-")
    page.page.wait_for_timeout(300)
    assert page.page.locator(table).count() == 3
    shot(page, "report-index.png")
    for box in page.page.locator(f"{table} input.pick").all():
        box.check()
    page.page.click("#open-selected")
    page.page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    assert page.page.evaluate("window.assayReport.runs") == 3
    assert [b["value"] for b in chart_bars(page)] == ["1.0000", "0.2500", "0.9500"]
    images = page.wait_for_images()
    assert len(images) == 3 and all(width > 0 for _, width in images)
    assert page.errors() == [] and all(url.startswith("file://") for url in page.requests)
    shot(page, "report-index-compare.png")
    page.page.close()


def test_audio_clips_play_from_inside_the_page(browser: Any, tmp_path: Path) -> None:
    """A sample's audio parts are described; a clip saved as media of kind "audio" is embedded and plays."""
    import wave

    path = write_run(tmp_path, "m", {"t": {"metrics": {"acc": metric(1.0, 1)}}}, [])
    clip = path.parent / f"{path.name[:-13]}_media" / "clip.wav"
    clip.parent.mkdir(exist_ok=True)
    with wave.open(str(clip), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(b"\x00\x10" * 8_000)  # half a second
    samples = path.parent / f"{path.name[:-13]}_samples_t.jsonl"
    rec = sample("t", 0, "seven", {"acc": 1.0}, media=[{"kind": "audio", "path": f"{clip.parent.name}/clip.wav"}],
                 audio=[{"format": "wav", "duration_s": 0.5, "sample_rate": 16_000, "sha256": "ab" * 32}])
    samples.write_text(json.dumps(rec) + "\n")
    doc = json.loads(path.read_text())
    doc["files"]["samples"] = {"t": samples.name}
    path.write_text(json.dumps(doc))
    html = write_report([load_run(path)], tmp_path / "elsewhere" / "audio.html", redactor=Redactor())
    page = Page(browser, html)
    assert "audio sent: 0.5 s at 16000 Hz (wav)" in page.page.inner_text("#samples")
    duration = page.page.evaluate("""() => new Promise((ok, fail) => {
        const a = document.querySelector('#samples audio');
        a.addEventListener('loadedmetadata', () => ok(a.duration)); a.addEventListener('error', () => fail('error'));
        a.preload = 'metadata'; a.load(); })""")
    assert duration == pytest.approx(0.5, abs=0.01)
    assert page.errors() == [] and all(url.startswith("file://") for url in page.requests)
    page.page.close()


def test_a_real_audio_run_plays_its_clips_in_the_report(browser: Any, tmp_path: Path) -> None:
    """assay_spoken_digits with --log_media: each clip sent is saved as wav and plays from the report."""
    pytest.importorskip("soundfile")
    pytest.importorskip("soxr")
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:  # the run's own event loop, away from the browser driver's
        path = pool.submit(make_run, tmp_path / "audio", tasks="assay_spoken_digits", limit=2,
                           answer=lambda body: "0 8 1").result()
    run = load_run(path)
    records = sorted(run.iter_samples("assay_spoken_digits"), key=lambda r: r["doc_id"])  # the page's order
    durations = [r["audio"][0]["duration_s"] for r in records]
    page = Page(browser, write_report([run], tmp_path / "elsewhere" / "digits.html", redactor=Redactor()))
    got = page.page.evaluate("""() => Promise.all(Array.from(document.querySelectorAll('#samples audio')).map(a =>
        new Promise((ok, fail) => {
            a.addEventListener('loadedmetadata', () => ok(a.duration));
            a.addEventListener('error', () => fail('error')); a.preload = 'metadata'; a.load(); })))""")
    assert got == [pytest.approx(d, abs=0.01) for d in durations] and len(got) == 2
    assert page.errors() == []
    shot(page, "report-audio.png")
    page.page.close()
