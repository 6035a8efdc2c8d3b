"""The report in a real headless browser (Debian's Chromium, driven by Playwright), opened from disk:
metrics shown, filters working, thumbnails rendered, comparison deltas and disagreements, no console
errors and no request leaving the file system. A screenshot is kept in test-artifacts/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assay.env.redaction import Redactor
from assay.report import write_report
from assay.sinks import view
from assay.sinks.rundir import load_run
from tests.sinks_support import answer_a, make_run

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
HOSTILE = "</script><script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"

playwright_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).is_file():  # pragma: no cover - CI installs it (.ci/run)
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)


def answer_hostile(body: dict[str, Any]) -> str:
    answer = answer_a(body)
    return "green" if answer == "red" else f"{answer} {HOSTILE}"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("browser-runs")
    return make_run(root / "a", bootstrap_iters=200), make_run(root / "b", answer=answer_hostile)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield instance
        instance.close()


class Page:
    """A report opened in a fresh page; every console message, page error and request is recorded."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 6000})
        self.console: list[tuple[str, str]] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.console.append(("pageerror", str(e))))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(path.as_uri())
        self.page.wait_for_selector("body[data-ready='1']", timeout=20_000)

    def select(self, selector: str, value: str) -> None:
        self.page.select_option(selector, value)

    def cards(self) -> list[dict[str, Any]]:
        return self.page.eval_on_selector_all(
            "#samples article.sample",
            "els => els.map(e => ({task: e.dataset.task, doc: e.dataset.doc,"
            " chips: Array.from(e.querySelectorAll('.chip')).map(c => c.textContent)}))")

    def count_text(self) -> str:
        return str(self.page.inner_text("#pager-top .count"))

    def wait_for_images(self) -> list[list[Any]]:
        self.page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=10_000)
        return self.page.evaluate("Array.from(document.images).map(i => [i.getAttribute('src'), i.naturalWidth])")

    def errors(self) -> list[tuple[str, str]]:
        return [m for m in self.console if m[0] in ("error", "pageerror")]


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
    assert all(src.endswith(".jpg") for src, _ in images)

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
