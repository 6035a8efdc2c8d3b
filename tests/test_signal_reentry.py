"""A stop signal landing while the run's signal block is ending — inside the watchdog event's set(), which
holds that event's lock — must not deadlock the process: the handler ignores it (the run has ended). The
signal soak once caught a process hung there, a second signal landing in that instant."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import os, signal, threading

    made = []
    class SignalInsideSet(threading.Event):
        # The first event stop_on_signals makes is the watchdog's `forced`: while its set() holds the
        # event's lock, a SIGTERM arrives (its handler runs at the next bytecode, on this thread).
        def __init__(self):
            super().__init__()
            made.append(self)

        def set(self):
            with self._cond:
                if self is made[0] and not getattr(self, "fired", False):
                    self.fired = True
                    os.kill(os.getpid(), signal.SIGTERM)
                    sum(range(1000))  # bytecodes for the handler to run between
                self._flag = True
                self._cond.notify_all()

    threading.Event = SignalInsideSet
    from assay.cli.signals import stop_on_signals
    from assay.run import RunControl

    control = RunControl()
    with stop_on_signals(control):
        control.request_stop("SIGINT", signal.SIGINT)  # the run was asked to stop: a second signal "forces"
    print("ended")
""")


def test_a_signal_while_the_block_ends_does_not_deadlock() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ended" and "Traceback" not in done.stderr
