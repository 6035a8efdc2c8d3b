"""Shared pieces of the report's browser tests: Debian's Chromium driven by Playwright (skipping the module
where either is missing), a page that records its console, errors and requests with the network off,
screenshots under test-artifacts/ (git-ignored), and finished runs to compare."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.report_support import metric, write_run
from tests.report_support import record as sample

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

playwright_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).is_file():  # pragma: no cover - CI installs it (.ci/run)
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield instance
        instance.close()


class Page:
    """A report opened in a fresh page; every console message, page error and request is recorded."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 6000}, offline=True)  # network off
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
        self.page.wait_for_function("() => Array.from(document.images).every(i => i.complete)", timeout=10_000)
        return self.page.evaluate("Array.from(document.images).map(i => [i.getAttribute('src'), i.naturalWidth])")

    def errors(self) -> list[tuple[str, str]]:
        return [m for m in self.console if m[0] in ("error", "pageerror")]


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def chart_bars(page: Page, selector: str = "#metric-chart rect.bar") -> list[dict[str, str]]:
    return page.page.eval_on_selector_all(
        selector, "els => els.map(e => ({group: e.dataset.group, run: e.dataset.run, value: e.dataset.value}))")


def paired_runs(root: Path) -> list[Path]:
    """Three runs over the same 20 docs: run 2 wrong on 15 of run 1's right answers, run 3 on one."""
    out = []
    for n, wrong in enumerate((set(), set(range(15)), {0})):
        recs = [sample("t", i, "no" if i in wrong else "yes", {"acc": 0.0 if i in wrong else 1.0},
                       cached=i % 4 == 0, judge={"status": "ok", "judgements": [{"ok": True, "value": i % 3 + 3}]})
                for i in range(20)]
        acc = 1 - len(wrong) / 20
        task = {"metrics": {"acc": metric(acc, 20, stderr=0.05)}, "usage": {"input_tokens": 150, "output_tokens": 30},
                "usage_from_cache": {"input_tokens": 50, "output_tokens": 10}}
        price = {"input_per_mtok": 2.0, "output_per_mtok": 8.0}
        out.append(write_run(root, f"model-{n}", {"t": task}, recs, timestamp=f"20260102_03040{n}",
                             media={i: (200, 40 * n, 40) for i in range(3)},
                             cost={"total_usd": 0.0004, "model": {"price": price}}))
    return out
