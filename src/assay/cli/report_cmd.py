"""`assay report RUN [RUN...]`: one self-contained HTML file for a run, or several runs side by side."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from assay.errors import UsageError

if TYPE_CHECKING:
    from assay.env.redaction import Redactor
    from assay.env.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    a = parser.add_argument
    a("runs", nargs="+", metavar="RUN",
      help="a *_results.json file or the folder `assay run` wrote (its newest run); several to compare them")
    a("--run", dest="run_ids", action="append", metavar="ID",
      help="which run of a folder (repeatable: one per RUN, in order)")
    a("--output", "-o", metavar="PATH",
      help="where to write the HTML (default: beside the first run, {run_id}_report.html)")
    a("--title", help="the report's title (default: the model and run id)")


def run(args: argparse.Namespace, settings: Settings, redactor: Redactor) -> int:
    from assay.report import write_report
    from assay.sinks.rundir import find_run

    ids = list(args.run_ids or [])
    if len(ids) > len(args.runs):
        raise UsageError(f"{len(ids)} --run ids for {len(args.runs)} RUN arguments",
                         hint="give one --run per RUN folder, in the same order")
    ids += [None] * (len(args.runs) - len(ids))
    runs = [find_run(path, run_id) for path, run_id in zip(args.runs, ids, strict=True)]
    seen = [r.results_path.resolve() for r in runs]
    if len(set(seen)) != len(seen):
        raise UsageError("the same run is given twice", hint="pass --run ID to pick another run of a folder")
    path = write_report(runs, Path(args.output) if args.output else None, redactor=redactor, title=args.title)
    print(f"report: {path}", file=sys.stdout)
    return 0
