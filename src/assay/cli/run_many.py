"""A ``--config`` list of runs: each run in order, its own results document, a summary at the end, and the
exit code of the worst run. One run's bad input or failure does not stop the next; a stop signal does."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from assay.errors import AssayError, RunInterrupted

if TYPE_CHECKING:
    from assay.env.redaction import Redactor


def run_all(runs: list[dict[str, Any]], run_one: Callable[[dict[str, Any]], int], redactor: Redactor) -> int:
    from assay.cli._entry import print_error

    outcomes: list[tuple[str, int]] = []
    for position, values in enumerate(runs, start=1):
        label = f"run {position} of {len(runs)}: --model {values.get('model')} --tasks {values.get('tasks')}"
        print(redactor.redact(f"== {label}"), file=sys.stderr)
        try:
            code = run_one(values)
        except RunInterrupted as exc:  # the user asked to stop: not only this run
            print_error(exc.message, exc.hint, False, redactor)
            outcomes.append((label, exc.exit_code))
            break
        except AssayError as exc:
            print_error(exc.message, exc.hint, False, redactor)
            code = exc.exit_code
        outcomes.append((label, code))
    print("\nruns:", file=sys.stderr)
    for label, code in outcomes:
        print(redactor.redact(f"  {'ok' if code == 0 else f'exit {code}'}  {label}"), file=sys.stderr)
    skipped = len(runs) - len(outcomes)
    if skipped:
        print(f"  {skipped} run(s) not started (stopped)", file=sys.stderr)
    return max(code for _, code in outcomes)
