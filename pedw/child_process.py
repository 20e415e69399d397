"""Processes pedw starts (brief workers, a run's step processes): how many cores they may
use, and ending with the process that started them."""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import subprocess
import sys

PR_SET_PDEATHSIG = 1


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity on Linux, e.g. a container's share;
    the machine's count elsewhere)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def die_with_parent() -> None:
    """Ask Linux to kill this process when the one that started it dies: a brief worker or a
    step process of a killed run must not go on writing to the store behind it. A no-op in a
    main process and off Linux (there, workers end when their queue closes)."""
    if multiprocessing.parent_process() is None:
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


# How long a process group (`pedw ui`'s `dagster dev`: webserver, daemon, code server) gets to stop after a stop signal
# before its whole process group is killed.
STOP_GRACE_SECONDS = 20.0


def run_process_group(command: list[str], **options) -> int:
    """Run `command` in a process group of its own until it ends, or until this process gets
    SIGINT or SIGTERM: then the group is asked to stop (SIGTERM) and, after
    STOP_GRACE_SECONDS, killed, so no child (webserver, daemon, code server) outlives it."""
    process = subprocess.Popen(command, start_new_session=True, **options)
    stopping: list[int] = []

    def _stop(number: int, _frame) -> None:
        stopping.append(number)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)

    previous = {n: signal.signal(n, _stop) for n in (signal.SIGINT, signal.SIGTERM)}
    try:
        while process.poll() is None and not stopping:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.5)
        if stopping:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=STOP_GRACE_SECONDS)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever of the group is left
        process.wait()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if stopping:
        print(f"pedw: stopped ({signal.Signals(stopping[0]).name})", file=sys.stderr)
        return 0
    return process.returncode
