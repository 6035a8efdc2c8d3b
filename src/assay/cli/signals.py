"""SIGINT, SIGTERM and SIGHUP end `assay run` gracefully, nothing can stop the results write, and a
second signal always ends the process.

A handler that raises (Python's default ``KeyboardInterrupt``) lands wherever the main thread happens to
be: inside the event loop's bookkeeping, a sample write, or the results write itself — and a second signal
a few milliseconds later lands inside the clean-up of the first. So the handlers here never raise. The
first signal asks the run to stop (:class:`assay.run.RunControl`: no new request is sent, requests in
flight are abandoned, every finished sample is already on disk, the results document is written with
status ``interrupted``); a further signal says that this is under way and gives it :data:`GRACE_S`
seconds: if the process is still there then (task code that will not return, a thread it left behind),
the results document is written with what is known if it was not yet, and the process ends. Once the
run has ended, stop signals are ignored. The process exits with 128 + the number of the signal that
stopped it, as shells report a death by that signal. (Two signals that arrive together are handled in
signal-number order by CPython, so the one that "came first" is the one with the lower number.)

SIGHUP (the terminal closed) is treated like the others: a run started in a terminal that goes away
still leaves its results. Its message goes to stderr, which may be gone too; that is harmless.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assay.run import RunControl

#: The signals that end a run gracefully (those a platform lacks are skipped).
STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")
#: Seconds a second stop signal leaves the graceful ending before the process is ended.
GRACE_S = 2.0


def _say(text: str) -> None:
    """Write to stderr from a signal handler: one ``write`` call, no locks, no exceptions."""
    with contextlib.suppress(OSError, ValueError):
        os.write(2, text.encode("utf-8", "replace"))


@contextlib.contextmanager
def stop_on_signals(control: RunControl) -> Iterator[None]:
    """While the block runs, a stop signal asks ``control`` to stop the run instead of raising.
    Outside the main thread (where Python delivers no signals) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    forced, ended = threading.Event(), threading.Event()
    _start_watchdog(control, forced, ended, os._exit)  # the real os._exit: task code's is refused in a run
    # Set when the block is over, before the events: a handler runs on the main thread, possibly while it is
    # inside forced.set() below holding the event's lock, and a set() from the handler would then wait for
    # that lock forever (a second signal landing there hung a process; the signal soak caught it).
    closing = False

    def handle(signum: int, frame: FrameType | None) -> None:
        if closing:  # the run has ended: stop signals are ignored from here on
            return
        name = signal.Signals(signum).name
        if control.stop_requested:
            _say(f"\n{name}: already stopping — the results are written first; the process ends within "
                 f"{GRACE_S:g} s\n")
            forced.set()
            return
        _say(f"\n{name}: stopping — no new requests; finished samples are kept and the results written\n")
        control.request_stop(name, signum)

    previous: dict[int, object] = {}
    try:
        for name in STOP_SIGNALS:
            number = getattr(signal, name, None)
            if number is not None:
                previous[number] = signal.signal(number, handle)
        yield
    finally:
        closing = True
        ended.set()  # the graceful ending is over: the watchdog stands down
        forced.set()
        # Once a stop was asked for, later stop signals are ignored for the rest of the process: one arriving
        # while the error is printed, or while the interpreter shuts down (which puts back the default
        # handlers of Python-level ones, but keeps SIG_IGN), must not turn "interrupted by SIGINT, results
        # written, exit 130" into a death by SIGTERM. Otherwise the previous handlers come back.
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_IGN if control.stop_requested else handler)  # type: ignore[arg-type]


def _start_watchdog(control: RunControl, forced: threading.Event, ended: threading.Event,
                    exit_now: Callable[[int], object]) -> None:
    """A daemon thread that, :data:`GRACE_S` after a second signal, writes what it can and ends the process
    (started up front: starting a thread inside a signal handler could deadlock on the threading locks)."""

    def watch() -> None:
        forced.wait()
        if not ended.is_set() and not ended.wait(GRACE_S):
            with contextlib.suppress(Exception):
                control.force()  # the results document, if the graceful ending had not written it yet
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            exit_now(128 + (control.signum or signal.SIGTERM))

    threading.Thread(target=watch, name="assay-stop-watchdog", daemon=True).start()


def leave_now_if_threads_linger(code: int) -> None:
    """For the end of an `assay` process: task code may have left non-daemon threads running, which would
    keep the process alive after its results are written. Then end it now, with the command's exit code."""
    main = threading.main_thread()
    if any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate()):
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def ignore_stop_signals() -> None:
    """For the last moments of an `assay` process whose command has finished: everything is written and
    the exit code is decided, so a stop signal arriving now (during interpreter shutdown, where Python's
    default SIGINT handler would print a KeyboardInterrupt traceback over a finished run) is ignored."""
    if threading.current_thread() is not threading.main_thread():
        return
    for name in STOP_SIGNALS:
        number = getattr(signal, name, None)
        if number is not None:
            signal.signal(number, signal.SIG_IGN)
