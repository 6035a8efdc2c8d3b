"""`assay report`: a run (one self-contained HTML file), several runs side by side, or a folder of runs
(an index of every run in it, from which any of them open side by side)."""

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
      help="a *_results.json file, or a folder `assay run` wrote (an index of every run in it); "
           "several RUNs: one file comparing them")
    a("--run", dest="run_ids", action="append", metavar="ID",
      help="which run of a folder (repeatable: one per RUN, in order); without it a folder gets an index")
    a("--output", "-o", metavar="PATH",
      help="where to write: the HTML file (default: beside the first run, {run_id}_report.html), or for a "
           "folder of runs the report folder (default: FOLDER/assay_report/)")
    a("--title", help="the report's title (default: the model and its provider)")


def run(args: argparse.Namespace, settings: Settings, redactor: Redactor) -> int:
    from assay.report import write_report
    from assay.sinks.rundir import find_run

    ids = list(args.run_ids or [])
    if len(ids) > len(args.runs):
        raise UsageError(f"{len(ids)} --run ids for {len(args.runs)} RUN arguments",
                         hint="give one --run per RUN folder, in the same order")
    if len(args.runs) == 1 and not ids and Path(args.runs[0]).expanduser().is_dir():
        return _folder(Path(args.runs[0]).expanduser(), args, redactor)
    ids += [None] * (len(args.runs) - len(ids))
    runs = [find_run(path, run_id) for path, run_id in zip(args.runs, ids, strict=True)]
    seen = [r.results_path.resolve() for r in runs]
    if len(set(seen)) != len(seen):
        raise UsageError("the same run is given twice", hint="pass --run ID to pick another run of a folder")
    path = write_report(runs, Path(args.output) if args.output else None, redactor=redactor, title=args.title)
    print(f"report: {path}", file=sys.stdout)
    return 0


def _folder(folder: Path, args: argparse.Namespace, redactor: Redactor) -> int:
    """Every run in ``folder`` into a report folder; a run that cannot be read is named and left out."""
    from assay.errors import AssayError
    from assay.report.folder import DEFAULT_NAME, write_folder
    from assay.sinks.rundir import list_runs, load_run

    found = list_runs(folder)
    if not found:
        raise UsageError(f"no run found in {folder} (no *_results.json file in it or its subfolders)",
                         hint="pass the folder --output_path wrote (e.g. ./logs) or a *_results.json file")
    runs = []
    for path in found:
        try:
            runs.append(load_run(path))
        except AssayError as exc:
            print(redactor.redact(f"warning: left out of the index: {exc.message}"), file=sys.stderr)
    if not runs:
        raise UsageError(f"no run in {folder} could be read", hint="see the warnings above")
    output = Path(args.output).expanduser() if args.output else folder / DEFAULT_NAME
    index = write_folder(runs, output, redactor=redactor, title=args.title)
    print(f"report: {index} ({len(runs)} runs)", file=sys.stdout)
    return 0
