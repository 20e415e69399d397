"""Processes pedw starts (brief workers, a run's step processes): how many cores they may
use, and ending with the process that started them."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal

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
