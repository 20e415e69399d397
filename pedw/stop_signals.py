"""SIGINT and SIGTERM during a run: noted whoever handles them, so that a run asked to stop
publishes nothing new.

Libraries that execute steps (Dagster among them) install their own handlers while they run
and turn the signal into an error inside the step, after which the caller would carry on.
Signals are therefore also watched through the interpreter's wakeup file descriptor, which
every Python-level handler writes to: whoever handled the signal, `received` tells the runner
to stop before its next stage. Outside such libraries, the signal raises KeyboardInterrupt
(SIGTERM too, so the run cleans up rather than dies). Once a stop is asked for, what the
libraries print to the terminal while unwinding is dropped: the reader gets one line from the
runner, not their tracebacks (the run's own logs keep everything).
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import threading
from types import FrameType

WATCHED = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """Context manager: watch SIGINT and SIGTERM while a run executes (main thread only;
    elsewhere it watches nothing)."""

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        self._previous: dict = {}
        self._pipe: tuple[int, int] | None = None
        self._previous_fd = -1
        self._stderr = None

    @property
    def name(self) -> str:
        return self.received.name if self.received else ""

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is not threading.main_thread():
            return self
        read, write = os.pipe()
        os.set_blocking(write, False)
        self._pipe = (read, write)
        self._previous_fd = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
        for number in WATCHED:
            self._previous[number] = signal.signal(number, self._raise)
        threading.Thread(target=self._watch, name="pedw-stop-signals", daemon=True).start()
        return self

    def __exit__(self, *_exc) -> None:
        if self._pipe is None:
            return
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        signal.set_wakeup_fd(self._previous_fd)
        read, write = self._pipe
        self._pipe = None
        os.close(write)  # ends the watcher's read
        with contextlib.suppress(OSError):
            os.close(read)
        if self._stderr is not None:
            sys.stderr = self._stderr

    def _raise(self, number: int, _frame: FrameType | None) -> None:
        self._note(number)
        raise KeyboardInterrupt

    def _watch(self) -> None:
        read = self._pipe[0] if self._pipe else -1
        with contextlib.suppress(OSError):
            while data := os.read(read, 64):
                for number in data:
                    if number in WATCHED:
                        self._note(number)

    def _note(self, number: int) -> None:
        if self.received is None:
            self.received = signal.Signals(number)
            self._stderr, sys.stderr = sys.stderr, io.StringIO()  # the unwinding, unprinted
