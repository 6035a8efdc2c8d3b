"""Progress while a run goes: a rich bar per task on a terminal, a few plain lines otherwise."""

from __future__ import annotations

import time
from typing import Any, TextIO


class PlainProgress:
    """For logs and CI: one line per task at each quarter, and when it finishes."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._totals: dict[str, int] = {}
        self._done: dict[str, int] = {}
        self._errors: dict[str, int] = {}
        self._started = time.monotonic()

    def start(self, totals: dict[str, int]) -> None:
        self._totals = dict(totals)
        self._done = dict.fromkeys(totals, 0)
        self._errors = dict.fromkeys(totals, 0)
        self._started = time.monotonic()

    def advance(self, task: str, *, error: bool) -> None:
        self._done[task] += 1
        self._errors[task] += int(error)
        done, total = self._done[task], self._totals[task]
        if done == total or (total >= 8 and done % max(total // 4, 1) == 0):
            rate = sum(self._done.values()) / max(time.monotonic() - self._started, 1e-9)
            print(f"{task}: {done}/{total} done, {self._errors[task]} errors, {rate:.1f} req/s",
                  file=self._stream, flush=True)

    def stop(self) -> None:
        return None


class RichProgress:
    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:.1f} req/s"),
            TextColumn("[red]{task.fields[errors]} errors"),
            TimeElapsedColumn(),
            console=Console(file=stream),
            transient=False,
        )
        self._ids: dict[str, Any] = {}
        self._errors: dict[str, int] = {}
        self._started = time.monotonic()
        self._done = 0

    def start(self, totals: dict[str, int]) -> None:
        self._started = time.monotonic()
        for task, total in totals.items():
            self._ids[task] = self._progress.add_task(task, total=total, rate=0.0, errors=0)
            self._errors[task] = 0
        self._progress.start()

    def advance(self, task: str, *, error: bool) -> None:
        self._done += 1
        self._errors[task] += int(error)
        rate = self._done / max(time.monotonic() - self._started, 1e-9)
        self._progress.update(self._ids[task], advance=1, rate=rate, errors=self._errors[task])

    def stop(self) -> None:
        self._progress.stop()


def make_progress(stream: TextIO) -> PlainProgress | RichProgress:
    return RichProgress(stream) if stream.isatty() else PlainProgress(stream)
