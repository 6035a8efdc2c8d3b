"""The report in a real headless browser (Debian's Chromium, driven by Playwright), opened from disk with
the network off: header, charts that match the tables, filters, embedded thumbnails that survive a move,
comparison deltas with their significance, judge verdicts, per-sample scores, pages with non-numbers; no
console errors, no request leaving the file system. Screenshots are kept in test-artifacts/ (git-ignored).
The index of a folder of runs and audio: test_report_index_browser.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assay.env.redaction import Redactor
from assay.report import write_report
from assay.sinks import view
from assay.sinks.rundir import load_run
from tests.browser_support import ARTIFACTS, Page, browser, chart_bars, paired_runs, shot
from tests.report_support import metric, write_run
from tests.report_support import record as sample
from tests.sinks_support import answer_a, make_run

__all__ = ["browser"]  # the fixture, used by name
HOSTILE = "</script><script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"


def answer_hostile(body: dict[str, Any]) -> str:
    answer = answer_a(body)
    return "green" if answer == "red" else f"{answer} {HOSTILE}"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("browser-runs")
    return make_run(root / "a", bootstrap_iters=200), make_run(root / "b", answer=answer_hostile)


def _states(results_path: Path) -> dict[tuple[str, int], str]:
    run = load_run(results_path)
    out = {}
    for task in run.samples:
        metric, higher = view.primary_metric(run.results["results"][task])
        for record in run.iter_samples(task):
            out[(task, record["doc_id"])] = view.state_of(record, metric, higher)
    return out


def test_one_run_opens_offline_shows_metrics_filters_and_images(runs: tuple[Path, Path], browser: Any) -> None:
    first = runs[0]
    html = write_report([load_run(first)], redactor=Redactor())
    page = Page(browser, html)
    results = load_run(first).results["results"]
    table = page.page.inner_text("#task-table")
    for task in ("assay_arith_mc", "assay_colors"):
        value = results[task]["metrics"]["exact_match"]["value"]
        assert f"{value:.4f}" in table
    assert "arithmetic (multiple choice)" in table and "counting and naming coloured shapes" in table
    low, high = results["assay_colors"]["metrics"]["exact_match"]["ci95"]
    assert f"95% CI [{low:.4f}, {high:.4f}]" in table  # --bootstrap_iters 200
    assert page.count_text().startswith("samples 1–12 of 12")
    usage = page.page.inner_text("#usage-table")
    assert "132" in usage and "36" in usage  # 12 answers × 11 input / 3 output tokens from the loopback model
    assert "no price known" in usage  # model "m" has no price: said so, not $0

    page.select("#f-task", "1")  # assay_colors
    cards = page.cards()
    assert len(cards) == 6 and {c["task"] for c in cards} == {"assay_colors"}
    images = page.wait_for_images()
    assert len(images) == 6 and all(width > 0 for _, width in images)
    assert all(src.startswith("data:image/jpeg;base64,") for src, _ in images)  # embedded, no file needed

    states = _states(first)
    correct = sum(1 for (task, _), s in states.items() if task == "assay_colors" and s == "correct")
    page.select("#f-state", "correct")
    cards = page.cards()
    assert len(cards) == correct and all(c["chips"] == ["correct"] for c in cards)
    page.select("#f-state", "")
    page.page.fill("#f-text", "triangles")
    page.page.wait_for_timeout(400)  # the search box is debounced
    assert all(c["task"] == "assay_colors" for c in page.cards()) and page.cards()

    ARTIFACTS.mkdir(exist_ok=True)
    page.page.fill("#f-text", "")
    page.page.wait_for_timeout(400)
    page.page.set_viewport_size({"width": 1280, "height": 1600})
    page.page.screenshot(path=str(ARTIFACTS / "report.png"))
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000
    assert page.errors() == []
    assert all(url.startswith("file://") for url in page.requests), page.requests
    page.page.close()


def test_comparison_shows_deltas_and_the_samples_where_runs_disagree(runs: tuple[Path, Path], browser: Any,
                                                                   tmp_path: Path) -> None:
    html = write_report([load_run(p) for p in runs], tmp_path / "compare.html", redactor=Redactor())
    page = Page(browser, html)
    header = page.page.inner_text("#task-table thead")
    assert "run 1" in header and "run 2" in header and "Δ run 2 − run 1" in header
    a, b = (_states(p) for p in runs)
    disagree = sorted(k for k in a if a[k] != b[k])
    assert disagree  # the two runs answer colour questions differently
    page.page.check("#f-disagree")
    cards = page.cards()
    assert sorted((c["task"], int(c["doc"])) for c in cards) == disagree
    for card in cards:
        assert len(set(chip.split(": ")[1] for chip in card["chips"])) == 2
    # A hostile answer is shown as text, never run as markup.
    page.page.uncheck("#f-disagree")
    assert HOSTILE in page.page.inner_text("#samples")
    assert page.page.title() != "pwned" and not page.dialogs
    assert page.errors() == []
    assert all(url.startswith("file://") for url in page.requests)
    page.page.close()


def test_header_and_chart_say_what_was_run_and_match_the_table(runs: tuple[Path, Path], browser: Any,
                                                               tmp_path: Path) -> None:
    first = load_run(runs[0])
    html = write_report([first], tmp_path / "one.html", redactor=Redactor())
    page = Page(browser, html)
    header = page.page.inner_text("header")
    assert page.page.inner_text("h1") == "m (openai_compatible)"  # model and provider, the run id said once
    assert header.count(first.run_id) == 1
    started = first.results["timing"]["started_at"][:19].replace("T", " ")
    assert f"started {started} UTC" in header  # to the second, no microseconds
    assert "complete" in header and "judge: none" in header and "assay 0.1.0" in header
    assert "tasks: assay_arith_mc v" in header and "took " in header
    results = first.results["results"]
    bars = chart_bars(page)
    assert len(bars) == 2
    for bar, task in zip(bars, ("assay_arith_mc", "assay_colors"), strict=True):
        assert bar["value"] == f"{results[task]['metrics'][view.primary_metric(results[task])[0]]['value']:.4f}"
    assert page.page.locator("#metric-chart line.whisker[data-low]").count() == 2  # bootstrap CIs drawn
    breakdown = page.page.inner_text("#breakdown-table")
    assert "66 / 18" in breakdown  # per task: 6 answers x 11 input / 3 output tokens, all paid
    shot(page, "report-single.png")
    assert page.errors() == [] and all(url.startswith("file://") for url in page.requests)
    page.page.close()


def test_a_moved_report_keeps_every_image(runs: tuple[Path, Path], browser: Any, tmp_path: Path) -> None:
    html = write_report([load_run(runs[0])], tmp_path / "a" / "r.html", redactor=Redactor())
    moved = tmp_path / "elsewhere" / "renamed.html"
    moved.parent.mkdir()
    html.rename(moved)
    page = Page(browser, moved)
    page.select("#f-task", "1")
    images = page.wait_for_images()
    assert len(images) == 6 and all(width > 0 for _, width in images)
    assert page.errors() == []
    page.page.close()


def test_comparison_draws_grouped_bars_paired_significance_judge_verdicts_and_cost(browser: Any,
                                                                                  tmp_path: Path) -> None:
    from math import comb

    paths = paired_runs(tmp_path)
    html = write_report([load_run(p) for p in paths], tmp_path / "three.html", redactor=Redactor())
    page = Page(browser, html)
    bars = chart_bars(page)
    assert [b["value"] for b in bars] == ["1.0000", "0.2500", "0.9500"]  # one bar per run, as in the table
    table = page.page.inner_text("#task-table")
    assert "1.0000" in table and "0.2500" in table and "0.9500" in table
    rows = page.page.eval_on_selector_all("#deltas-table tbody tr",
                                          "rs => rs.map(r => Array.from(r.cells).map(c => c.textContent))")
    p15 = 2 * comb(15, 0) / 2 ** 15  # exact two-sided sign test: 0 of the 15 docs that differ went up
    assert rows[0][2:7] == ["-0.7500", "20", "0", "15", "5"]
    assert rows[0][7].endswith(" *") and float(rows[0][7][:-2]) == pytest.approx(p15, rel=0.05)
    assert rows[1][2:] == ["-0.0500", "20", "0", "1", "19", "1.0000"]  # one doc: no significance
    counts = page.page.eval_on_selector_all("#judge rect.bin",
                                            "els => els.map(e => [e.dataset.bin, e.dataset.run, e.dataset.value])")
    assert sorted({c[0] for c in counts}) == ["3", "4", "5"]
    assert all(c[2] == {"3": "7", "4": "7", "5": "6"}[c[0]] for c in counts)  # values 3,4,5 cycling over 20 docs
    judge_table = page.page.inner_text(".judge-table")
    assert "7" in judge_table and "6" in judge_table
    paid = page.page.eval_on_selector_all("#cost-chart rect.part-paid", "els => els.map(e => Number(e.dataset.value))")
    assert paid == [pytest.approx((150 * 2 + 30 * 8) / 1e6)] * 3  # tokens x the run's price, per task
    assert page.page.locator("#breakdown-table td.cost-paid").all_inner_texts() == ["$0.0005"] * 3
    time_parts = page.page.eval_on_selector_all("#time-chart rect.part", "els => els.map(e => e.dataset.value)")
    assert time_parts == ["7.5", "2.5"] * 3  # 15 paid and 5 cached answers of 0.5 s each, as the table says
    assert page.page.locator("#breakdown-table td.time-paid").all_inner_texts() == ["7.5 s"] * 3
    assert page.page.locator("#breakdown-table td.time-cached").all_inner_texts() == ["2.5 s"] * 3
    page.select("#f-task", "0")
    scores = page.page.eval_on_selector_all("#samples article.sample:first-child .score",
                                            "els => els.map(e => e.textContent)")
    assert scores == ["acc = 1.0000", "acc = 0.0000", "acc = 0.0000"]  # doc 0: right in run 1, wrong in 2 and 3
    verdict = page.page.inner_text("#samples article.sample:first-child .verdict")
    assert verdict == "judge verdict: 3"
    shot(page, "report-compare-3.png")
    assert page.errors() == []
    page.page.close()


def test_a_page_of_non_numbers_renders(browser: Any, tmp_path: Path) -> None:
    nan, inf = float("nan"), float("inf")
    recs = [sample("t", i, "yes", {"acc": [nan, inf, "x"][i]}, latency_s=[nan, inf, -inf][i]) for i in range(3)]
    recs.append(sample("t", 3, None, None, target="", error={"type": "server", "message": "HTTP 500", "status": 500,
                                                             "attempts": 3}))  # no answer, no score, no target
    path = write_run(tmp_path, "m", {"t": {"metrics": {"acc": metric(nan, 3, stderr=inf, ci95=[-inf, nan])},
                                           "n_samples": 3, "n_errors": 0, "n_cached": 0,
                                           "usage": {"input_tokens": 1, "output_tokens": 1}}},
                     recs, timing={"started_at": "2026-01-02T03:04:05+00:00", "wall_s": nan},
                     cost={"total_usd": inf, "max_cost": nan, "cap_reached": False},
                     model_stats={"requests": 3, "retries": 0}, usage={"input_tokens": 3, "output_tokens": 3})
    html = write_report([load_run(path)], tmp_path / "nan.html", redactor=Redactor())
    page = Page(browser, html)
    assert page.errors() == []
    assert "NaN" in page.page.inner_text("#task-table")
    assert "Infinity" in page.page.inner_text("#usage-table")
    assert page.count_text().startswith("samples 1–4 of 4")
    assert "server: HTTP 500" in page.page.inner_text("#samples")
    shot(page, "report-non-numbers.png")
    page.page.close()


def test_mme_style_scores_are_shown_per_sample_and_counted_as_in_the_table(browser: Any, tmp_path: Path) -> None:
    recs = [sample("mme", i, "Yes", {("mme_cognition_score" if i < 4 else "mme_perception_score"):
                                         {"question_id": f"q{i}", "category": "code", "score": float(i % 2)}})
            for i in range(10)]
    path = write_run(tmp_path, "m", {"mme": {"metrics": {"mme_perception_score": metric(66.7, 6),
                                                         "mme_cognition_score": metric(50.0, 4)}}}, recs)
    page = Page(browser, write_report([load_run(path)], tmp_path / "mme.html", redactor=Redactor()))
    table = page.page.inner_text("#task-table")
    assert "n=4" in table and "n=6" in table
    assert page.page.locator(".score[data-metric='mme_cognition_score']").count() == 4
    assert page.page.locator(".score[data-metric='mme_perception_score']").count() == 6
    chips = [c["chips"][0] for c in page.cards()]
    assert chips == ["wrong", "correct"] * 5  # every doc's own outcome, whichever metric scored it
    assert page.errors() == []
    page.page.close()


def test_a_part_that_cannot_be_drawn_is_named_and_the_rest_still_renders(runs: tuple[Path, Path], browser: Any,
                                                                          tmp_path: Path) -> None:
    from assay.report.page import embedded_json

    html = write_report([load_run(runs[0])], tmp_path / "r.html", redactor=Redactor())
    text = html.read_text()
    head, rest = text.split('type="application/json">', 1)
    data, tail = rest.split("</script>", 1)
    payload = json.loads(data)
    payload["runs"][0]["tasks"][0]["result"]["metrics"] = None  # a shape no reader of ours writes
    html.write_text(head + 'type="application/json">' + embedded_json(payload) + "</script>" + tail)
    page = Page(browser, html)
    banner = page.page.inner_text("main > p.error-text")
    assert "could not be drawn" in banner
    assert page.count_text().startswith("samples 1–12 of 12")  # the samples are all there
    assert "usage-table" in page.page.content()
    page.page.close()
